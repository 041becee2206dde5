// Reads records back from a log file's bytes (LevelDB db/log_reader.cc), with rough-level's stricter
// policy (design.md, "Torn tail or corruption"):
// - a bad record with no valid record after it up to the end of the file (a torn write, or a
//   zero-filled tail) ends the log silently, as a crash leaves it;
// - a bad record followed by a valid record is damage: LEVEL_CORRUPTION naming the file and offset.
// "Followed by a valid record" is decided at the next block boundaries, the only places where a record
// start can be found without trusting a damaged length.
import { corruption } from '../errors'
import { getFixed32 } from '../util/coding'
import { crc32c, unmask } from '../util/crc32c'
import { BLOCK_SIZE, HEADER_SIZE, RecordType, TYPE_CRC } from './format'

export class LogReader {
  readonly data: Uint8Array
  readonly fileName: string
  #pos = 0
  /** Header offset of the physical record #readPhysical read last (after any block trailer it skipped). */
  #physicalStart = 0
  /** Offset of the record returned last (its first fragment's header). */
  recordOffset = 0
  /** Set when the reader stopped at a torn tail; the offset where the dropped bytes began. */
  tornAt = -1
  /**
   * Set when readRecord() threw LEVEL_CORRUPTION: the offset of the damage it names, and where reading
   * can go on (past the record that revealed it, or at the next block as LevelDB's reader resyncs).
   */
  damageAt = -1
  resumeAt = -1

  /** `start` (0, or a resumeAt after damage) is where reading begins. */
  constructor (data: Uint8Array, fileName: string, start = 0) {
    this.data = data
    this.fileName = fileName
    this.#pos = start
  }

  /**
   * The next logical record, or undefined at the end. A FULL record is returned as a view into the
   * file's bytes; a fragmented one is assembled into a new array.
   */
  readRecord (): Uint8Array | undefined {
    let parts: Uint8Array[] | undefined
    let partsStart = 0
    for (;;) {
      const type = this.#readPhysical()
      if (type === undefined) {
        // End of data, or a torn tail; a record cut short by it is dropped from its first fragment.
        if (parts !== undefined) this.tornAt = partsStart
        return undefined
      }
      const at = this.#physicalStart
      const payload = this.data.subarray(at + HEADER_SIZE, this.#pos)
      switch (type) {
        case RecordType.Full:
          if (parts !== undefined && totalLength(parts) > 0) this.#damage(partsStart, 'partial record without end', at)
          this.recordOffset = at
          return payload
        case RecordType.First:
          if (parts !== undefined && totalLength(parts) > 0) this.#damage(partsStart, 'partial record without end', at)
          parts = [payload]
          partsStart = at
          break
        case RecordType.Middle:
          if (parts === undefined) this.#damage(at, 'missing start of fragmented record', this.#pos)
          parts.push(payload)
          break
        case RecordType.Last: {
          if (parts === undefined) this.#damage(at, 'missing start of fragmented record', this.#pos)
          parts.push(payload)
          this.recordOffset = partsStart
          return concat(parts)
        }
        default:
          this.#damage(at, `unknown record type ${type}`, this.#pos)
      }
    }
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
      if (validRecordAfter(data, pos)) this.#damage(pos, problem, Math.min(data.length, pos + blockLeft))
      this.tornAt = pos
      this.#pos = data.length
      return undefined
    }
  }

  #damage (at: number, message: string, resumeAt: number): never {
    this.damageAt = at
    this.resumeAt = resumeAt
    throw corruption(`${message} in ${this.fileName} at offset ${at}`)
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
