// Block compression as LevelDB stores it (docs/format.md, "Compression"): the trailer's type byte says
// how the stored bytes were made.
//   0 none; 1 snappy, the raw block format (varint32 uncompressed length, then literal/copy elements, no
//   framing, no inner CRC); 2 zstd, one standard zstd frame whose header carries the content size
//   (LevelDB upstream since 2023; not readable by LevelDB 1.20/1.23, so never written for classic-level).
// A compressed form is kept only if it saves more than 12.5%: compressed < raw - floor(raw / 8), strictly.
//
// Snappy is compressed with snappyjs. It is decompressed here, not with snappyjs: snappyjs allocates
// whatever length the stream claims unless told a maximum, writes past its output silently (typed
// arrays drop such writes), reads past a truncated input as zeros and never checks that the output was
// filled, so a damaged stream would become plausible-looking bytes instead of an error. This decoder
// bounds the claimed length by what the input could expand to (at most 64 bytes per 3-byte element) and
// checks every element. zstd is decompressed with fzstd after the frame header has been checked the same
// way (fzstd allocates the window the header claims); it is compressed only where node:zlib has
// zstdCompressSync (Node >= 22.15), otherwise asking for it is LEVEL_NOT_SUPPORTED.
// Every failure to decompress is LEVEL_CORRUPTION naming the file and the block's offset.
import zlib = require('node:zlib')
import { Decompress } from 'fzstd'
import { corruption, notSupported } from '../errors'

// snappyjs ships no type declarations; this is the one function used from it.
const snappy: { compress (input: Uint8Array): Uint8Array } = require('snappyjs')

export const enum CompressionType {
  None = 0,
  Snappy = 1,
  Zstd = 2
}

/** zstd's default level, as LevelDB's zstd_compression_level. */
export const DEFAULT_ZSTD_LEVEL = 1
/** ZSTD_c_compressionLevel in zstd's ABI (the key of zlib.constants.ZSTD_c_compressionLevel on Node >= 22.15). */
const ZSTD_C_COMPRESSION_LEVEL = 100
/** The most one byte of snappy input can become: a 3-byte copy element yields up to 64 bytes. */
const SNAPPY_MAX_EXPANSION = 22
/** The most one byte of a zstd frame can become: a 3-byte RLE block header and its byte yield up to 128 KiB. */
const ZSTD_MAX_EXPANSION = 32768

type ZstdCompressSync = (data: Uint8Array, options: { params: Record<number, number>, pledgedSrcSize: number }) => Uint8Array

function isZstdCompressSync (f: unknown): f is ZstdCompressSync {
  return typeof f === 'function'
}

const zstdCompressSyncFn: unknown = Reflect.get(zlib, 'zstdCompressSync')
const zstdCompressSync = isZstdCompressSync(zstdCompressSyncFn) ? zstdCompressSyncFn : undefined

/** True where this runtime can write zstd blocks (node:zlib's zstdCompressSync, Node >= 22.15). */
export const zstdCompressionAvailable = zstdCompressSync !== undefined

/** Throws LEVEL_NOT_SUPPORTED unless blocks can be written with `type` here. */
export function checkCompressionSupported (type: CompressionType): void {
  if (type === CompressionType.Zstd && !zstdCompressionAvailable) {
    throw notSupported(`zstd compression needs node:zlib zstdCompressSync (Node >= 22.15); this is Node ${process.versions.node}`)
  }
}

/** True when `compressedLen` is worth storing instead of `rawLen` bytes (LevelDB's 12.5% rule, strict). */
export function worthCompressing (compressedLen: number, rawLen: number): boolean {
  return compressedLen < rawLen - Math.floor(rawLen / 8)
}

export function snappyCompress (raw: Uint8Array): Uint8Array {
  return snappy.compress(raw)
}

export function zstdCompress (raw: Uint8Array, level = DEFAULT_ZSTD_LEVEL): Uint8Array {
  if (zstdCompressSync === undefined) {
    checkCompressionSupported(CompressionType.Zstd)
    throw notSupported('zstd compression')
  }
  // The pledged size puts the content size in the frame header, which LevelDB's reader requires.
  return zstdCompressSync(raw, { params: { [ZSTD_C_COMPRESSION_LEVEL]: level }, pledgedSrcSize: raw.length })
}

/**
 * The bytes to store for `raw` under `type`, or undefined when the block should be stored raw
 * (type None, or compression did not save enough).
 */
export function compressBlock (type: CompressionType, raw: Uint8Array, zstdLevel = DEFAULT_ZSTD_LEVEL): Uint8Array | undefined {
  let out: Uint8Array
  if (type === CompressionType.Snappy) out = snappyCompress(raw)
  else if (type === CompressionType.Zstd) out = zstdCompress(raw, zstdLevel)
  else return undefined
  return worthCompressing(out.length, raw.length) ? out : undefined
}

/**
 * The contents of a block stored as `data` with trailer type `type`. For type None this is `data`
 * itself; otherwise a new array. `fileName` and `offset` name the block in errors.
 */
export function uncompressBlock (type: number, data: Uint8Array, fileName: string, offset: number): Uint8Array {
  switch (type) {
    case CompressionType.None: return data
    case CompressionType.Snappy: return snappyUncompress(data, fileName, offset)
    case CompressionType.Zstd: return zstdUncompress(data, fileName, offset)
    default: throw corruption(`bad block type ${type} in ${fileName} at offset ${offset}`)
  }
}

function badSnappy (fileName: string, offset: number, why: string): Error {
  return corruption(`corrupted compressed block contents (snappy: ${why}) in ${fileName} at offset ${offset}`)
}

