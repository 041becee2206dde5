// DestroyDB (LevelDB db/db_impl.cc): deletes a database's files and, if nothing else is left, its
// directory. Only names LevelDB recognises are touched (so a directory that merely holds a database keeps
// everything else), and only under the database's lock (an open database is never destroyed).
import { fromFsError } from '../errors'
import type { FileSystem } from '../fs/file-system'
import { defaultFileSystem } from '../fs/default-file-system'
import { acquireLock } from '../fs/lock'
import { FileType, lockFileName, parseFileName } from '../filename'
import { eventLoopBudget } from '../util/event-loop-budget'

/** Resolves when done; a missing directory counts as destroyed. Rejects with LEVEL_LOCKED if the database is open. */
export async function destroyDb (dir: string, fs: FileSystem = defaultFileSystem()): Promise<void> {
  let names: string[]
  try {
    names = fs.readdir(dir)
  } catch {
    return // as LevelDB: nothing there to destroy
  }
  const lock = await acquireLock(dir, fs)
  let failure: Error | undefined
  const files = names.filter((name) => {
    const parsed = parseFileName(name)
    return parsed !== undefined && parsed.type !== FileType.DbLock // LOCK goes last
  }).map((name) => `${dir}/${name}`)
  const unlinkAsync = fs.unlinkAsync?.bind(fs)
  try {
    if (unlinkAsync !== undefined) {
      // On the thread pool (hundreds of tables: tens of ms of unlinks otherwise held the event loop), all
      // at once; the first failure is reported once every deletion has settled.
      await Promise.all(files.map(async (file) => {
        try {
          await unlinkAsync(file)
        } catch (err) {
          failure ??= fromFsError(`deleting ${file}`, err)
        }
      }))
    } else {
      // A file system without it (the browser's): one at a time, the event loop turning when its slice is spent.
      for (const file of files) {
        try {
          fs.unlink(file)
        } catch (err) {
          failure ??= fromFsError(`deleting ${file}`, err)
        }
        await eventLoopBudget.pause()
      }
    }
  } finally {
    await lock.release()
  }
  try { fs.unlink(lockFileName(dir)) } catch {}
  try { fs.rmdir(dir) } catch {} // fails when other files remain, which is meant
  if (failure !== undefined) throw failure
}
