// The framing of a sorted table (LevelDB table/format.h, table/format.cc; docs/format.md, "Sorted tables"):
//
//   [block][trailer] ... [filter][trailer] [metaindex][trailer] [index][trailer] [footer: 48 bytes]
//   BlockHandle := varint64 offset ‖ varint64 size          (size excludes the trailer; at most 20 bytes)
//   trailer     := uint8 compression type ‖ fixed32 masked crc32c(stored bytes ‖ type byte)
//   footer      := metaindex handle ‖ index handle ‖ zero padding to byte 40 ‖ magic 0xdb4775248b80fb57 (LE)
//
// Every byte read here comes from an untrusted file: handles are checked against the file size before
// anything is read or allocated, and the block checksum is verified by default (LevelDB only does so when
// asked; rough-level serves no unverified byte). Failures are LEVEL_CORRUPTION naming the file and offset.
import { corruption, fromFsError } from '../errors'
import type { RandomAccessFile } from '../fs/file-system'
import { allocUnsafeOwn } from '../util/bytes'
import { getFixed32, MAX_VARINT64_BYTES, putFixed32, putVarint64 } from '../util/coding'
import { crc32c, mask, unmask } from '../util/crc32c'
import { Block } from './block'
import { contentLength, uncompressBlock, uncompressInto } from './compression'

/** Bytes after every block: the compression type and the masked crc32c. */
export const BLOCK_TRAILER_SIZE = 5
/** Longest encoding of a BlockHandle: two varint64s. */
export const MAX_BLOCK_HANDLE_LENGTH = 2 * MAX_VARINT64_BYTES
/** The footer is always this long: two handles padded to 40 bytes, then the 8-byte magic. */
export const FOOTER_SIZE = 2 * MAX_BLOCK_HANDLE_LENGTH + 8
/** kTableMagicNumber 0xdb4775248b80fb57 as two little-endian uint32 halves. */
export const TABLE_MAGIC_LO = 0x8b80fb57
export const TABLE_MAGIC_HI = 0xdb477524

/** The type byte of one-byte arrays used to extend a block's crc32c with its type. */
const TYPE_BYTES = [Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(2)]

/** crc32c(stored bytes ‖ type), masked, as stored in a block trailer. */
export function blockChecksum (data: Uint8Array, type: number): number {
  const typeByte = type < TYPE_BYTES.length ? TYPE_BYTES[type] : Uint8Array.of(type)
  return mask(crc32c(typeByte, crc32c(data, 0)))
}

/** Writes the 5-byte trailer of `data` (already stored with `type`) at buf[off]; returns the offset after it. */
export function putBlockTrailer (buf: Uint8Array, off: number, data: Uint8Array, type: number): number {
  buf[off] = type
  return putFixed32(buf, off + 1, blockChecksum(data, type))
}

/**
 * Where a block sits in its file. Mutable, so that one handle can be decoded into again and again
 * without allocating (index entries are decoded on every table lookup).
 */
export class BlockHandle {
  offset: number
  size: number

  constructor (offset = 0, size = 0) {
    this.offset = offset
    this.size = size
  }

  /** Writes varint64 offset ‖ varint64 size at buf[off]; returns the offset after it. */
  encodeTo (buf: Uint8Array, off: number): number {
    return putVarint64(buf, putVarint64(buf, off, this.offset), this.size)
  }

  /** The handle's encoding in a new array (for index values and the metaindex). */
  encode (): Uint8Array {
    const buf = new Uint8Array(MAX_BLOCK_HANDLE_LENGTH)
    return buf.subarray(0, this.encodeTo(buf, 0))
  }

  /**
   * Decodes buf[off, end) into this handle (bytes after the handle are ignored, as LevelDB does);
   * returns the offset after it. `fileName` and `fileOffset` (where buf[off] lies in the file, or
   * where the block holding it starts) only name the place in an error.
   */
  decodeFrom (buf: Uint8Array, off: number, end: number, fileName: string, fileOffset: number): number {
    let pos = off
    for (let field = 0; field < 2; field++) {
      let value = 0
      let mul = 1
      for (let i = 0; ; i++) {
        if (pos >= end || i === MAX_VARINT64_BYTES) throw badHandle(fileName, fileOffset)
        const b = buf[pos++]
        value += (b & 0x7f) * mul
        if (b < 128) break
        mul *= 128
      }
      if (value > Number.MAX_SAFE_INTEGER) throw badHandle(fileName, fileOffset)
      if (field === 0) this.offset = value
      else this.size = value
    }
    return pos
  }

