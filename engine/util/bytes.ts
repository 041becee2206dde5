// The engine's one byte API, over plain Uint8Arrays: uninitialised allocation, copies, UTF-8 and hex. The
// engine runs where there is no Node Buffer (a browser), so it never names Buffer; where Buffer exists its
// methods are used, chosen once at load, because they are faster than the portable forms on hot paths:
// allocUnsafe draws small buffers from a pool instead of creating an ArrayBuffer each, and copy, utf8Slice
// and utf8Write work on any Uint8Array without making a view first (subarray + set, TextEncoder.encodeInto
// and TextDecoder each allocate one per call).

/** What the engine uses of Node's Buffer. The prototype's methods take any Uint8Array as `this`. */
export interface NodeBuffer {
  allocUnsafe (size: number): Uint8Array
  allocUnsafeSlow (size: number): Uint8Array
  byteLength (string: string, encoding: 'utf8'): number
  from (string: string, encoding: 'utf8'): Uint8Array
  prototype: object
}

// Node's Buffer.prototype methods on any Uint8Array; utf8Slice, utf8Write and hexSlice are undocumented in
// @types/node, hence this one description of them.
interface BufferMethods {
  copy (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number): number
  utf8Slice (this: Uint8Array, start: number, end: number): string
  utf8Write (this: Uint8Array, string: string, offset: number): number
  hexSlice (this: Uint8Array, start: number, end: number): string
}

export interface ByteApi {
  /** `size` uninitialised bytes, possibly a view of a pool shared with other small allocations. */
  allocUnsafe (size: number): Uint8Array
  /**
   * `size` uninitialised bytes that are the whole of their own ArrayBuffer, as a plain Uint8Array (whose
   * subarray() is several times cheaper than a Buffer's, which goes through Buffer's constructor).
   */
  allocUnsafeOwn (size: number): Uint8Array<ArrayBuffer>
  /** Copies source[sourceStart, sourceStart + length) to target at targetStart. Requires: the ranges do not overlap. */
  copyBytes (source: Uint8Array, sourceStart: number, length: number, target: Uint8Array, targetStart: number): void
  /** Bytes of `string` in UTF-8 (a lone surrogate counts 3, as the U+FFFD it is written as). */
  utf8Length (string: string): number
  /** `string` as UTF-8, in new memory. */
  encodeUtf8 (string: string): Uint8Array
  /**
   * Writes `string` as UTF-8 at target[offset]; returns the bytes written.
   * Requires: room for utf8Length(string) bytes (3 per UTF-16 unit always suffices).
   */
  encodeUtf8Into (target: Uint8Array, offset: number, string: string): number
  /** bytes[start, end) decoded as UTF-8, malformed sequences as U+FFFD, a byte-order mark kept. */
  decodeUtf8 (bytes: Uint8Array, start?: number, end?: number): string
  /** bytes as lower-case hex. */
  toHex (bytes: Uint8Array): string
}

/** Below this many bytes a loop beats a bulk copy (measured with Buffer#copy: 16-byte keys, 100-byte values). */
const SHORT_COPY = 48

/** The byte API over `buffer`'s methods, or over portable ones when it is undefined. */
export function bytesOver (buffer: NodeBuffer | undefined): ByteApi {
  return buffer !== undefined && isNodeBuffer(buffer) ? nodeBytes(buffer) : portableBytes()
}

/** Node's own Buffer, not a polyfill (the npm `buffer` package has none of these methods on its prototype). */
function isNodeBuffer (buffer: NodeBuffer): boolean {
  const methods = buffer.prototype as Partial<BufferMethods>
  return typeof buffer.allocUnsafeSlow === 'function' && typeof methods.copy === 'function' &&
    typeof methods.utf8Slice === 'function' && typeof methods.utf8Write === 'function' && typeof methods.hexSlice === 'function'
}

function nodeBytes (buffer: NodeBuffer): ByteApi {
  const { copy, utf8Slice, utf8Write, hexSlice } = buffer.prototype as BufferMethods
  return {
    allocUnsafe: (size) => buffer.allocUnsafe(size),
    allocUnsafeOwn: (size) => new Uint8Array(buffer.allocUnsafeSlow(size).buffer as ArrayBuffer, 0, size),
    // Buffer#copy allocates nothing but pays a few argument checks.
    copyBytes: copier((source, sourceStart, sourceEnd, target, targetStart) => {
      copy.call(source, target, targetStart, sourceStart, sourceEnd)
    }),
    utf8Length: (string) => buffer.byteLength(string, 'utf8'),
    encodeUtf8: (string) => buffer.from(string, 'utf8'),
    encodeUtf8Into: (target, offset, string) => utf8Write.call(target, string, offset),
    decodeUtf8: (bytes, start = 0, end = bytes.length) => utf8Slice.call(bytes, start, end),
    toHex: (bytes) => hexSlice.call(bytes, 0, bytes.length)
  }
}

function portableBytes (): ByteApi {
  const encoder = new TextEncoder()
  // ignoreBOM keeps a leading U+FEFF in the string, as Node's decoding does, instead of dropping it.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  const hexDigits = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))
  return {
    allocUnsafe: (size) => new Uint8Array(size),
    allocUnsafeOwn: (size) => new Uint8Array(size),
    copyBytes: copier((source, sourceStart, sourceEnd, target, targetStart) => {
      target.set(source.subarray(sourceStart, sourceEnd), targetStart)
    }),
    utf8Length: portableUtf8Length,
    encodeUtf8: (string) => encoder.encode(string),
    encodeUtf8Into: (target, offset, string) => encoder.encodeInto(string, target.subarray(offset)).written,
    decodeUtf8 (bytes, start = 0, end = bytes.length) {
      // TextDecoder refuses views of shared memory (a memtable's arena on an isolated page): decode a copy.
      return decoder.decode(bytes.buffer instanceof ArrayBuffer ? bytes.subarray(start, end) : bytes.slice(start, end))
    },
    toHex (bytes) {
      let out = ''
      for (let i = 0; i < bytes.length; i++) out += hexDigits[bytes[i]]
      return out
    }
  }
}

type BulkCopy = (source: Uint8Array, sourceStart: number, sourceEnd: number, target: Uint8Array, targetStart: number) => void

/** copyBytes over `bulk`, which runs are too long for a plain loop to beat. */
function copier (bulk: BulkCopy): ByteApi['copyBytes'] {
  return (source, sourceStart, length, target, targetStart) => {
    if (length <= SHORT_COPY) {
      for (let i = 0; i < length; i++) target[targetStart + i] = source[sourceStart + i]
      return
    }
    bulk(source, sourceStart, sourceStart + length, target, targetStart)
  }
}

function portableUtf8Length (string: string): number {
  let n = 0
  for (let i = 0; i < string.length; i++) {
    const c = string.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c < 0xdc00 && (string.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4 // a surrogate pair: one code point above U+FFFF
      i++
    } else n += 3
  }
  return n
}

const globalBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer

export const {
  allocUnsafe, allocUnsafeOwn, copyBytes, utf8Length, encodeUtf8, encodeUtf8Into, decodeUtf8, toHex
} = bytesOver(globalBuffer)
