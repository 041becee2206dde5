// LevelDB's integer coding (util/coding.h): little-endian fixed32/fixed64 and base-128 varints,
// least-significant group first, always written in the minimal form.
//
// 64-bit quantities are JS numbers only where they are known to stay below 2^53 (file numbers, sizes,
// sequence numbers of our own writes); decoding a larger one is corruption, never a rounded value.
// Internal-key tags, which may legitimately exceed 2^53, are handled as two uint32 halves elsewhere.
import { corruption } from '../errors'

export const MAX_VARINT32_BYTES = 5
export const MAX_VARINT64_BYTES = 10
const TWO_32 = 0x100000000

export function putFixed32 (buf: Uint8Array, off: number, v: number): number {
  buf[off] = v
  buf[off + 1] = v >>> 8
  buf[off + 2] = v >>> 16
  buf[off + 3] = v >>> 24
  return off + 4
}

export function getFixed32 (buf: Uint8Array, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0
}

/** Writes v (an integer in [0, 2^53)) as fixed64. */
export function putFixed64 (buf: Uint8Array, off: number, v: number): number {
  putFixed32(buf, off, v >>> 0)
  return putFixed32(buf, off + 4, Math.floor(v / TWO_32))
}

/** Reads a fixed64 that must be below 2^53; larger values are reported as corruption. */
export function getFixed64 (buf: Uint8Array, off: number): number {
  const lo = getFixed32(buf, off)
  const hi = getFixed32(buf, off + 4)
  if (hi >= 0x200000) throw corruption(`64-bit value at offset ${off} exceeds 2^53`)
  return hi * TWO_32 + lo
}

export function varintLength (v: number): number {
  let n = 1
  while (v >= 128) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

/** Writes v (an integer in [0, 2^32)) as a varint; returns the offset after it. */
export function putVarint32 (buf: Uint8Array, off: number, v: number): number {
  while (v >= 128) {
    buf[off++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[off++] = v
  return off
}

/** Writes v (an integer in [0, 2^53)) as a varint; returns the offset after it. */
export function putVarint64 (buf: Uint8Array, off: number, v: number): number {
  while (v >= 128) {
    buf[off++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  buf[off++] = v
  return off
}

/**
 * A cursor over untrusted bytes: every read checks that the bytes exist before the limit and throws
 * LEVEL_CORRUPTION naming `what` and the offset otherwise. One reader is reused for a whole decode,
 * so decoding allocates nothing per field.
 */
export class ByteReader {
  buf: Uint8Array
  pos: number
  limit: number
  what: string

  constructor (buf: Uint8Array, pos = 0, limit = buf.length, what = 'record') {
    this.buf = buf
    this.pos = pos
    this.limit = limit
    this.what = what
  }

  reset (buf: Uint8Array, pos: number, limit: number, what: string): this {
    this.buf = buf
    this.pos = pos
    this.limit = limit
    this.what = what
    return this
  }

  get remaining (): number {
    return this.limit - this.pos
  }

  fail (message: string, at = this.pos): never {
    throw corruption(`${message} in ${this.what} at offset ${at}`)
  }

  u8 (): number {
    if (this.pos >= this.limit) this.fail('truncated byte')
    return this.buf[this.pos++]
  }

  fixed32 (): number {
    if (this.limit - this.pos < 4) this.fail('truncated fixed32')
    const v = getFixed32(this.buf, this.pos)
    this.pos += 4
    return v
  }

  fixed64 (): number {
    if (this.limit - this.pos < 8) this.fail('truncated fixed64')
    const at = this.pos
    const lo = getFixed32(this.buf, at)
    const hi = getFixed32(this.buf, at + 4)
    if (hi >= 0x200000) this.fail('64-bit value exceeds 2^53', at)
    this.pos += 8
    return hi * TWO_32 + lo
  }

  /** As LevelDB: at most 5 bytes; data bits above bit 31 in the fifth byte are dropped. */
  varint32 (): number {
    const start = this.pos
    let result = 0
    for (let shift = 0; shift <= 28; shift += 7) {
      if (this.pos >= this.limit) this.fail('truncated varint32', start)
      const b = this.buf[this.pos++]
      result |= (b & 0x7f) << shift
      if (b < 128) return result >>> 0
    }
    return this.fail('varint32 longer than 5 bytes', start)
  }

  /** A varint64 whose value must be below 2^53 (file numbers, sizes, sequences). */
  varint64 (): number {
    const start = this.pos
    let result = 0
    let mul = 1
    for (let i = 0; i < MAX_VARINT64_BYTES; i++) {
      if (this.pos >= this.limit) this.fail('truncated varint64', start)
      const b = this.buf[this.pos++]
      result += (b & 0x7f) * mul
      if (b < 128) {
        if (result > Number.MAX_SAFE_INTEGER) this.fail('64-bit value exceeds 2^53', start)
        return result
      }
      mul *= 128
    }
    return this.fail('varint64 longer than 10 bytes', start)
  }

  /** Skips `n` bytes, returning the offset where they start. */
  skip (n: number): number {
    if (n > this.limit - this.pos) this.fail(`length ${n} past the end`)
    const at = this.pos
    this.pos += n
    return at
  }

  /** A length-prefixed slice: returns its start offset; its length is `pos - start` after the call. */
  lengthPrefixed (): number {
    const n = this.varint32()
    return this.skip(n)
  }
}
