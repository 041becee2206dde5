// A log another process is writing, read by a follower (engine/db/read-only.ts) as it grows: each read
// starts where the last one stopped (the end of the last whole record). RocksDB's secondary instance keeps
// the same per-log reader state (db/db_impl/db_impl_secondary.cc, log_readers_).
//
// Reading and ordering are apart, because a catch-up whose view nothing reads need not order anything:
// read() only frames, checksums and checks each new record (a whole batch that follows the last one), and
// queues it for the memtable it will go into; order() inserts what is queued, oldest first. The follower
// orders a log's queue when a read first needs a view (read-only.ts), and a log the writer flushed before
// that is dropped with its queue, never inserted: its entries are in a table by then. The skip-list insert
// (the writer's own, done again) was about half of an eager catch-up's CPU; reading the bytes, their CRC and
// copying records that span blocks are most of the rest. The log's bytes are this tail's own, so those records
// are gathered in place over their fragments' headers (LogReader's inPlace), not copied into new arrays.
//
// A torn tail is the writer mid-append: dropped now, read whole by a later call. Damage before it is
// LEVEL_CORRUPTION naming the file and offset, as for recovery's strict replay (engine/db/replay.ts), and
// is found by read(), never by order().
//
// read() is a generator of steps, as the follower's catch-up is: it yields after each record, where an
// async run may take a turn of the event loop and a synchronous one (a get that found a table gone) goes on.
//
// Sharing: views the follower served earlier hold these memtables too. Inserting later batches into them
// changes nothing those views read, since every read filters by the view's sequence, and a batch is
// inserted whole, and only after the reads of every view whose sequence covers it have ordered it.
import type { FileSystem } from '../fs/file-system'
import { LogReader } from '../log/reader'
import { readTailBytes } from '../log/tail-bytes'
import { MemTable, memTableCapacity } from '../memtable/memtable'
import { allocUnsafe } from '../util/bytes'
import { BATCH_HEADER, BatchReader, insertBatch } from './write-batch'
import { batchProblem } from './replay'

/**
 * A memtable's bytes for an entry beyond its key and value as a batch holds them: its skip-list node (four
 * words and its links, 1.33 on average) and tag, less the batch's type and length bytes. For deciding, before
 * inserting, when a memtable has had its writeBufferSize.
 */
const NODE_BYTES = 24

interface Queued {
  /** A whole, checked batch (a log record), and its offset in the log. */
  readonly batch: Uint8Array
  readonly offset: number
  readonly mem: MemTable
}

export class LogTail {
  readonly number: number
  readonly path: string
  /**
   * The log's bytes as read so far, by file offset: each read adds those from where the last stopped, so
   * that a catch-up allocates nothing for a log that grew a little (a new buffer per catch-up, as large as
   * the log, was a sixth of a refresh's CPU, with the collections it caused). It doubles as the log grows, up
   * to what a memtable of the log holds (a writer switches logs near writeBufferSize), then grows as needed.
   * Records queued are views of it; a larger one replaces it, and they keep the old one.
   */
  #bytes = allocUnsafe(0)
  readonly #buffer = (size: number): Uint8Array => {
    if (this.#bytes.length < size) {
      const doubled = Math.min(Math.max(2 * this.#bytes.length, 64 * 1024), memTableCapacity(this.#writeBufferSize))
      this.#bytes = allocUnsafe(Math.max(size, doubled))
    }
    return this.#bytes
  }

  /** Where the next record begins: the end of the last whole record read. */
  offset = 0
  /** The file's size at the last read: an unchanged size means nothing to read. */
  #sizeRead = 0
  /**
   * Memtables for the batches read, oldest first: a new one starts once the last has (or will have, when
   * its queue is ordered) writeBufferSize bytes.
   */
  readonly memtables: MemTable[] = []
  /** The largest sequence number read (-1 before any batch). */
  maxSequence = -1
  /** Batches read, oldest first; those from #next on are not inserted yet. */
  #queue: Queued[] = []
  #next = 0
  /** The last memtable's bytes once its queued batches are in (estimated for those). */
  #lastBytes = 0
  readonly #writeBufferSize: number

  constructor (number: number, path: string, writeBufferSize: number) {
    this.number = number
    this.path = path
    this.#writeBufferSize = writeBufferSize
  }

  /** Whether batches read wait for order(). */
  get unordered (): boolean {
    return this.#next < this.#queue.length
  }

  /**
   * Reads what was appended since the last call and queues its batches, yielding after each record. File
   * system errors are thrown as they come (ENOENT: the writer deleted the log); what was read before an
   * error stays read.
   */
  * read (fs: FileSystem): Generator<undefined, void> {
    const data = readTailBytes(fs, this.path, this.offset, this.#sizeRead, this.#buffer)
    if (data === undefined) return
    const reader = new LogReader(data, this.path, undefined, this.offset, true)
    for (let record = reader.readRecord(); record !== undefined; record = reader.readRecord()) {
      const what = `${this.path} record at offset ${reader.recordOffset}`
      // Checked whole when read: a batch is never half in a memtable, and a sequence at or below one
      // already read would collide with it.
      const problem = batchProblem(record, this.maxSequence, what)
      if (problem !== undefined) throw problem
      const batch = new BatchReader(record, 0, record.length, what)
      if (batch.count > 0) {
        this.#queue.push({ batch: record, offset: reader.recordOffset, mem: this.#memtable(record.length - BATCH_HEADER + batch.count * NODE_BYTES) })
        this.maxSequence = batch.sequence + batch.count - 1
      }
      this.offset = reader.resumeAt
      yield
    }
    this.offset = reader.resumeAt
    this.#sizeRead = data.length
  }

  /** Inserts the queued batches into their memtables, oldest first; yields after each. */
  * order (): Generator<undefined, void> {
    while (this.#next < this.#queue.length) {
      const { batch, offset, mem } = this.#queue[this.#next]
      insertBatch(new BatchReader(batch, 0, batch.length, `${this.path} record at offset ${offset}`), mem)
      this.#next++
      yield
    }
    this.#queue = []
    this.#next = 0
  }

  /** The memtable a batch of about `bytes` goes into. */
  #memtable (bytes: number): MemTable {
    let mem = this.memtables[this.memtables.length - 1]
    if (mem === undefined || this.#lastBytes > this.#writeBufferSize) {
      mem = new MemTable(memTableCapacity(this.#writeBufferSize))
      this.memtables.push(mem)
      this.#lastBytes = mem.approximateMemoryUsage
    }
    this.#lastBytes += bytes
    return mem
  }
}