  /** True when the block and its trailer lie within [0, limit). */
  fitsWithin (limit: number): boolean {
    return this.size <= limit && this.offset <= limit - this.size - BLOCK_TRAILER_SIZE
  }
}

function badHandle (fileName: string, fileOffset: number): Error {
  return corruption(`bad block handle in ${fileName} at offset ${fileOffset}`)
}

/** The 48 bytes at the end of every table: where the metaindex and index blocks are. */
export class Footer {
  readonly metaindexHandle: BlockHandle
  readonly indexHandle: BlockHandle

  constructor (metaindexHandle = new BlockHandle(), indexHandle = new BlockHandle()) {
    this.metaindexHandle = metaindexHandle
    this.indexHandle = indexHandle
  }

  /** The footer's 48 bytes. */
  encode (): Uint8Array {
    const buf = new Uint8Array(FOOTER_SIZE)
    this.indexHandle.encodeTo(buf, this.metaindexHandle.encodeTo(buf, 0))
    putFixed32(buf, FOOTER_SIZE - 8, TABLE_MAGIC_LO)
    putFixed32(buf, FOOTER_SIZE - 4, TABLE_MAGIC_HI)
    return buf
  }

  /**
   * Parses a footer read from the last 48 bytes of a table of `fileSize` bytes. Checks the magic and
   * that both handles point inside the file before the footer. The padding is not checked (LevelDB
   * does not either).
   */
  static decode (buf: Uint8Array, fileName: string, fileSize: number): Footer {
    const at = fileSize - FOOTER_SIZE
    if (buf.length < FOOTER_SIZE) throw corruption(`file is too short to be an sstable: ${fileName}`)
    if (getFixed32(buf, FOOTER_SIZE - 8) !== TABLE_MAGIC_LO || getFixed32(buf, FOOTER_SIZE - 4) !== TABLE_MAGIC_HI) {
      throw corruption(`not an sstable (bad magic number) in ${fileName} at offset ${at + FOOTER_SIZE - 8}`)
    }
    const footer = new Footer()
    const end = 2 * MAX_BLOCK_HANDLE_LENGTH
    const pos = footer.metaindexHandle.decodeFrom(buf, 0, end, fileName, at)
    footer.indexHandle.decodeFrom(buf, pos, end, fileName, at)
    if (!footer.metaindexHandle.fitsWithin(at) || !footer.indexHandle.fitsWithin(at)) {
      throw corruption(`footer block handle past the end of the data in ${fileName} at offset ${at}`)
    }
    return footer
  }
}

/** Reads the footer of a table of `fileSize` bytes. */
export function readFooter (file: RandomAccessFile, fileSize: number, fileName: string): Footer {
  if (fileSize < FOOTER_SIZE) throw corruption(`file is too short to be an sstable: ${fileName} (${fileSize} bytes)`)
  const buf = new Uint8Array(FOOTER_SIZE)
  const n = readFully(file, buf, FOOTER_SIZE, fileSize - FOOTER_SIZE, fileName)
  if (n < FOOTER_SIZE) throw corruption(`truncated footer read in ${fileName} at offset ${fileSize - FOOTER_SIZE}`)
  return Footer.decode(buf, fileName, fileSize)
}

function readFully (file: RandomAccessFile, buf: Uint8Array, len: number, position: number, fileName: string): number {
  try {
    return file.read(buf, 0, len, position)
  } catch (err) {
    throw fromFsError(`read ${fileName} at offset ${position}`, err)
  }
}

/**
 * Reads the block at `handle`: `size + 5` bytes, verifies the checksum (unless verifyChecksums is
 * false), and returns the block contents, decompressed per the type byte. The result is a fresh array
 * owned by the caller (it may be cached and shared, never modified).
 * `limit` is where blocks must end (the file size, or the footer's start).
 */
