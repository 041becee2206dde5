// LevelDB's WriteBatch representation (db/write_batch.cc), which is also one WAL record's payload:
//   fixed64 sequence ‖ fixed32 count ‖ records
//   record := 0x01 lp(key) lp(value)   (put)  |  0x00 lp(key)   (delete)
// The buffer keeps HEADER_SIZE bytes of headroom before the batch so that the log writer can put the
// record header in place and write a whole commit group with one syscall, without copying it.
import { ValueType } from '../internal-key'
import { HEADER_SIZE } from '../log/format'
import type { MemTable } from '../memtable/memtable'
import { allocUnsafe, copyBytes, encodeUtf8Into, utf8Length } from '../util/bytes'
import { ByteReader, putFixed32, putFixed64, putVarint32 } from '../util/coding'

/** Batch header: fixed64 sequence, fixed32 count. */
export const BATCH_HEADER = 12
const START = HEADER_SIZE
const RECORDS = START + BATCH_HEADER

/** A key or value as the engine accepts it: bytes, or a string to be written as UTF-8. */
export type Bytes = Uint8Array | string

export class WriteBatch {
  buf: Uint8Array
  /** End of the records written so far. */
  #end = RECORDS
  count = 0

  constructor (capacity = 256) {
    this.buf = allocUnsafe(Math.max(capacity, RECORDS + 16))
    this.buf.fill(0, 0, RECORDS)
  }

  put (key: Bytes, value: Bytes): void {
    const at = this.#reserve(key, value) // before reading this.buf: reserving may replace it
    this.buf[at] = ValueType.Value
    let pos = this.#writeBytes(this.#end + 1, key)
    pos = this.#writeBytes(pos, value)
    this.#end = pos
    this.count++
  }

  del (key: Bytes): void {
    const at = this.#reserve(key, '')
    this.buf[at] = ValueType.Deletion
    this.#end = this.#writeBytes(this.#end + 1, key)
    this.count++
  }

  /** Appends another batch's records (the group-commit merge). */
  append (other: WriteBatch): void {
    const n = other.#end - RECORDS
    this.#ensure(n)
    copyBytes(other.buf, RECORDS, n, this.buf, this.#end)
    this.#end += n
    this.count += other.count
  }

  clear (): void {
    this.#end = RECORDS
    this.count = 0
  }

  #markEnd = RECORDS
  #markCount = 0

  /** Remembers the current end, to roll back to if a multi-record write fails half-way. */
  mark (): void {
    this.#markEnd = this.#end
    this.#markCount = this.count
  }

  rollback (): void {
    this.#end = this.#markEnd
    this.count = this.#markCount
  }

  /** Bytes of the encoded batch (header included). */
  get byteLength (): number {
    return this.#end - START
  }

  /** Offset of the batch within buf; buf has HEADER_SIZE writable bytes before it. */
  get offset (): number {
    return START
  }

  /** Fills in the header for a batch whose first record gets `sequence`. */
  seal (sequence: number): void {
    putFixed64(this.buf, START, sequence)
    putFixed32(this.buf, START + 8, this.count)
  }

  /** Room for a record's worst case: tag, two varint32 prefixes, and UTF-8 at 3 bytes per UTF-16 unit. */
  #reserve (key: Bytes, value: Bytes): number {
    const need = 1 + 10 + maxBytes(key) + maxBytes(value)
    this.#ensure(need)
    return this.#end
  }

  #ensure (n: number): void {
    if (this.#end + n <= this.buf.length) return
    const next = allocUnsafe(Math.max(this.buf.length * 2, this.#end + n))
    copyBytes(this.buf, 0, this.#end, next, 0)
    this.buf = next
  }

  /** Writes lp(bytes) at pos; returns the end. */
  #writeBytes (pos: number, data: Bytes): number {
    const buf = this.buf
    if (typeof data !== 'string') {
      pos = putVarint32(buf, pos, data.length)
      buf.set(data, pos)
      return pos + data.length
    }
    if (data.length < 43) {
      // At most 126 bytes of UTF-8: the length prefix is one byte, so write the string first.
      const n = encodeUtf8Into(buf, pos + 1, data)
      buf[pos] = n
      return pos + 1 + n
    }
    pos = putVarint32(buf, pos, utf8Length(data))
    return pos + encodeUtf8Into(buf, pos, data)
  }
}

function maxBytes (data: Bytes): number {
  return typeof data === 'string' ? data.length * 3 : data.length
}

/**
 * Walks the records of an encoded batch from untrusted bytes (a WAL being replayed), checking every
 * length. After next() returns true, the current record is in type/keyOff/keyLen/valueOff/valueLen.
 */
export class BatchReader {
  /** The batch's header; with buf, set by the constructor and reset() only. */
  sequence = 0
  count = 0
  buf: Uint8Array
  readonly #reader: ByteReader
  #seen = 0
  type: ValueType = ValueType.Value
  keyOff = 0
  keyLen = 0
  valueOff = 0
  valueLen = 0

  constructor (buf: Uint8Array, off: number, len: number, what: string) {
    this.buf = buf
    this.#reader = new ByteReader(buf, off, off + len, what)
    this.#readHeader(len)
  }

  /**
   * Reads another batch with this reader, as if new: the commit's reader is one per Db, reused for every
   * group (no allocation per write).
   */
  reset (buf: Uint8Array, off: number, len: number, what: string): this {
    this.buf = buf
    this.#reader.reset(buf, off, off + len, what)
    this.#seen = 0
    this.#readHeader(len)
    return this
  }

  #readHeader (len: number): void {
    if (len < BATCH_HEADER) this.#reader.fail('log record too small for a WriteBatch')
    this.sequence = this.#reader.fixed64()
    this.count = this.#reader.fixed32()
  }

  /** Records read so far: the current one is the batch's record number seen - 1. */
  get seen (): number {
    return this.#seen
  }

  next (): boolean {
    const r = this.#reader
    if (r.remaining === 0) {
      if (this.#seen !== this.count) r.fail(`WriteBatch has wrong count (${this.#seen} records, header says ${this.count})`)
      return false
    }
    const tag = r.u8()
    if (tag !== ValueType.Value && tag !== ValueType.Deletion) r.fail(`unknown WriteBatch tag ${tag}`, r.pos - 1)
    this.type = tag
    this.keyOff = r.lengthPrefixed()
    this.keyLen = r.pos - this.keyOff
    if (tag === ValueType.Value) {
      this.valueOff = r.lengthPrefixed()
      this.valueLen = r.pos - this.valueOff
    } else {
      this.valueOff = r.pos
      this.valueLen = 0
    }
    this.#seen++
    return true
  }
}

/**
 * Adds the records `batch` has not yet read to mem, at most `limit` of them, each numbered from the batch's
 * sequence by its place in the batch (LevelDB's WriteBatchInternal::InsertInto): for the commit path and
 * log replay alike. True when the batch has no record left; false when `limit` records were added (a
 * caller that adds a large batch a part at a time calls again). A record that does not parse throws
 * LEVEL_CORRUPTION, after the records before it were added.
 */
export function insertBatch (batch: BatchReader, mem: MemTable, limit = Infinity): boolean {
  const buf = batch.buf
  for (let n = 0; n < limit; n++) {
    if (!batch.next()) return true
    mem.add(batch.sequence + batch.seen - 1, batch.type, buf, batch.keyOff, batch.keyLen, buf, batch.valueOff, batch.valueLen)
  }
  return false
}
