// engine/fs/lock.ts in the browser build (package.json `browser` maps it here): the database LOCK as a Web
// Lock (navigator.locks), which excludes a second handle in any worker or tab of the origin and is freed
// within a millisecond when its holder's worker is terminated or its tab closes, as the kernel frees
// lock.ts's socket when a process dies. The lock's name is the directory's real path on its file system
// (for OPFS, engine/fs/opfs-file-system.ts: the pool's name and the path), so databases in different pools
// never exclude each other. OPFS excludes on its own too: a pool's sync access handles belong to one
// worker, so a second worker cannot open the same pool at all.
//
// LOCK is created as LevelDB creates it, so that an exported directory looks like LevelDB's.
import type { FileSystem } from './file-system'
// Types only (erased): the browser build never loads lock.ts, whose contract this module keeps.
import type { DbLock, LockOptions } from './lock'
import { fromFsError, ioError, locked } from '../errors'
import { browserNavigator } from '../browser/web-apis'

/** Rejects with LEVEL_LOCKED when another handle (this worker's or another's) holds the database. */
export async function acquireLock (dir: string, fs: FileSystem, _options: LockOptions = {}): Promise<DbLock> {
  const lockFile = `${dir}/LOCK`
  // An open creates several files in one synchronous stretch (LOCK, the MANIFEST, CURRENT, a log, LOG).
  await fs.ready?.()
  let name: string
  try {
    if (!fs.exists(lockFile)) fs.openWritable(lockFile).close()
    name = `rough-level:${fs.realpath(dir)}`
  } catch (err) {
    throw fromFsError(lockFile, err)
  }
  const locks = browserNavigator()?.locks
  if (locks === undefined) throw ioError(`${lockFile}: no Web Locks here (navigator.locks): a browser's worker or page is needed`)
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  // request() resolves with the callback's result: true once the lock is ours (the lock is then held until
  // `held` settles), false when another handle has it (ifAvailable gives null at once, never waits).
  const granted = new Promise<boolean>((resolve, reject) => {
    locks.request(name, { ifAvailable: true }, async (lock) => {
      if (lock === null) return resolve(false)
      resolve(true)
      await held
    }).catch(reject)
  })
  if (!(await granted)) throw locked(`${lockFile}: already held by another handle (a Web Lock named ${name})`)
  return new WebLock(release)
}

class WebLock implements DbLock {
  readonly #release: () => void
  #released: Promise<void> | undefined

  constructor (release: () => void) {
    this.#release = release
  }

  release (): Promise<void> {
    this.#released ??= Promise.resolve().then(this.#release)
    return this.#released
  }
}
