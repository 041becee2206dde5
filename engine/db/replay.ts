// Replaying a log into memtables written as level-0 tables (LevelDB's DBImpl::RecoverLogFile, and
// RepairDB's ConvertLogToTable), for recovery and repair alike: each batch goes into the memtable
// (its entries added as insertBatch adds them); a memtable past writeBufferSize, and the last one, is written
// as a table on the flush worker (writeMemTable); the event loop gets its turns between batches and within a
// large one (engine/util/event-loop-budget.ts): nothing reads these memtables until the replay is done.
// A read-only open (engine/db/read-only.ts) keeps those memtables in memory instead (KeptMemTables).
//
// The damage policy is the caller's. Without a reporter, damage in the log, or a record that is not a
// batch, throws LEVEL_CORRUPTION naming the file and offset (recovery refuses to open). With one, the log
// reader reports damaged bytes and reads on past them, and a record that is not a whole, well-formed batch
// following the last one applied is reported and skipped whole, never half-applied (repair, and the
// lenient open: paranoidChecks false).
import type { BackgroundWorker } from '../background/background'
import { corruption, EngineError, fromFsError } from '../errors'
import type { InfoLog } from '../info-log'
import { MAX_SEQUENCE } from '../internal-key'
import { LogReader, type LogReporter } from '../log/reader'
import { MemTable, memTableCapacity } from '../memtable/memtable'
import type { DbOptions } from '../options'
import { eventLoopBudget } from '../util/event-loop-budget'
import { tableFileName } from '../filename'
import type { FileMetaData } from '../version/version-edit'
import { BATCH_HEADER, BatchReader } from './write-batch'
import { writeMemTable } from './memtable-flush'

/** What a lenient replay is told it skipped. */
export interface ReplayReporter extends LogReporter {
  /**
   * The record at `offset` (`bytes` long) passed its checksum but is not a batch that can follow the last
   * one applied.
   */
  badBatch (offset: number, bytes: number, error: EngineError): void
}

/** Where replayed memtables go, as level-0 tables. */
export interface Level0Output {
  readonly dir: string
  readonly options: DbOptions
  /** Writes the tables (on this thread instead with options.flushInline, or a file system a worker cannot rebuild). */
  readonly worker: BackgroundWorker
  /** The number for the next table. */
  newFileNumber (): number
  /** Told of each table once it is written, so that a caller failing later can remove it. */
  added (table: FileMetaData): void
  /** Where each table's start and end are logged. */
  readonly info: InfoLog
  /**
   * Offered each log's last memtable (the one not filled to writeBufferSize): true when it takes it, and then
   * no table is written for it here (recovery keeps the last log's, to be written after the open).
   */
  readonly keepLast?: (mem: MemTable) => boolean
}

/** Where a read-only open's memtables go instead of tables: kept in memory, oldest first. */
export interface KeptMemTables {
  readonly options: DbOptions
  readonly memtables: MemTable[]
}

export type ReplayOutput = Level0Output | KeptMemTables

export interface LogReplay {
  /** The largest sequence number of the batches applied (0 if none). */
  maxSequence: number
  /** Batches applied, and the entries they held. */
  batches: number
  entries: number
  /** Where a torn tail began, or -1 (LogReader.tornAt). */
  tornAt: number
}

/**
 * Replays the log `data` (the bytes of `fileName`) into level-0 tables given to `out` (or memtables it
 * keeps). Without `reporter` the first damage throws; tables already written have been given to out.added().
 */
export async function replayLog (data: Uint8Array, fileName: string, out: ReplayOutput, reporter?: ReplayReporter): Promise<LogReplay> {
  const reader = new LogReader(data, fileName, reporter)
  const limit = out.options.writeBufferSize
  let mem = new MemTable(memTableCapacity(limit))
  let maxSequence = -1
  let batches = 0
  let entries = 0
  for (let record = reader.readRecord(); record !== undefined; record = reader.readRecord()) {
    const what = `${fileName} record at offset ${reader.recordOffset}`
    if (reporter === undefined) {
      if (record.length < BATCH_HEADER) throw corruption(`log record too small in ${what}`)
    } else {
      const problem = batchProblem(record, maxSequence, what)
      if (problem !== undefined) {
        reporter.badBatch(reader.recordOffset, record.length, problem)
        continue
      }
    }
    const batch = new BatchReader(record, 0, record.length, what)
    // insertBatch's loop, with a turn of the event loop wherever the slice runs out (a cold batch of
    // thousands of entries takes tens of ms).
    const buf = batch.buf
    for (let s = batch.sequence; batch.next(); s++) {
      mem.add(s, batch.type, buf, batch.keyOff, batch.keyLen, buf, batch.valueOff, batch.valueLen)
      if (eventLoopBudget.tick()) await eventLoopBudget.turn()
    }
    if (batch.count > 0) maxSequence = Math.max(maxSequence, batch.sequence + batch.count - 1)
    batches++
    entries += batch.count
    if (mem.approximateMemoryUsage > limit) {
      await emit(out, mem)
      mem = new MemTable(memTableCapacity(limit))
    }
    if (eventLoopBudget.spent()) await eventLoopBudget.turn()
  }
  if (mem.entries > 0) {
    if (!('keepLast' in out && out.keepLast?.(mem) === true)) await emit(out, mem)
  }
  return { maxSequence: Math.max(0, maxSequence), batches, entries, tornAt: reader.tornAt }
}

/** Hands a filled (or the last) memtable to out: kept, or written as a level-0 table. */
async function emit (out: ReplayOutput, mem: MemTable): Promise<void> {
  if ('memtables' in out) {
    out.memtables.push(mem)
    return
  }
  const number = out.newFileNumber()
  let table: FileMetaData | undefined
  try {
    // What a reader would keep of it is dropped: nothing reads these tables until the open is done.
    table = (await writeMemTable(out.worker, out.dir, out.options, number, mem, out.info))?.file
  } catch (err) {
    throw fromFsError(`writing ${tableFileName(out.dir, number)}`, err)
  }
  if (table !== undefined) out.added(table)
}

/**
 * Why `record` cannot be applied whole after a batch that ended at sequence `last`: it does not parse, or
 * its sequence does not follow (a damaged or replayed record would collide with entries already applied),
 * or runs past 2^53. Undefined when it can.
 */
export function batchProblem (record: Uint8Array, last: number, what: string): EngineError | undefined {
  let batch: BatchReader
  try {
    batch = new BatchReader(record, 0, record.length, what)
    while (batch.next());
  } catch (err) {
    if (err instanceof EngineError) return err
    throw err
  }
  if (batch.sequence <= last) return corruption(`batch at sequence ${batch.sequence} does not follow the last one applied (${last}) in ${what}`)
  if (batch.count > 0 && batch.sequence + batch.count - 1 > MAX_SEQUENCE) return corruption(`batch sequence past 2^53 in ${what}`)
  return undefined
}
