// Snappy's raw block format, as LevelDB stores compressed blocks (trailer type 1): a varint32 of the
// uncompressed length, then elements: a literal (tag & 3 = 0: length in the tag, or in 1-4 following
// bytes when the tag says 60-63) followed by its bytes, or a copy of earlier output (tag & 3 = 1: 4-11
// bytes, 11-bit offset; 2: 1-64 bytes, 16-bit offset; 3: 1-64 bytes, 32-bit offset). No framing, no
// inner checksum (the block trailer's crc32c covers the stored bytes).
//
// Written here rather than taken from snappyjs, because both directions sit on the hot paths of flushes,
// compactions and table reads:
// - compressInto writes into the caller's buffer (the table builder's output staging), reuses one hash
//   table per thread and clears only the part a block uses; snappyjs allocates its output and clears a
//   16 Ki-entry table with a loop on every call (about 2x slower on 4 KiB blocks: bench/snappy.ts);
// - uncompress checks every element against its input and the claimed length (snappyjs writes past its
//   output silently and reads a truncated input as zeros, so damage would become plausible bytes).
// The compressor follows the reference algorithm's shape (hash of 4 bytes -> last position, skipping
// ahead faster through input that does not match), so it compresses as well as other snappy encoders;
// any valid encoding decodes the same, in LevelDB's and every other reader.
import { corruption } from '../errors'
import { allocUnsafeOwn } from '../util/bytes'

/** Input is compressed in fragments of this size: copy offsets then fit in 16 bits. */
const FRAGMENT = 1 << 16
const MAX_HASH_BITS = 14
/** A fragment's last bytes are emitted as a literal: 4-byte loads near the end would read past it. */
const INPUT_MARGIN = 15
/** The most one byte of snappy input can become: a 3-byte copy element yields up to 64 bytes. */
const MAX_EXPANSION = 22

/** Bytes compressInto may write for `n` bytes of input (snappy's MaxCompressedLength). */
export function maxCompressedLength (n: number): number {
  return 32 + n + Math.floor(n / 6)
}

// One hash table per thread, cleared per fragment for the slots that fragment's size uses.
const table = new Uint16Array(1 << MAX_HASH_BITS)

function load32 (b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)
}

/**
 * Compresses src[srcOff, srcOff + srcLen) into dst from dstOff, which must have maxCompressedLength(srcLen)
 * bytes of room; returns the number of bytes written.
 */
