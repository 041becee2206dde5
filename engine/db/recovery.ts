// Opening a database's state from disk (LevelDB DBImpl::Recover): CURRENT and the MANIFEST give the
// version; every log at or after the MANIFEST's log number (or equal to its previous log number) is
// replayed, oldest first, into memtables (engine/db/replay.ts, with turns of the event loop). Memtables that
// filled, and every log's but the last one's, are written as level-0 tables on the flush worker before the
// open resolves, as LevelDB's recovery writes them. The last log's last memtable is not (where the disk has
// room for it: else ENOSPC must fail the open, as in LevelDB): it is returned
// (Recovered.kept) to be the Db's immutable memtable, written as a table after the open like any flush, so
// that the open does not wait for a table build and its fdatasync (the largest part of an open's time). The
// MANIFEST edit the open writes keeps that log live (its log number), so a crash before that flush is
// installed replays it again; the Db syncs it before its new log takes writes (a prefix survives a crash).
// A new log is started and one MANIFEST edit records it all. What it does goes to the info log (LevelDB's
// messages).
// Damage in the middle of a log fails the open (LEVEL_CORRUPTION) unless paranoidChecks is false: then the
// damaged records are skipped (the log reader's and replay's reporter policy, as repair's) and each drop is
// logged and returned (LevelDB's RecoverLogFile with paranoid_checks false). A damaged MANIFEST and a missing
// table fail the open either way, as in LevelDB 1.23.
// A failed recovery removes only what it created, so the directory is as it was (unless the MANIFEST
// change already took effect, when what it names must stay).
import type { BackgroundWorker } from '../background/background'
import { corruption, type EngineError, fromFsError, invalidArgument } from '../errors'
import type { WritableFile } from '../fs/file-system'
import type { InfoLog } from '../info-log'
import { LogWriter } from '../log/writer'
import type { MemTable } from '../memtable/memtable'
import type { DbOptions } from '../options'
import type { Block } from '../table/block'
import { newBlockCache } from '../table/block-cache'
import { TableCache } from '../table/table-cache'
import { eventLoopBudget } from '../util/event-loop-budget'
import type { LruCache } from '../util/lru-cache'
import { currentFileName, FileType, logFileName, parseFileName, tableFileName } from '../filename'
import { VersionEdit } from '../version/version-edit'
import { VersionSet } from '../version/version-set'
import { workerFileSystem } from './memtable-flush'
import { type Level0Output, replayLog, type ReplayOutput, type ReplayReporter } from './replay'

/** Table files LevelDB keeps out of the table cache's share of maxOpenFiles (logs, MANIFEST, ...). */
const NON_TABLE_CACHE_FILES = 10
/**
 * The fewest tables kept parsed, as LevelDB's clamp of maxOpenFiles to 74 gives: descriptors are
 * budgeted apart (engine/fs/descriptor-budget.ts), so a small maxOpenFiles need not reparse tables.
 */
const MIN_TABLE_CACHE = 64

/**
 * Recovery keeps the last memtable for a table after the open only where the disk has this many times its
 * bytes free (its table is smaller: compressed, no skip-list nodes): enough for the table and what follows.
 */
const KEEP_ROOM_FACTOR = 2

/** The log being written. */
export interface OpenLog {
  number: number
  file: WritableFile
  writer: LogWriter
}

/** Bytes of a log a lenient open (paranoidChecks false) skipped. */
export interface SkippedRecord {
  /** The log's path. */
  file: string
  /**
   * Where the skipped bytes begin, and how many: damaged bytes (headers included, to where reading resumed),
   * or the payload of a record that passed its checksum but is not a batch to apply.
   */
  offset: number
  bytes: number
  /** The check that failed (a LEVEL_CORRUPTION message naming the file and offset). */
  reason: string
}

export interface Recovered {
  versions: VersionSet
  tableCache: TableCache
  blockCache: LruCache<Block> | undefined
  log: OpenLog
  /** What a lenient open skipped, in log order (always empty when paranoidChecks is true). */
  skipped: SkippedRecord[]
  /** The last log's last memtable, to be written after the open; undefined when that log held nothing to keep. */
  kept?: KeptMemTable
}

