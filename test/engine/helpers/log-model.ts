// An independent model of LevelDB's log writer (reference §4 and §5.2), written from the format
// reference and sharing no code with engine/: a bitwise CRC-32C, the mask, and the fragmenting loop.
// Tests compare engine/log output with it, and check it in turn against the reference's bytes.

export const BLOCK = 32768
export const HEADER = 7

export function crc32cBitwise (data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0
  for (let i = 0; i < data.length; i++) {
    c ^= data[i]
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  }
  return ~c >>> 0
}

export function maskCrc (crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0
}

/** The 7-byte header of a physical record. */
export function physicalHeader (type: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(HEADER)
  const withType = new Uint8Array(payload.length + 1)
  withType[0] = type
  withType.set(payload, 1)
  h.writeUInt32LE(maskCrc(crc32cBitwise(withType)), 0)
  h.writeUInt16LE(payload.length, 4)
  h[6] = type
  return h
}

export interface ModelRecord {
  /** Offset of the record's first header (after any trailer padding before it). */
  offset: number
  /** Physical fragments: header offset, type and payload length. */
  fragments: Array<{ offset: number, type: number, length: number }>
}

/**
 * Frames `records` as LevelDB's Writer::AddRecord would, starting at file offset `start` (only its
 * position within a block matters). Returns the bytes appended and where each record landed.
 */
export function frameLog (records: readonly Uint8Array[], start = 0): { bytes: Buffer, records: ModelRecord[] } {
  const parts: Buffer[] = []
  const placed: ModelRecord[] = []
  let fileOffset = start
  let blockOffset = start % BLOCK
  for (const record of records) {
    let left = record.length
    let pos = 0
    let begin = true
    const fragments: ModelRecord['fragments'] = []
    let recordOffset = -1
    do {
      const leftover = BLOCK - blockOffset
      if (leftover < HEADER) {
        parts.push(Buffer.alloc(leftover))
        fileOffset += leftover
        blockOffset = 0
      }
      const avail = BLOCK - blockOffset - HEADER
      const n = Math.min(left, avail)
      const end = n === left
      const type = begin && end ? 1 : begin ? 2 : end ? 4 : 3
      const payload = record.subarray(pos, pos + n)
      if (recordOffset < 0) recordOffset = fileOffset
      fragments.push({ offset: fileOffset, type, length: n })
      parts.push(physicalHeader(type, payload), Buffer.from(payload))
      fileOffset += HEADER + n
      blockOffset += HEADER + n
      pos += n
      left -= n
      begin = false
    } while (left > 0)
    placed.push({ offset: recordOffset, fragments })
  }
  return { bytes: Buffer.concat(parts), records: placed }
}

/**
 * Where each record of an undamaged log lies, from its headers alone (no checksum is read): FULL records,
 * and FIRST..LAST runs grouped into one. Stops at a zero-filled header or the end of the bytes.
 */
export function recordsOf (bytes: Uint8Array): ModelRecord[] {
  const out: ModelRecord[] = []
  let current: ModelRecord | undefined
  let pos = 0
  while (pos + HEADER <= bytes.length) {
    const left = BLOCK - (pos % BLOCK)
    if (left < HEADER) {
      pos += left
      continue
    }
    const length = bytes[pos + 4] | (bytes[pos + 5] << 8)
    const type = bytes[pos + 6]
    if (type === 0 && length === 0) break
    const fragment = { offset: pos, type, length }
    if (type === 1 || type === 2) current = { offset: pos, fragments: [] }
    current?.fragments.push(fragment)
    if ((type === 1 || type === 4) && current !== undefined) {
      out.push(current)
      current = undefined
    }
    pos += HEADER + length
  }
  return out
}
