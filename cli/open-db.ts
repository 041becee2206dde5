// Opening a database for the commands that read or write through the Level API. Keys and values are bytes
// throughout. The reading commands (get, scan, export) open it read-only (openForReading): no lock, no file
// created or changed, so they work while another process (rough-level or classic-level) has it open for
// writing, and read it as of their open. The writing commands (put, del, import, compact) take the lock; a
// database another process holds is refused in one line with LEVEL_LOCKED.
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

/** Opens dir read-only, for the commands that only read. */
export async function openForReading (dir: string): Promise<Database> {
  const db = new RoughLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', readOnly: true })
  try {
    await db.open()
  } catch (err) {
    if (levelCode(err) === 'LEVEL_INVALID_ARGUMENT') throw levelError('LEVEL_INVALID_ARGUMENT', `${dir}: no database there (no CURRENT file)`)
    throw err
  }
  return db
}

/** The one line for a command that needs the lock of a database held elsewhere. */
export function lockedError (dir: string, command: string): Error {
  return levelError('LEVEL_LOCKED', `${dir} is open in another process: ${command} needs it closed (info, get, scan, export, backup, dump and verify work while it is open)`)
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