/** A memtable recovery replayed and wrote no table for: the Db's immutable memtable, flushed after the open. */
export interface KeptMemTable {
  mem: MemTable
  /** The path of the log it came from, which the MANIFEST keeps live until its table is installed. */
  log: string
  /** Its table's number, taken before the new log's, so that files are numbered as LevelDB's open numbers them. */
  table: number
}

/**
 * Recovers (or, with createIfMissing, creates) the database at dir, writing full memtables with
 * `worker` and logging to `info`. Requires: its lock is held.
 */
export async function recover (dir: string, options: DbOptions, worker: BackgroundWorker, info: InfoLog): Promise<Recovered> {
  const fs = options.fs
  const { versions, tableCache, blockCache } = newVersionSet(dir, options)
  if (!fs.exists(currentFileName(dir))) {
    if (!options.createIfMissing) throw invalidArgument(`${dir}: does not exist (create_if_missing is false)`)
    info.log(`Creating DB ${dir} since it was missing.`)
    await versions.create()
  } else if (options.errorIfExists) {
    throw invalidArgument(`${dir}: exists (error_if_exists is true)`)
  }
  await versions.recover()

  let names: string[]
  try {
    names = fs.readdir(dir)
  } catch (err) {
    throw fromFsError(`listing ${dir}`, err)
  }
  const parsed = names.map(parseFileName)
  // Every table the MANIFEST names must be there (as .ldb or .sst), as LevelDB checks.
  const present = new Set(parsed.filter((p) => p?.type === FileType.Table).map((p) => p!.number))
  const missing = [...versions.liveFiles()].filter((n) => !present.has(n))
  if (missing.length > 0) {
    throw corruption(`${missing.length} missing files; e.g.: ${tableFileName(dir, missing[0])}`)
  }

  // Replay the live logs, writing what they hold to level-0 tables as LevelDB's recovery does.
  const logs = logsToReplay(names, versions)
  const edit = new VersionEdit()
  const built: number[] = []
  const skipped: SkippedRecord[] = []
  let file: WritableFile | undefined
  let path: string | undefined
  try {
    const level0: Level0Output = {
      dir,
      options,
      worker,
      newFileNumber: () => versions.newFileNumber(),
      added: (table) => {
        built.push(table.number)
        edit.addFile(0, table)
      },
      info
    }
    const reporter = options.paranoidChecks ? undefined : (name: string): ReplayReporter => skippingReporter(name, skipped, info)
    const hooks = { info, reporter }
    versions.lastSequence = await replayLogs(dir, options, logs.slice(0, -1), versions, level0, hooks)
    let kept: Recovered['kept']
    const last = logs[logs.length - 1]
    const keepLast = (mem: MemTable): boolean => {
      // Where the disk may lack room for its table, write it now, so that ENOSPC fails the open as in LevelDB.
      const room = fs.freeBytes(dir)
      if (room !== undefined && room < KEEP_ROOM_FACTOR * mem.approximateMemoryUsage) return false
      kept = { mem, log: logFileName(dir, last), table: versions.newFileNumber() }
      return true
    }
    const maxSequence = versions.lastSequence = await replayLogs(dir, options, logs.slice(-1), versions, { ...level0, keepLast }, hooks)

    // Every open writes to a new log.
    const number = versions.newFileNumber()
    path = logFileName(dir, number)
    try {
      file = fs.openWritable(path)
    } catch (err) {
      throw fromFsError(`creating ${path}`, err)
    }
    // A kept memtable's log stays live until its table is installed.
    edit.logNumber = kept === undefined ? number : last
    edit.prevLogNumber = 0
    edit.lastSequence = maxSequence
    await versions.logAndApply(edit)
    return { versions, tableCache, blockCache, log: { number, file, writer: new LogWriter(file) }, skipped, kept }
  } catch (err) {
    file?.close()
    versions.close()
    tableCache.close()
    // The MANIFEST now names what this open wrote: keep it all (it is a consistent database).
    if ((err as EngineError).committed === true) throw err
    // Leave the directory as it was: remove only what this open created.
    for (const p of [...built.map((n) => tableFileName(dir, n)), ...(path === undefined ? [] : [path])]) {
      try { fs.unlink(p) } catch {}
    }
    throw err
  }
}

