// Block compression as LevelDB stores it (docs/format.md, "Compression"): the trailer's type byte says
// how the stored bytes were made.
//   0 none; 1 snappy, the raw block format (varint32 uncompressed length, then literal/copy elements, no
//   framing, no inner CRC); 2 zstd, one standard zstd frame whose header carries the content size
//   (LevelDB upstream since 2023; not readable by LevelDB 1.20/1.23, so never written for classic-level).
// A compressed form is kept only if it saves more than 12.5%: compressed < raw - floor(raw / 8), strictly.
//
// Snappy in both directions is engine/table/snappy.ts (strict decoding, allocation-free encoding). zstd is
// decompressed with fzstd after the frame header has been checked (fzstd allocates the window the header
// claims); it is compressed only where node:zlib has zstdCompressSync (Node >= 22.15), otherwise asking
// for it is LEVEL_NOT_SUPPORTED.
// Every failure to decompress is LEVEL_CORRUPTION naming the file and the block's offset.
import zlib = require('zlib')  // Not 'node:', which webpack's `browser` field swap misses
import { Decompress } from 'fzstd'
import { corruption, notSupported } from '../errors'
import { allocUnsafeOwn } from '../util/bytes'
import * as snappy from './snappy'

export const enum CompressionType {
  None = 0,
  Snappy = 1,
  Zstd = 2
}

/** zstd's default level, as LevelDB's zstd_compression_level. */
export const DEFAULT_ZSTD_LEVEL = 1
/** ZSTD_c_compressionLevel in zstd's ABI (the key of zlib.constants.ZSTD_c_compressionLevel on Node >= 22.15). */
const ZSTD_C_COMPRESSION_LEVEL = 100
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
    throw notSupported(`zstd compression needs node:zlib zstdCompressSync (Node >= 22.15); this is ${typeof process === 'undefined' ? 'not Node' : `Node ${process.versions.node}`}`)
  }
}

/** True when `compressedLen` is worth storing instead of `rawLen` bytes (LevelDB's 12.5% rule, strict). */
export function worthCompressing (compressedLen: number, rawLen: number): boolean {
  return compressedLen < rawLen - Math.floor(rawLen / 8)
}

// Where snappyCompress writes: reused, so a block's compressed form costs no allocation.
let snappyScratch = new Uint8Array(snappy.maxCompressedLength(8 * 1024))

/** The snappy form of raw, in a buffer reused by the next call (copy it before then). */
export function snappyCompress (raw: Uint8Array): Uint8Array {
  const room = snappy.maxCompressedLength(raw.length)
  if (snappyScratch.length < room) snappyScratch = new Uint8Array(Math.max(room, 2 * snappyScratch.length))
  return snappyScratch.subarray(0, snappy.compressInto(raw, 0, raw.length, snappyScratch, 0))
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
 * (type None, or compression did not save enough). A snappy result is valid until the next call.
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
  if (type === CompressionType.None) return data
  const out = allocUnsafeOwn(contentLength(type, data, fileName, offset))
  uncompressInto(type, data, out, fileName, offset)
  return out
}

/**
 * How many bytes of contents the block stored as `data` with trailer type `type` holds: its length for
 * type None, else what the compressed form's header declares (checked against what it could expand to).
 */
export function contentLength (type: number, data: Uint8Array, fileName: string, offset: number): number {
  switch (type) {
    case CompressionType.None: return data.length
    case CompressionType.Snappy: return snappy.uncompressedLength(data, fileName, offset)
    case CompressionType.Zstd: return zstdContentSize(data, fileName, offset)
    default: throw corruption(`bad block type ${type} in ${fileName} at offset ${offset}`)
  }
}

/** Writes the contents of the block stored as `data` into out[0, contentLength(...)). Requires: out holds that many bytes. */
export function uncompressInto (type: number, data: Uint8Array, out: Uint8Array, fileName: string, offset: number): void {
  switch (type) {
    case CompressionType.None: out.set(data); return
    case CompressionType.Snappy: snappy.uncompressInto(data, out, fileName, offset); return
    case CompressionType.Zstd: zstdUncompressInto(data, out, fileName, offset); return
    default: throw corruption(`bad block type ${type} in ${fileName} at offset ${offset}`)
  }
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

/**
 * Decodes one zstd frame (whose header must declare its content size) into out[0, that size) and checks the
 * size produced. Requires: out holds that many bytes.
 */
function zstdUncompressInto (src: Uint8Array, out: Uint8Array, fileName: string, offset: number): void {
  const size = zstdContentSize(src, fileName, offset)
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
}
