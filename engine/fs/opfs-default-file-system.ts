// engine/fs/default-file-system.ts in the browser build (package.json `browser` maps it here): the OPFS pool
// this worker opened (browser.ts's openOpfs), since OPFS can only be opened asynchronously and a
// database's options are read synchronously.
import { notSupported } from '../errors'
import type { FileSystem } from './file-system'

let current: FileSystem | undefined

/** Makes fs the file system of every database opened afterwards without an `fs` of its own. */
export function setDefaultFileSystem (fs: FileSystem | undefined): void {
  current = fs
}

export function defaultFileSystem (): FileSystem {
  if (current === undefined) {
    throw notSupported("No file system yet: in a browser, `await openOpfs()` (from 'rough-level') in a dedicated worker before opening a database")
  }
  return current
}