export function compressInto (src: Uint8Array, srcOff: number, srcLen: number, dst: Uint8Array, dstOff: number): number {
  let op = dstOff
  let n = srcLen
  while (n >= 0x80) {
    dst[op++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  dst[op++] = n
  const end = srcOff + srcLen
  for (let start = srcOff; start < end; start += FRAGMENT) {
    op = compressFragment(src, start, Math.min(FRAGMENT, end - start), dst, op)
  }
  return op - dstOff
}

function compressFragment (src: Uint8Array, base: number, len: number, dst: Uint8Array, op: number): number {
  const end = base + len
  let nextEmit = base
  if (len >= INPUT_MARGIN) {
    let bits = 8
    while (bits < MAX_HASH_BITS && (1 << bits) < len) bits++
    const shift = 32 - bits
    table.fill(0, 0, 1 << bits)
    const ipLimit = end - INPUT_MARGIN
    let ip = base + 1
    let nextHash = Math.imul(load32(src, ip), 0x1e35a7bd) >>> shift
    outer: for (;;) {
      // Find a 4-byte match, looking further apart the longer none is found (1 byte, then 2, ...).
      let skip = 32
      let nextIp = ip
      let candidate: number
      do {
        ip = nextIp
        const hash = nextHash
        nextIp = ip + (skip++ >>> 5)
        if (nextIp > ipLimit) break outer
        nextHash = Math.imul(load32(src, nextIp), 0x1e35a7bd) >>> shift
        candidate = base + table[hash]
        table[hash] = ip - base
      } while (load32(src, ip) !== load32(src, candidate))

      op = emitLiteral(src, nextEmit, ip - nextEmit, dst, op)
      // Emit copies while the bytes right after each one match again.
      do {
        let matched = 4
        const limit = end - ip
        while (matched + 4 <= limit && load32(src, candidate + matched) === load32(src, ip + matched)) matched += 4
        while (matched < limit && src[candidate + matched] === src[ip + matched]) matched++
        op = emitCopy(dst, op, ip - candidate, matched)
        ip += matched
        nextEmit = ip
        if (ip >= ipLimit) break outer
        table[Math.imul(load32(src, ip - 1), 0x1e35a7bd) >>> shift] = ip - 1 - base
        const hash = Math.imul(load32(src, ip), 0x1e35a7bd) >>> shift
        candidate = base + table[hash]
        table[hash] = ip - base
      } while (load32(src, ip) === load32(src, candidate))
      ip++
      nextHash = Math.imul(load32(src, ip), 0x1e35a7bd) >>> shift
    }
  }
  if (nextEmit < end) op = emitLiteral(src, nextEmit, end - nextEmit, dst, op)
  return op
}

function emitLiteral (src: Uint8Array, from: number, len: number, dst: Uint8Array, op: number): number {
  const n = len - 1
  if (n < 60) {
    dst[op++] = n << 2
  } else if (n < 0x100) {
    dst[op++] = 60 << 2
    dst[op++] = n
  } else if (n < 0x10000) {
    dst[op++] = 61 << 2
    dst[op++] = n & 0xff
    dst[op++] = n >>> 8
  } else if (n < 0x1000000) {
    dst[op++] = 62 << 2
    dst[op++] = n & 0xff
    dst[op++] = (n >>> 8) & 0xff
    dst[op++] = n >>> 16
  } else {
    dst[op++] = 63 << 2
    dst[op++] = n & 0xff
    dst[op++] = (n >>> 8) & 0xff
    dst[op++] = (n >>> 16) & 0xff
    dst[op++] = n >>> 24
  }
  if (len < 64) {
    for (let i = 0; i < len; i++) dst[op + i] = src[from + i]
  } else {
    dst.set(src.subarray(from, from + len), op)
  }
  return op + len
}

function emitCopy (dst: Uint8Array, op: number, offset: number, len: number): number {
  // Pieces of 64, leaving at least 4 for the last one (a 1-byte-offset copy needs 4..11).
  while (len >= 68) {
    op = emitCopyUpTo64(dst, op, offset, 64)
    len -= 64
  }
  if (len > 64) {
    op = emitCopyUpTo64(dst, op, offset, 60)
    len -= 60
  }
  return emitCopyUpTo64(dst, op, offset, len)
}

function emitCopyUpTo64 (dst: Uint8Array, op: number, offset: number, len: number): number {
  if (len < 12 && offset < 2048) {
    dst[op] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5)
    dst[op + 1] = offset & 0xff
    return op + 2
  }
  dst[op] = 2 | ((len - 1) << 2)
  dst[op + 1] = offset & 0xff
  dst[op + 2] = offset >>> 8
  return op + 3
}

let srcView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))
let outView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))

/** Literals this long and longer are copied with set(): below it, the word loop beats a view's allocation. */
const LONG_COPY = 128

function bad (fileName: string, offset: number, why: string): Error {
  return corruption(`corrupted compressed block contents (snappy: ${why}) in ${fileName} at offset ${offset}`)
}

/** Decodes a raw snappy block into new memory of its own; see uncompressInto. */
export function uncompress (src: Uint8Array, fileName = 'block', offset = 0): Uint8Array {
  const length = uncompressedLength(src, fileName, offset)
  const out = allocUnsafeOwn(length)
  uncompressInto(src, out, fileName, offset)
  return out
}

/**
 * The length a raw snappy block says it decodes to (its varint32 header), checked against what its bytes
 * could expand to, so that a damaged header cannot make us allocate gigabytes.
 */
export function uncompressedLength (src: Uint8Array, fileName = 'block', offset = 0): number {
  return readHeader(src, fileName, offset) % HEADER_SPLIT
}

/** The header's length and its size in bytes, as length + bytes * HEADER_SPLIT. */
const HEADER_SPLIT = 2 ** 33

