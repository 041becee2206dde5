// Opening a database for the commands that read or write through the Level API (get, put, del, scan,
// export, import, compact). Keys and values are bytes throughout. The engine has no read-only open
// yet, so even the reading commands take the lock and open as a writer does (replaying the log into a
// table and starting a new MANIFEST: files change, content does not); a database another process holds
// is refused in one line with LEVEL_LOCKED.
import { RoughLevel } from '../index'
import { levelCode, levelError } from './errors'

export type Database = RoughLevel<Buffer, Buffer>

export async function openDatabase (dir: string, command: string, create: boolean): Promise<Database> {
  const db = new RoughLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: create })
  try {
    await db.open()
  } catch (err) {
    if (levelCode(err) === 'LEVEL_LOCKED') throw lockedError(dir, command)
    if (levelCode(err) === 'LEVEL_INVALID_ARGUMENT' && !create) {
      throw levelError('LEVEL_INVALID_ARGUMENT', `${dir}: no database there (no CURRENT file)`)
    }
    throw err
  }
  return db
}

/** The one line for a command that needs the lock of a database held elsewhere. */
export function lockedError (dir: string, command: string): Error {
  return levelError('LEVEL_LOCKED', `${dir} is open in another process: ${command} needs it closed (info, dump and verify work while it is open)`)
}

/** Runs work that takes the database's lock, turning LEVEL_LOCKED into lockedError's line. */
export async function withLockMessage<T> (dir: string, command: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (levelCode(err) === 'LEVEL_LOCKED') throw lockedError(dir, command)
    throw err
  }
}