/** The caches a database reads through and its (empty) VersionSet, for a recovery or a read-only open. */
export function newVersionSet (dir: string, options: DbOptions): { versions: VersionSet, tableCache: TableCache, blockCache: LruCache<Block> | undefined } {
  const blockCache = options.cacheSize > 0 ? newBlockCache(options.cacheSize) : undefined
  const tableCache = new TableCache(dir, options.fs, Math.max(MIN_TABLE_CACHE, options.maxOpenFiles - NON_TABLE_CACHE_FILES), blockCache)
  return { versions: new VersionSet(dir, options.fs, tableCache), tableCache, blockCache }
}

/**
 * The logs a recovery replays among the file `names`, oldest first: every log at or after the MANIFEST's
 * log number, or equal to its previous log number (LevelDB's DBImpl::Recover).
 */
export function logsToReplay (names: string[], versions: Pick<VersionSet, 'logNumber' | 'prevLogNumber'>): number[] {
  const logs: number[] = []
  for (const name of names) {
    const p = parseFileName(name)
    if (p?.type === FileType.Log && (p.number >= versions.logNumber || p.number === versions.prevLogNumber)) logs.push(p.number)
  }
  return logs.sort((a, b) => a - b)
}

/** What a replay of logs tells beyond its output: LOG lines, and the damage policy per log (none: throw). */
export interface ReplayHooks {
  info?: InfoLog
  reporter?: (logName: string) => ReplayReporter
}

/**
 * Replays `logs` (numbers, oldest first) into `out`, marking their numbers used; returns the last
 * sequence they and the MANIFEST reach. Without a reporter damage throws (LEVEL_CORRUPTION); a torn tail
 * is dropped (and logged).
 */
export async function replayLogs (
  dir: string, options: DbOptions, logs: number[], versions: VersionSet, out: ReplayOutput, hooks: ReplayHooks = {}
): Promise<number> {
  let maxSequence = versions.lastSequence
  for (const number of logs) {
    versions.markFileNumberUsed(number)
    const name = logFileName(dir, number)
    const fs = options.fs
    let data: Uint8Array
    try {
      data = fs.readFileAsync !== undefined ? await fs.readFileAsync(name) : fs.readFile(name)
    } catch (err) {
      throw fromFsError(`reading ${name}`, err)
    }
    // Records to replay mean a table to write: let the worker start while this thread replays.
    if (data.length > 0 && 'worker' in out && workerFileSystem(options) !== undefined) {
      while (out.worker.prepare()) await eventLoopBudget.turn() // the first thread of a process: in turns
      out.worker.warmUp()
    }
    hooks.info?.log(`Recovering log #${number}`)
    const replay = await replayLog(data, name, out, hooks.reporter?.(name))
    if (replay.tornAt >= 0) hooks.info?.log(`${name}: dropping ${data.length - replay.tornAt} bytes of a torn tail at offset ${replay.tornAt}`)
    maxSequence = Math.max(maxSequence, replay.maxSequence)
  }
  return maxSequence
}

/** The lenient open's policy: every drop is kept in `skipped` and logged, in LevelDB's words. */
function skippingReporter (file: string, skipped: SkippedRecord[], info: InfoLog): ReplayReporter {
  const skip = (offset: number, bytes: number, error: EngineError): void => {
    skipped.push({ file, offset, bytes, reason: error.message })
    info.log(`(ignoring error) ${file}: dropping ${bytes} bytes at offset ${offset}; ${error.message}`)
  }
  return {
    corruption: (offset, end, error) => skip(offset, end - offset, error),
    badBatch: skip
  }
}
