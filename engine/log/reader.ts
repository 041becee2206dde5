// Reads records back from a log file's bytes (LevelDB db/log_reader.cc). What counts as damage is decided
// once, here, for every reader of logs (docs/format.md, "Torn tails and damage"):
// - a bad record with no valid record after it up to the end of the file (a torn write, or a
//   zero-filled tail) ends the log silently, as a crash leaves it (tornAt says where);
// - a bad record followed by a valid record is damage. "Followed by a valid record" is decided at the
//   next block boundaries, the only places where a record start can be found without trusting a damaged
//   length.
// What happens at damage is the caller's policy: without a reporter the reader throws LEVEL_CORRUPTION
// naming the file and offset (recovery, the MANIFEST); with one (LevelDB's log::Reader::Reporter) it
// reports the bytes it drops and reads on past them, resyncing at the next 32 KiB block after a bad
// physical record as LevelDB's reader does (repair, the command-line tool's dump and verify).
import { corruption, type EngineError } from '../errors'
import { getFixed32 } from '../util/coding'
import { crc32c, unmask } from '../util/crc32c'
import { BLOCK_SIZE, HEADER_SIZE, RecordType, TYPE_CRC } from './format'

/** Told what a lenient reader drops (LevelDB's log::Reader::Reporter). */
export interface LogReporter {
  /**
   * Bytes [offset, end) could not be read: damage, with valid records after it. They include the
   * fragments already read of a record the damage cut off. `error` names the file and the offset of the
   * check that failed. Reading goes on at `end`.
   */
  corruption (offset: number, end: number, error: EngineError): void
}

export class LogReader {
  readonly data: Uint8Array
  readonly fileName: string
  readonly #reporter: LogReporter | undefined
  readonly #inPlace: boolean
  #pos = 0
  /** Header offset of the physical record #readPhysical read last (after any block trailer it skipped). */
  #physicalStart = 0
  /** The fragments read so far of the record being assembled, and its first fragment's header offset. */
  #parts: Uint8Array[] | undefined
  #partsStart = 0
  /** Offset of the record returned last (its first fragment's header). */
  recordOffset = 0
  /** Set when the reader stopped at a torn tail; the offset where the dropped bytes began. */
  tornAt = -1

  /**
   * Without `reporter`, damage throws LEVEL_CORRUPTION; with it, damage is reported and skipped. Reading
   * begins at `start`: 0, or where a record read before ended (a follower resuming a log or MANIFEST that
   * grew; data[0, start) is then never read, and need not hold the file's bytes). With `inPlace`, `data` is
   * the caller's to change: a record that spans blocks is moved together over its fragments' headers and
   * returned as a view, not copied into a new array (a follower's log tail: engine/db/log-tail.ts), so that
   * data[recordOffset, resumeAt) no longer holds the file's bytes.
   */
  constructor (data: Uint8Array, fileName: string, reporter?: LogReporter, start = 0, inPlace = false) {
    this.data = data
    this.fileName = fileName
    this.#reporter = reporter
    this.#pos = start
    this.#inPlace = inPlace
  }

