// A log another process is writing, read by a follower (engine/db/read-only.ts) as it grows: each read
// starts where the last one stopped (the end of the last whole record) and inserts the new batches into
// memtables kept in memory, never written as tables. RocksDB's secondary instance keeps the same per-log
// reader state (db/db_impl/db_impl_secondary.cc, log_readers_).
//
// A torn tail is the writer mid-append: dropped now, read whole by a later call. Damage before it is
// LEVEL_CORRUPTION naming the file and offset, as for recovery's strict replay (engine/db/replay.ts).
//
// read() is a generator of steps, as the follower's catch-up is: it yields after each record, where an
// async run may take a turn of the event loop and a synchronous one (a get that found a table gone) goes on.
//
// Sharing: views the follower served earlier hold these memtables too. Inserting later batches into them
// changes nothing those views read, since every read filters by the view's sequence, and a batch is
// inserted whole before any view's sequence covers it.
import type { FileSystem } from '../fs/file-system'
import { LogReader } from '../log/reader'
import { readTailBytes } from '../log/tail-bytes'
import { MemTable, memTableCapacity } from '../memtable/memtable'
import { BatchReader, insertBatch } from './write-batch'
import { batchProblem } from './replay'

export class LogTail {
  readonly number: number
  readonly path: string
  /** Where the next record begins: the end of the last whole record read. */
  offset = 0
  /** The file's size at the last read: an unchanged size means nothing to read. */
  #sizeRead = 0
  /** Memtables holding the batches read, oldest first; a new one starts once the last passes writeBufferSize. */
  readonly memtables: MemTable[] = []
  /** The largest sequence number read (-1 before any batch). */
  maxSequence = -1
  readonly #writeBufferSize: number

  constructor (number: number, path: string, writeBufferSize: number) {
    this.number = number
    this.path = path
    this.#writeBufferSize = writeBufferSize
  }

  /**
   * Reads what was appended since the last call, yielding after each record. File system errors are thrown as
   * they come (ENOENT: the writer deleted the log); what was read before an error stays read.
   */
  * read (fs: FileSystem): Generator<undefined, void> {
    const data = readTailBytes(fs, this.path, this.offset, this.#sizeRead)
    if (data === undefined) return
    const reader = new LogReader(data, this.path, undefined, this.offset)
    for (let record = reader.readRecord(); record !== undefined; record = reader.readRecord()) {
      const what = `${this.path} record at offset ${reader.recordOffset}`
      // Checked whole before any of it is inserted: a batch is never half in a memtable, and a sequence at
      // or below one already inserted would collide with it.
      const problem = batchProblem(record, this.maxSequence, what)
      if (problem !== undefined) throw problem
      const batch = new BatchReader(record, 0, record.length, what)
      if (batch.count > 0) {
        insertBatch(batch, this.#memtable())
        this.maxSequence = batch.sequence + batch.count - 1
      }
      this.offset = reader.resumeAt
      yield
    }
    this.offset = reader.resumeAt
    this.#sizeRead = data.length
  }

  /** The memtable the next batch goes into. */
  #memtable (): MemTable {
    let mem = this.memtables[this.memtables.length - 1]
    if (mem === undefined || mem.approximateMemoryUsage > this.#writeBufferSize) {
      mem = new MemTable(memTableCapacity(this.#writeBufferSize))
      this.memtables.push(mem)
    }
    return mem
  }
}