function readHeader (src: Uint8Array, fileName: string, offset: number): number {
  const n = src.length
  let ip = 0
  let length = 0
  for (let shift = 0; ; shift += 7) {
    if (ip >= n || shift > 28) throw bad(fileName, offset, 'bad length header')
    const b = src[ip++]
    length += (b & 0x7f) * (shift < 28 ? 1 << shift : 0x10000000)
    if (b < 128) break
  }
  if (length > 0xffffffff || length > (n - ip) * MAX_EXPANSION) {
    throw bad(fileName, offset, `claimed length ${length} cannot come from ${n} bytes`)
  }
  return length + ip * HEADER_SPLIT
}

/**
 * Decodes a raw snappy block into out[0, uncompressedLength(src)), checking every element against its
 * input and the claimed length; damage is LEVEL_CORRUPTION naming `fileName` and the block's `offset`.
 * Requires: out holds at least that many bytes.
 */
export function uncompressInto (src: Uint8Array, out: Uint8Array, fileName = 'block', offset = 0): void {
  const n = src.length
  const header = readHeader(src, fileName, offset)
  const length = header % HEADER_SPLIT
  let ip = Math.floor(header / HEADER_SPLIT)
  // Short literals and copies move a word at a time through views of the whole underlying buffers (kept
  // while a buffer stays the same: src is the read scratch or a window of readahead; out is a block's own
  // memory, so its view is made once per block): a subarray() per literal was ~35 allocations per 4 KiB
  // block (3.4 KB of garbage per table read) and slower than this loop.
  // The views reach past src and out: every copy's bounds are checked against them before it runs.
  if (srcView.buffer !== src.buffer) srcView = new DataView(src.buffer)
  if (outView.buffer !== out.buffer) outView = new DataView(out.buffer)
  const srcWords = srcView
  const outWords = outView
  const sBase = src.byteOffset
  const oBase = out.byteOffset
  let op = 0
  while (ip < n) {
    const tag = src[ip++]
    let len: number
    if ((tag & 3) === 0) {
      len = (tag >>> 2) + 1
      if (len > 60) {
        const extra = len - 60
        if (extra > n - ip) throw bad(fileName, offset, 'truncated literal length')
        len = 0
        for (let i = extra - 1; i >= 0; i--) len = len * 256 + src[ip + i]
        len += 1
        ip += extra
      }
      if (len > n - ip || len > length - op) throw bad(fileName, offset, 'literal past the end')
      if (len < LONG_COPY) {
        let i = 0
        for (; i + 4 <= len; i += 4) outWords.setUint32(oBase + op + i, srcWords.getUint32(sBase + ip + i))
        for (; i < len; i++) out[op + i] = src[ip + i]
      } else {
        out.set(src.subarray(ip, ip + len), op)
      }
      ip += len
      op += len
      continue
    }
    let distance: number
    if ((tag & 3) === 1) {
      if (ip >= n) throw bad(fileName, offset, 'truncated copy')
      len = ((tag >>> 2) & 7) + 4
      distance = ((tag >>> 5) << 8) | src[ip++]
    } else if ((tag & 3) === 2) {
      if (n - ip < 2) throw bad(fileName, offset, 'truncated copy')
      len = (tag >>> 2) + 1
      distance = src[ip] | (src[ip + 1] << 8)
      ip += 2
    } else {
      if (n - ip < 4) throw bad(fileName, offset, 'truncated copy')
      len = (tag >>> 2) + 1
      distance = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)) >>> 0
      ip += 4
    }
    if (distance === 0 || distance > op) throw bad(fileName, offset, 'copy from before the start')
    if (len > length - op) throw bad(fileName, offset, 'copy past the end')
    if (distance >= len && len >= 16) {
      out.copyWithin(op, op - distance, op - distance + len)
    } else if (distance >= 4) {
      // Word by word: each word read lies at least 4 bytes behind the write, so it is already final
      // even where the copy overlaps itself (repeating the last `distance` bytes).
      let i = 0
      for (; i + 4 <= len; i += 4) outWords.setUint32(oBase + op + i, outWords.getUint32(oBase + op - distance + i))
      for (; i < len; i++) out[op + i] = out[op - distance + i]
    } else {
      for (let i = 0; i < len; i++) out[op + i] = out[op - distance + i]
    }
    op += len
  }
  if (op !== length) throw bad(fileName, offset, `${op} bytes decoded, ${length} claimed`)
}