export function readBlock (
  file: RandomAccessFile, handle: BlockHandle, fileName: string, limit: number = file.size(), verifyChecksums = true
): Uint8Array {
  return decodeBlock(readStored(file, handle, fileName, limit), handle, fileName, verifyChecksums, true)
}

/** The block at `handle` and its trailer, read into the scratch buffer (valid until the next read). */
function readStored (file: RandomAccessFile, handle: BlockHandle, fileName: string, limit: number): Uint8Array {
  checkBlockHandle(handle, fileName, limit)
  const n = handle.size + BLOCK_TRAILER_SIZE
  if (readScratch.length < n) readScratch = allocUnsafeOwn(Math.max(n, 2 * readScratch.length))
  const buf = readScratch
  if (readFully(file, buf, n, handle.offset, fileName) < n) throw corruption(`truncated block read in ${fileName} at offset ${handle.offset}`)
  return buf.subarray(0, n)
}

// Where readBlock reads: a block's stored bytes are needed only until decodeBlock has made its contents
// (a decompressed copy, or a copy of an uncompressed block), and memory that is new to the process costs
// page faults on the first write (several us per 4 KiB here), so the same bytes are reused for every read.
let readScratch = allocUnsafeOwn(16 * 1024)

/** Throws LEVEL_CORRUPTION unless the block at `handle` ends by `limit`. */
export function checkBlockHandle (handle: BlockHandle, fileName: string, limit: number): void {
  if (!handle.fitsWithin(limit)) {
    throw corruption(`block handle (offset ${handle.offset}, size ${handle.size}) past the end of ${fileName} (${limit} bytes) at offset ${handle.offset}`)
  }
}

/**
 * The contents of the block stored as `stored` (its `handle.size` bytes and trailer), checksum verified
 * unless verifyChecksums is false. With `shared`, stored is a view into a larger read that others use too:
 * an uncompressed block is then copied, so that the result never pins or aliases that read.
 */
export function decodeBlock (
  stored: Uint8Array, handle: BlockHandle, fileName: string, verifyChecksums: boolean, shared: boolean
): Uint8Array {
  const data = verifiedData(stored, handle, fileName, verifyChecksums)
  const contents = uncompressBlock(stored[handle.size], data, fileName, handle.offset)
  if (!shared || contents !== data) return contents
  const copy = allocUnsafeOwn(data.length)
  copy.set(data)
  return copy
}

/**
 * readBlock for a data block: the contents decoded into a Block taken from block memory (Block.take), which
 * the caller owns (ref it, and the last unref gives the memory back for the next block read).
 */
export function readDataBlock (
  file: RandomAccessFile, handle: BlockHandle, fileName: string, limit: number, verifyChecksums: boolean
): Block {
  return decodeDataBlock(readStored(file, handle, fileName, limit), handle, fileName, verifyChecksums)
}

/** decodeBlock for a data block, into a Block taken from block memory: see readDataBlock. */
export function decodeDataBlock (stored: Uint8Array, handle: BlockHandle, fileName: string, verifyChecksums: boolean): Block {
  const data = verifiedData(stored, handle, fileName, verifyChecksums)
  const type = stored[handle.size]
  const n = contentLength(type, data, fileName, handle.offset)
  const block = Block.take(n)
  try {
    uncompressInto(type, data, block.data, fileName, handle.offset)
    return block.init(n, fileName, handle.offset)
  } catch (err) {
    block.discard()
    throw err
  }
}

/** The stored bytes of the block at `handle` (and their trailer), checksum verified unless verifyChecksums is false. */
function verifiedData (stored: Uint8Array, handle: BlockHandle, fileName: string, verifyChecksums: boolean): Uint8Array {
  const { offset, size } = handle
  const data = stored.subarray(0, size)
  if (verifyChecksums) {
    const type = stored[size]
    const storedCrc = unmask(getFixed32(stored, size + 1))
    const actual = crc32c(TYPE_BYTES[type] ?? Uint8Array.of(type), crc32c(data, 0))
    if (storedCrc !== actual) throw corruption(`block checksum mismatch in ${fileName} at offset ${offset}`)
  }
  return data
}