/** Decodes a raw snappy block, checking every element against its input and its claimed output length. */
export function snappyUncompress (src: Uint8Array, fileName = 'block', offset = 0): Uint8Array {
  const n = src.length
  let ip = 0
  let length = 0
  for (let shift = 0; ; shift += 7) {
    if (ip >= n || shift > 28) throw badSnappy(fileName, offset, 'bad length header')
    const b = src[ip++]
    length += (b & 0x7f) * 2 ** shift
    if (b < 128) break
  }
  if (length > 0xffffffff || length > (n - ip) * SNAPPY_MAX_EXPANSION) {
    throw badSnappy(fileName, offset, `claimed length ${length} cannot come from ${n} bytes`)
  }
  const out = Buffer.allocUnsafe(length)
  let op = 0
  while (ip < n) {
    const tag = src[ip++]
    let len: number
    if ((tag & 3) === 0) {
      len = (tag >>> 2) + 1
      if (len > 60) {
        const extra = len - 60
        if (extra > n - ip) throw badSnappy(fileName, offset, 'truncated literal length')
        len = 0
        for (let i = extra - 1; i >= 0; i--) len = len * 256 + src[ip + i]
        len += 1
        ip += extra
      }
      if (len > n - ip || len > length - op) throw badSnappy(fileName, offset, 'literal past the end')
      if (len < 16) {
        for (let i = 0; i < len; i++) out[op + i] = src[ip + i]
      } else {
        out.set(src.subarray(ip, ip + len), op)
      }
      ip += len
      op += len
      continue
    }
    let distance: number
    if ((tag & 3) === 1) {
      if (ip >= n) throw badSnappy(fileName, offset, 'truncated copy')
      len = ((tag >>> 2) & 7) + 4
      distance = ((tag >>> 5) << 8) | src[ip++]
    } else if ((tag & 3) === 2) {
      if (n - ip < 2) throw badSnappy(fileName, offset, 'truncated copy')
      len = (tag >>> 2) + 1
      distance = src[ip] | (src[ip + 1] << 8)
      ip += 2
    } else {
      if (n - ip < 4) throw badSnappy(fileName, offset, 'truncated copy')
      len = (tag >>> 2) + 1
      distance = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)) >>> 0
      ip += 4
    }
    if (distance === 0 || distance > op) throw badSnappy(fileName, offset, 'copy from before the start')
    if (len > length - op) throw badSnappy(fileName, offset, 'copy past the end')
    if (distance >= len && len >= 16) {
      out.copyWithin(op, op - distance, op - distance + len)
    } else {
      // Overlapping copies repeat the last `distance` bytes, so they go byte by byte.
      for (let i = 0; i < len; i++) out[op + i] = out[op - distance + i]
    }
    op += len
  }
  if (op !== length) throw badSnappy(fileName, offset, `${op} bytes decoded, ${length} claimed`)
  return out
}

function badZstd (fileName: string, offset: number, why: string): Error {
  return corruption(`corrupted compressed block contents (zstd: ${why}) in ${fileName} at offset ${offset}`)
}

/**
 * Reads a zstd frame header (RFC 8878 §3.1.1.1) and returns the content size it declares, after
 * checking that it and the window fzstd will allocate are within what `src` could expand to.
 */
function zstdContentSize (src: Uint8Array, fileName: string, offset: number): number {
  const n = src.length
  if (n < 6 || src[0] !== 0x28 || src[1] !== 0xb5 || src[2] !== 0x2f || src[3] !== 0xfd) {
    throw badZstd(fileName, offset, 'not a zstd frame')
  }
  const fhd = src[4]
  const fcsFlag = fhd >>> 6
  const singleSegment = (fhd >>> 5) & 1
  if (fhd & 8) throw badZstd(fileName, offset, 'reserved header bit set')
  const dictIdBytes = [0, 1, 2, 4][fhd & 3]
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag
  let pos = 5
  let windowSize = 0
  if (!singleSegment) {
    const wd = src[pos++]
    const base = 2 ** (10 + (wd >>> 3))
    windowSize = base + (base / 8) * (wd & 7)
  }
  if (n - pos < dictIdBytes + fcsBytes) throw badZstd(fileName, offset, 'truncated frame header')
  for (let i = 0; i < dictIdBytes; i++) {
    if (src[pos + i] !== 0) throw badZstd(fileName, offset, 'frame needs a dictionary')
  }
  pos += dictIdBytes
  if (fcsBytes === 0) throw badZstd(fileName, offset, 'frame header has no content size')
  let size = 0
  for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + src[pos + i]
  if (fcsBytes === 2) size += 256
  const limit = Math.min(0x7fffffff, n * ZSTD_MAX_EXPANSION)
  if (size > limit || windowSize > limit) {
    throw badZstd(fileName, offset, `claimed size ${Math.max(size, windowSize)} cannot come from ${n} bytes`)
  }
  return size
}

/** Thrown from fzstd's output callback to stop a frame that produces more than it declared. */
class ZstdOverrun extends Error {}

/** Decodes one zstd frame (whose header must declare its content size) and checks the size produced. */
export function zstdUncompress (src: Uint8Array, fileName = 'block', offset = 0): Uint8Array {
  const size = zstdContentSize(src, fileName, offset)
  const out = Buffer.allocUnsafe(size)
  let op = 0
  const decoder = new Decompress((chunk) => {
    if (chunk.length > size - op) throw new ZstdOverrun()
    out.set(chunk, op)
    op += chunk.length
  })
  try {
    decoder.push(src, true)
  } catch (err) {
    if (err instanceof ZstdOverrun) throw badZstd(fileName, offset, `more than the declared ${size} bytes`)
    throw badZstd(fileName, offset, err instanceof Error ? err.message : String(err))
  }
  if (op !== size) throw badZstd(fileName, offset, `${op} bytes decoded, ${size} declared`)
  return out
}