  /** Where reading stopped: the end of the data, or where a torn tail began (a record read later resumes there). */
  get resumeAt (): number {
    return this.tornAt >= 0 ? this.tornAt : Math.max(this.#pos, 0)
  }

  /**
   * The next logical record, or undefined at the end. A FULL record is returned as a view into the
   * file's bytes; a fragmented one is assembled into a new array, or in place (see the constructor).
   */
  readRecord (): Uint8Array | undefined {
    this.#parts = undefined
    for (;;) {
      const type = this.#readPhysical()
      if (type === undefined) {
        // End of data, or a torn tail; a record cut short by it is dropped from its first fragment.
        if (this.#parts !== undefined) this.tornAt = this.#partsStart
        this.#parts = undefined
        return undefined
      }
      const at = this.#physicalStart
      const payload = this.data.subarray(at + HEADER_SIZE, this.#pos)
      switch (type) {
        case RecordType.Full:
        case RecordType.First:
          // An empty FIRST before it is tolerated: old LevelDB writers left one at a block's end.
          if (this.#parts !== undefined && totalLength(this.#parts) > 0) {
            this.#damage(this.#partsStart, 'partial record without end', at)
            continue // at this record again, with nothing pending
          }
          if (type === RecordType.Full) {
            this.#parts = undefined
            this.recordOffset = at
            return payload
          }
          this.#parts = [payload]
          this.#partsStart = at
          break
        case RecordType.Middle:
        case RecordType.Last: {
          const parts = this.#parts
          if (parts === undefined) {
            this.#damage(at, 'missing start of fragmented record', this.#pos)
            continue
          }
          parts.push(payload)
          if (type === RecordType.Middle) break
          this.#parts = undefined
          this.recordOffset = this.#partsStart
          return this.#inPlace ? this.#gather(parts) : concat(parts)
        }
        default:
          this.#damage(at, `unknown record type ${type}`, this.#pos)
      }
    }
  }

  /**
   * Moves the fragments' payloads (views of data, in order) down to follow the first one, over the headers
   * and block trailers between them, and returns the record they make. Only moves bytes down, within the
   * record's own span, which the reader never reads again.
   */
  #gather (parts: Uint8Array[]): Uint8Array {
    const data = this.data
    const start = parts[0].byteOffset - data.byteOffset
    let end = start + parts[0].length
    for (let i = 1; i < parts.length; i++) {
      const from = parts[i].byteOffset - data.byteOffset
      data.copyWithin(end, from, from + parts[i].length)
      end += parts[i].length
    }
    return data.subarray(start, end)
  }

  /** Reads one physical record at #pos; returns its type, or undefined at the end or a torn tail. */
  #readPhysical (): number | undefined {
    const data = this.data
    for (;;) {
      const pos = this.#pos
      const blockLeft = BLOCK_SIZE - (pos % BLOCK_SIZE)
      if (blockLeft < HEADER_SIZE) {
        // A block trailer: zeros the writer left. Skip to the next block.
        this.#pos = Math.min(data.length, pos + blockLeft)
        if (this.#pos === data.length) return undefined
        continue
      }
      if (pos >= data.length) return undefined
      const problem = checkPhysical(data, pos)
      if (problem === undefined) {
        this.#physicalStart = pos
        this.#pos = pos + HEADER_SIZE + (data[pos + 4] | (data[pos + 5] << 8))
        return data[pos + 6]
      }
      // A bad record: a torn tail if nothing valid follows, damage otherwise.
      if (!validRecordAfter(data, pos)) {
        this.tornAt = pos
        this.#pos = data.length
        return undefined
      }
      this.#damage(pos, problem, Math.min(data.length, pos + blockLeft))
    }
  }

  /**
   * Damage at `at`: throws without a reporter; with one, reports what is dropped (from the start of a
   * record it cut off) and moves on to `resumeAt`.
   */
  #damage (at: number, message: string, resumeAt: number): void {
    const error = corruption(`${message} in ${this.fileName} at offset ${at}`)
    const reporter = this.#reporter
    if (reporter === undefined) throw error
    const from = this.#parts === undefined ? at : Math.min(at, this.#partsStart)
    this.#parts = undefined
    this.#pos = resumeAt
    reporter.corruption(from, resumeAt, error)
  }
}

/** Why the physical record at pos is not valid, or undefined if it is. */
function checkPhysical (data: Uint8Array, pos: number): string | undefined {
  if (data.length - pos < HEADER_SIZE) return 'truncated record header'
  const length = data[pos + 4] | (data[pos + 5] << 8)
  const type = data[pos + 6]
  if (type === RecordType.Zero && length === 0) return 'zero-filled record'
  if (pos + HEADER_SIZE + length > data.length) return 'truncated record'
  if ((pos % BLOCK_SIZE) + HEADER_SIZE + length > BLOCK_SIZE) return 'bad record length'
  const expected = unmask(getFixed32(data, pos))
  const seed = type <= RecordType.Last ? TYPE_CRC[type] : crc32c(Uint8Array.of(type), 0)
  const actual = crc32c(data.subarray(pos + HEADER_SIZE, pos + HEADER_SIZE + length), seed)
  if (actual !== expected) return 'checksum mismatch'
  return undefined
}

/**
 * True if a valid physical record follows the bad one at pos: anywhere later in its block (a damaged
 * length cannot say where the next record starts, so every offset is tried; a torn write leaves
 * nothing valid behind it), or at any later block boundary.
 */
function validRecordAfter (data: Uint8Array, pos: number): boolean {
  const blockEnd = Math.min(data.length, (Math.floor(pos / BLOCK_SIZE) + 1) * BLOCK_SIZE)
  for (let p = pos + 1; p + HEADER_SIZE <= blockEnd; p++) {
    const type = data[p + 6]
    // Only a plausible header is worth a CRC: types 1-4 and a length that fits the block.
    if (type < RecordType.Full || type > RecordType.Last) continue
    if (p + HEADER_SIZE + (data[p + 4] | (data[p + 5] << 8)) > blockEnd) continue
    if (checkPhysical(data, p) === undefined) return true
  }
  for (let b = blockEnd; b < data.length; b += BLOCK_SIZE) {
    if (checkPhysical(data, b) === undefined) return true
  }
  return false
}

function totalLength (parts: Uint8Array[]): number {
  let n = 0
  for (const p of parts) n += p.length
  return n
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(totalLength(parts))
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}
