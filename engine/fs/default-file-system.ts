// The file system a database uses when its options name none: the host's. A seam for the browser build,
// whose package.json `browser` field swaps this module for engine/fs/opfs-default-file-system.ts.
import type { FileSystem } from './file-system'
import { PosixFileSystem } from './posix-file-system'

export function defaultFileSystem (): FileSystem {
  return new PosixFileSystem()
}
