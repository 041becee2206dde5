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
    for (const name of names) {
      const parsed = parseFileName(name)
      if (parsed === undefined || parsed.type === FileType.DbLock) continue // LOCK goes last
      try {
        fs.unlink(`${dir}/${name}`)
      } catch (err) {
        failure ??= fromFsError(`deleting ${dir}/${name}`, err)
      }
    }
  } finally {
    await lock.release()
  }
  try { fs.unlink(lockFileName(dir)) } catch {}
  try { fs.rmdir(dir) } catch {} // fails when other files remain, which is meant
  if (failure !== undefined) throw failure
}
