// A read-only open (RocksDB's OpenForReadOnly, the first part of its secondary instance): a database's
// state as of the open, read without creating, changing, renaming or deleting any file and without the
// lock, so that it works beside a writer (rough-level in another process, or classic-level) and on a
// directory this process cannot write. Db.open takes this path with options.readOnly.
//
// What it reads: the tables of the MANIFEST that CURRENT names, plus the records of the live logs, chosen
// and replayed by recovery's own routines (engine/db/recovery.ts) into memtables kept in memory, never
// written as tables, up to the last complete record: a torn tail is the writer mid-append, dropped
// silently. Damage before it is LEVEL_CORRUPTION, as for any open.
//
// Why that is a prefix of the writer's history: the directory is listed before CURRENT and the MANIFEST
// are read. The MANIFEST's tables hold every write of the logs below its log number; logs are numbered in
// the order they are created, so the listed logs at or after that number are the oldest live ones, and a
// log created after the listing (not replayed) holds only later writes. Each file read is a prefix of what
// was appended to it.
//
// The race with the writer: it deletes a log, a table or the old MANIFEST only after a MANIFEST edit (or
// a new MANIFEST named by CURRENT) made them obsolete. So when a file the open needs is gone, either the
// writer has moved on (CURRENT changed, or the MANIFEST grew since it was read) and the open starts again
// from the listing, or nothing explains it and the error stands (a missing table is LEVEL_CORRUPTION).
// After MAX_ATTEMPTS attempts (with short pauses from the third on) it fails with LEVEL_IO_ERROR naming
// what kept vanishing.
//
// Every table of the version is opened here (with turns of the event loop), so that a vanish is seen at
// the open. Afterwards the database reads that version and never looks at the directory again. A table
// whose descriptor the table cache holds stays readable after the writer deletes it (POSIX unlink), but
// one that the table cache or the descriptor budget closed is reopened by name at its next read, and fails
// (LEVEL_CORRUPTION or LEVEL_IO_ERROR naming the missing file) if a compaction deleted it meanwhile. The
// follower (refresh) is to pin the tables of the versions it serves by keeping their descriptors open, as
// RocksDB's secondary instance does.
import { type EngineError, fromFsError, invalidArgument, ioError, systemErrorCode } from '../errors'
import type { FileSystem } from '../fs/file-system'
import type { MemTable } from '../memtable/memtable'
import type { DbOptions } from '../options'
import type { Block } from '../table/block'
import type { TableCache } from '../table/table-cache'
import { eventLoopBudget } from '../util/event-loop-budget'
import type { LruCache } from '../util/lru-cache'
import { currentFileName } from '../version/filename'
import type { ManifestState, VersionSet } from '../version/version-set'
import { logsToReplay, newVersionSet, replayLogs } from './recovery'
import type { KeptMemTables } from './replay'

/**
 * Attempts before a writer that keeps deleting what the open needs makes it fail. A writer with a small
 * write buffer on a loaded machine can move on during several attempts in a row (up to 20 restarts in 8
 * opens were seen beside the tests' writer, whose write buffer is 64 KiB): the limit is for a writer that
 * never stops, not for a busy one.
 */
export const MAX_ATTEMPTS = 40
/** From the third attempt on, a pause before the next (doubling up to the cap), so that a burst of the writer's edits and deletions can end. */
const FIRST_PAUSE_MS = 1
const MAX_PAUSE_MS = 16

export interface ReadOnlyState {
  /** The MANIFEST's state; its lastSequence also covers the replayed logs. Never written. */
  versions: VersionSet
  tableCache: TableCache
  blockCache: LruCache<Block> | undefined
  /** What the live logs hold, newest memtable first. */
  memtables: MemTable[]
  /** Attempts started again because the writer moved on. */
  retries: number
}

/** Reads the state of the database at dir as a read-only open serves it. Changes nothing on disk. */
export async function readOnlyState (dir: string, options: DbOptions): Promise<ReadOnlyState> {
  const fs = options.fs
  let vanished: EngineError | undefined
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const current = readCurrent(fs, dir)
    if (current === undefined) throw invalidArgument(`${dir}: does not exist (no CURRENT file; a read-only open creates nothing)`)
    const { versions, tableCache, blockCache } = newVersionSet(dir, options)
    let manifest: ManifestState | undefined
    try {
      let names: string[]
      try {
        names = fs.readdir(dir)
      } catch (err) {
        throw fromFsError(`listing ${dir}`, err)
      }
      manifest = versions.recover()
      for (const files of versions.current.files) {
        for (const f of files) {
          tableCache.open(f.number, f.fileSize)
          if (eventLoopBudget.spent()) await eventLoopBudget.turn()
        }
      }
      const kept: KeptMemTables = { options, memtables: [] }
      versions.lastSequence = await replayLogs(dir, options, logsToReplay(names, versions), versions, kept)
      return { versions, tableCache, blockCache, memtables: kept.memtables.reverse(), retries: attempt - 1 }
    } catch (err) {
      versions.close()
      tableCache.close()
      if (!writerMovedOn(fs, dir, current, manifest)) throw err
      vanished = fromFsError(`opening ${dir} read-only`, err)
      if (attempt >= 3 && attempt < MAX_ATTEMPTS) {
        const pause = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (attempt - 3))
        await new Promise((resolve) => setTimeout(resolve, pause))
      }
    }
  }
  throw ioError(`${dir}: a writer kept deleting files a read-only open needed (${MAX_ATTEMPTS} attempts; the last: ${vanished?.message ?? 'unknown'})`, vanished)
}

/** CURRENT's content, or undefined when there is none. */
function readCurrent (fs: FileSystem, dir: string): string | undefined {
  const name = currentFileName(dir)
  try {
    return fs.readFile(name).toString('latin1')
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return undefined
    throw fromFsError(`reading ${name}`, err)
  }
}

/**
 * Whether the writer changed the state since an attempt began with CURRENT = `current` and read
 * `manifest`: CURRENT names another MANIFEST, or the MANIFEST read is longer or gone.
 */
function writerMovedOn (fs: FileSystem, dir: string, current: string, manifest: ManifestState | undefined): boolean {
  let now: string | undefined
  try {
    now = readCurrent(fs, dir)
  } catch {
    return false
  }
  if (now !== current) return true
  if (manifest === undefined) return false
  try {
    const file = fs.openRandomAccess(manifest.manifestPath)
    try {
      return file.size() !== manifest.bytes
    } finally {
      file.close()
    }
  } catch (err) {
    return systemErrorCode(err) === 'ENOENT'
  }
}
