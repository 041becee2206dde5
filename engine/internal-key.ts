// Internal keys (LevelDB db/dbformat.h): `user key ‖ fixed64 tag`, tag = (sequence << 8) | type.
// Order: user key ascending (bytewise), then tag descending as an unsigned 64-bit number, so the newest
// version of a key comes first and, at one sequence, a value before a deletion.
//
// A tag can exceed 2^53 (shortened index keys carry sequence 2^56 - 1), so tags are compared as two
// uint32 halves and never turned into a JS number. A sequence read as a number must be below 2^53.
import { corruption } from './errors'
import { getFixed32 } from './util/coding'

export const enum ValueType {
  Deletion = 0,
  Value = 1
}

/** The type used to build seek keys: the highest, so (k, s, ValueTypeForSeek) sorts before every (k, s, *). */
export const VALUE_TYPE_FOR_SEEK = ValueType.Value
export const TAG_BYTES = 8
const TWO_24 = 0x1000000

/** Largest sequence number our own writes may use (sequences are JS numbers). */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER

/** Writes the 8-byte tag for (sequence < 2^53, type) at off; returns the offset after it. */
export function putTag (buf: Uint8Array, off: number, sequence: number, type: ValueType): number {
  const lo = ((sequence % TWO_24) * 256 + type) >>> 0
  const hi = Math.floor(sequence / TWO_24)
  buf[off] = lo
  buf[off + 1] = lo >>> 8
  buf[off + 2] = lo >>> 16
  buf[off + 3] = lo >>> 24
  buf[off + 4] = hi
  buf[off + 5] = hi >>> 8
  buf[off + 6] = hi >>> 16
  buf[off + 7] = hi >>> 24
  return off + 8
}

/** Writes the tag (2^56 - 1, Value) that LevelDB gives shortened separators and range starts. */
export function putMaxTag (buf: Uint8Array, off: number): number {
  buf[off] = ValueType.Value
  buf.fill(0xff, off + 1, off + 8)
  return off + 8
}

/** The value type of the internal key ending at `end`. */
export function tagType (buf: Uint8Array, end: number): number {
  return buf[end - 8]
}

/** The sequence of the internal key ending at `end`; corruption if it is not below 2^53. */
export function tagSequence (buf: Uint8Array, end: number): number {
  const lo = getFixed32(buf, end - 8)
  const hi = getFixed32(buf, end - 4)
  if (hi >= 0x20000000) throw corruption(`sequence number beyond 2^53 in internal key`)
  return hi * TWO_24 + (lo >>> 8)
}

/** memcmp over the common length, then the shorter first: LevelDB's BytewiseComparator. */
export function compareBytes (
  a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number
): number {
  const n = aLen < bLen ? aLen : bLen
  for (let i = 0; i < n; i++) {
    const d = a[aOff + i] - b[bOff + i]
    if (d !== 0) return d
  }
  return aLen - bLen
}

/** Compares two internal keys (each at least 8 bytes). */
export function compareInternalKeys (
  a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number
): number {
  const c = compareBytes(a, aOff, aLen - 8, b, bOff, bLen - 8)
  if (c !== 0) return c
  // Tag descending: compare high halves, then low halves, as unsigned numbers.
  const aEnd = aOff + aLen
  const bEnd = bOff + bLen
  const ah = getFixed32(a, aEnd - 4)
  const bh = getFixed32(b, bEnd - 4)
  if (ah !== bh) return ah < bh ? 1 : -1
  const al = getFixed32(a, aEnd - 8)
  const bl = getFixed32(b, bEnd - 8)
  return al === bl ? 0 : al < bl ? 1 : -1
}
