// Appends records to a log file in LevelDB's format (db/log_writer.cc): each record split into
// FULL / FIRST / MIDDLE / LAST fragments so that no fragment crosses a 32 KiB block boundary, a block
// tail shorter than a header zero-filled. A record is written with one append (one write syscall),
// which is what lets a whole commit group share a single write.
import type { WritableFile } from '../fs/file-system'
import { crc32c, mask } from '../util/crc32c'
import { putFixed32 } from '../util/coding'
import { BLOCK_SIZE, HEADER_SIZE, RecordType, TYPE_CRC } from './format'

export class LogWriter {
  readonly file: WritableFile
  /** Offset within the current block. */
  #blockOffset: number
  /** Framing space for records that need more than one header; grown as needed and reused. */
  #scratch: Uint8Array = new Uint8Array(0)

  /** `fileLength` is the file's current size (0 for a new file). */
  constructor (file: WritableFile, fileLength = 0) {
    this.file = file
    this.#blockOffset = fileLength % BLOCK_SIZE
  }

  /**
   * Appends the record buf[off, off + len). When the record fits in the current block as one FULL
   * fragment and the caller left HEADER_SIZE writable bytes before `off` (headroom), the header is
   * written there in place and nothing is copied.
   */
  addRecord (buf: Uint8Array, off: number, len: number, headroom = false): void {
    if (this.#blockOffset === BLOCK_SIZE) this.#blockOffset = 0 // the last record filled its block exactly
    const leftover = BLOCK_SIZE - this.#blockOffset
    if (headroom && off >= HEADER_SIZE && leftover >= HEADER_SIZE + len) {
      writeHeader(buf, off - HEADER_SIZE, RecordType.Full, buf, off, len)
      this.file.append(buf, off - HEADER_SIZE, HEADER_SIZE + len)
      this.#blockOffset += HEADER_SIZE + len
      return
    }
    this.beginRecord(buf, off, len)
    while (!this.appendPart()) {
      // the whole record, a part at a time
    }
  }

  // The record beginRecord started and appendPart writes; its bytes stay the caller's until it is done.
  #buf: Uint8Array = EMPTY
  #off = 0
  #remaining = 0
  #begun = false

  /**
   * Starts appending the record buf[off, off + len) in parts (appendPart), for a record too large to
   * write at once (a large batch, committed across turns of the event loop). Until appendPart returns
   * true the file holds part of the record (a torn tail, if the process dies) and no other record may be
   * added.
   */
  beginRecord (buf: Uint8Array, off: number, len: number): void {
    if (this.#remaining > 0) throw new Error('internal: a log record is already being appended')
    this.#buf = buf
    this.#off = off
    this.#remaining = len
    this.#begun = false
    if (len === 0) this.#appendFragments(0) // an empty record is one FULL fragment
  }

  /**
   * Appends the next fragments of the record begun, about PART_BYTES of them with one write; true when
   * the record is complete.
   */
  appendPart (): boolean {
    if (this.#remaining > 0) this.#appendFragments(PART_BYTES)
    if (this.#remaining > 0) return false
    this.#buf = EMPTY
    return true
  }

  #appendFragments (budget: number): void {
    // Framed size at most: the budget plus one fragment that starts within it (up to a block), a header
    // per block started and a zero trailer per block.
    const maxSize = budget + BLOCK_SIZE + (Math.ceil(budget / (BLOCK_SIZE - HEADER_SIZE)) + 3) * HEADER_SIZE * 2
    if (this.#scratch.length < maxSize) this.#scratch = new Uint8Array(maxSize)
    const out = this.#scratch
    const buf = this.#buf
    let pos = 0
    let blockOffset = this.#blockOffset
    do {
      if (blockOffset === BLOCK_SIZE) blockOffset = 0
      const leftover = BLOCK_SIZE - blockOffset
      if (leftover < HEADER_SIZE) {
        out.fill(0, pos, pos + leftover)
        pos += leftover
        blockOffset = 0
      }
      const avail = BLOCK_SIZE - blockOffset - HEADER_SIZE
      const remaining = this.#remaining
      const fragment = remaining < avail ? remaining : avail
      const end = fragment === remaining
      const begin = !this.#begun
      const type = begin && end ? RecordType.Full : begin ? RecordType.First : end ? RecordType.Last : RecordType.Middle
      writeHeader(out, pos, type, buf, this.#off, fragment)
      out.set(buf.subarray(this.#off, this.#off + fragment), pos + HEADER_SIZE)
      pos += HEADER_SIZE + fragment
      blockOffset += HEADER_SIZE + fragment
      this.#off += fragment
      this.#remaining -= fragment
      this.#begun = true
      budget -= fragment
    } while (this.#remaining > 0 && budget > 0)
    try {
      this.file.append(out, 0, pos)
    } catch (err) {
      // The file's tail is now part of a record (recovery drops it): nothing more goes into this log.
      this.#remaining = 0
      this.#buf = EMPTY
      throw err
    }
    this.#blockOffset = blockOffset
  }
}

/** Record bytes appendPart writes at once: a few ms of work, and a bounded framing buffer. */
const PART_BYTES = 256 * 1024

const EMPTY = new Uint8Array(0)

function writeHeader (out: Uint8Array, at: number, type: RecordType, data: Uint8Array, off: number, len: number): void {
  const crc = crc32c(data.subarray(off, off + len), TYPE_CRC[type])
  putFixed32(out, at, mask(crc))
  out[at + 4] = len & 0xff
  out[at + 5] = len >>> 8
  out[at + 6] = type
}
