// The package's entry in a browser (package.json's `browser` field and `browser` export condition): the
// same RoughLevel, for a dedicated worker, on OPFS. The Node globals that the package still uses are
// installed first (engine/browser/globals.ts); the `browser` field swaps the modules that need Node for
// browser ones (the file system, the lock, the background worker, node:path and the rest: README, "In the
// browser").
import { installGlobals } from './engine/browser/globals'
installGlobals()

// Required after installGlobals (not imported, which would be hoisted above it), so that no module can
// find Buffer or setImmediate missing, even one that reads them as it loads.
const index = require('./index') as typeof import('./index')
const opfs = require('./engine/fs/opfs-file-system') as typeof import('./engine/fs/opfs-file-system')
const defaults = require('./engine/fs/opfs-default-file-system') as typeof import('./engine/fs/opfs-default-file-system')
const server = require('./adapter/browser/server') as typeof import('./adapter/browser/server')
const client = require('./adapter/browser/client') as typeof import('./adapter/browser/client')
const files = require('./adapter/database-files') as typeof import('./adapter/database-files')

export const RoughLevel = index.RoughLevel
export type RoughLevel<K = string, V = string> = import('./index').RoughLevel<K, V>
export type * from './options'
export type { RepairReport, CheckpointReport } from './index'
export const OpfsFileSystem = opfs.OpfsFileSystem
export type OpfsFileSystem = import('./engine/fs/opfs-file-system').OpfsFileSystem
export type { OpfsOptions } from './engine/fs/opfs-file-system'
/** The main-thread facade (README, "In the browser"): serveRoughLevel in the worker, RoughLevelClient on the page. */
export const serveRoughLevel = server.serveRoughLevel
export type { RoughLevelServer } from './adapter/browser/server'
export const RoughLevelClient = client.RoughLevelClient
export type RoughLevelClient<K = string, V = string> = import('./adapter/browser/client').RoughLevelClient<K, V>
export type { PortLike } from './adapter/browser/protocol'
/** A database as LevelDB's files, out of OPFS and in (README, "In the browser"). */
export const exportDatabase = files.exportDatabase
export const importDatabase = files.importDatabase
export type { DatabaseFile } from './adapter/database-files'

/**
 * Opens the OPFS pool (only in a dedicated worker) that every database in this worker then uses, and
 * resolves with it. Close the databases, then the pool (`close()`), to hand the pool to another worker.
 */
export async function openOpfs (options?: import('./engine/fs/opfs-file-system').OpfsOptions): Promise<OpfsFileSystem> {
  const fs = await opfs.OpfsFileSystem.open(options)
  defaults.setDefaultFileSystem(fs)
  return fs
}
