// node:fs in the browser build (package.json `browser` maps 'fs' here). engine/fs/descriptor-budget.ts
// imports it to read /proc, which it never does outside Linux's Node; anything else reaching it is a bug
// of the build, reported as such rather than as a missing function.
import { notSupported } from '../errors'

function absent (): never {
  throw notSupported('node:fs is not available in the browser build (use engine/fs/opfs-file-system.ts)')
}

export const readFileSync = absent
export const readdirSync = absent
