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
    this.#addFragmented(buf, off, len)
  }

  #addFragmented (buf: Uint8Array, off: number, len: number): void {
    // Upper bound on the framed size: one header per started block plus a zero trailer per block.
    const maxSize = len + (Math.ceil((len + HEADER_SIZE) / (BLOCK_SIZE - HEADER_SIZE)) + 2) * HEADER_SIZE * 2
    if (this.#scratch.length < maxSize) this.#scratch = new Uint8Array(Math.max(maxSize, this.#scratch.length * 2))
    const out = this.#scratch
    let pos = 0
    let remaining = len
    let begin = true
    let blockOffset = this.#blockOffset
    do {
      const leftover = BLOCK_SIZE - blockOffset
      if (leftover < HEADER_SIZE) {
        out.fill(0, pos, pos + leftover)
        pos += leftover
        blockOffset = 0
      }
      const avail = BLOCK_SIZE - blockOffset - HEADER_SIZE
      const fragment = remaining < avail ? remaining : avail
      const end = fragment === remaining
      const type = begin && end ? RecordType.Full : begin ? RecordType.First : end ? RecordType.Last : RecordType.Middle
      writeHeader(out, pos, type, buf, off, fragment)
      out.set(buf.subarray(off, off + fragment), pos + HEADER_SIZE)
      pos += HEADER_SIZE + fragment
      blockOffset += HEADER_SIZE + fragment
      off += fragment
      remaining -= fragment
      begin = false
    } while (remaining > 0)
    this.file.append(out, 0, pos)
    this.#blockOffset = blockOffset
  }
}

function writeHeader (out: Uint8Array, at: number, type: RecordType, data: Uint8Array, off: number, len: number): void {
  const crc = crc32c(data.subarray(off, off + len), TYPE_CRC[type])
  putFixed32(out, at, mask(crc))
  out[at + 4] = len & 0xff
  out[at + 5] = len >>> 8
  out[at + 6] = type
}
