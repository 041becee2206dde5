// DestroyDB (LevelDB db/db_impl.cc): deletes a database's files and, if nothing else is left, its
// directory. Only names LevelDB recognises are touched (so a directory that merely holds a database keeps
// everything else), and only under the database's lock (an open database is never destroyed).
import { fromFsError } from '../errors'
import type { FileSystem } from '../fs/file-system'
import { defaultFileSystem } from '../fs/default-file-system'
import { acquireLock } from '../fs/lock'
import { FileType, lockFileName, parseFileName } from '../filename'

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
  try {
    // On the thread pool where the file system can (hundreds of tables: tens of ms of unlinks otherwise
    // held the event loop), all at once; the first failure is reported once every deletion has settled.
    await Promise.all(names.map(async (name) => {
      const parsed = parseFileName(name)
      if (parsed === undefined || parsed.type === FileType.DbLock) return // LOCK goes last
      const file = `${dir}/${name}`
      try {
        await (fs.unlinkAsync !== undefined ? fs.unlinkAsync(file) : fs.unlink(file))
      } catch (err) {
        failure ??= fromFsError(`deleting ${file}`, err)
      }
    }))
  } finally {
    await lock.release()
  }
  try { fs.unlink(lockFileName(dir)) } catch {}
  try { fs.rmdir(dir) } catch {} // fails when other files remain, which is meant
  if (failure !== undefined) throw failure
}
