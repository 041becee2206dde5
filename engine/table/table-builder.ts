// Writes a sorted table (LevelDB table/table_builder.cc; docs/format.md, "Sorted tables"):
//
//   data blocks ‖ filter block (always raw) ‖ metaindex ‖ index ‖ footer
//
// A data block is cut when its size estimate reaches blockSize after an add. Its index entry is
// written only when the next block's first key is known, under the shortest separator between the
// block's last key and that key (or, at finish(), the short successor of the last key), so that
// last_key_i <= index_key_i < first_key_{i+1}. Index blocks use restart interval 1. The metaindex maps
// "filter.leveldb.BuiltinBloomFilter2" to the filter block when bloomBitsPerKey > 0. Data, metaindex and
// index blocks are compressed per block when that saves more than 12.5%. With the same options the
// bytes are LevelDB's (the tests compare a one-entry table with the 180 bytes LevelDB writes for it).
//
// The builder writes through a WritableFile; it neither syncs nor closes it (the caller does, as
// LevelDB's BuildTable and compaction do). Blocks, trailers included, are gathered in a 64 KiB staging
// buffer and appended together (LevelDB's PosixWritableFile buffers the same amount): a block per
// write call costs a syscall per 4 KiB. finish() appends what is left; after a failed append the
// builder is closed and the caller deletes the file.
import { fromFsError, invalidArgument } from '../errors'
import type { WritableFile } from '../fs/file-system'
import { compareInternalKeys, TAG_BYTES } from '../internal-key'
import { internalShortestSeparator, internalShortSuccessor } from '../key-shortening'
import type { Compression } from '../options'
import { encodeUtf8 } from '../util/bytes'
import { BlockBuilder } from './block-builder'
import { checkCompressionSupported, compressBlock, CompressionType, DEFAULT_ZSTD_LEVEL } from './compression'
import { BloomFilterPolicy, FILTER_META_KEY } from './bloom'
import { FilterBlockBuilder } from './filter-block'
import { BLOCK_TRAILER_SIZE, BlockHandle, Footer, MAX_BLOCK_HANDLE_LENGTH, putBlockTrailer } from './format'
import type { TableParts } from './table-parts'

export interface TableBuilderOptions {
  /** Uncompressed data block size at which a block is cut (LevelDB default 4096). */
  blockSize: number
  /** Keys between restart points in data and metaindex blocks (default 16). */
  blockRestartInterval: number
  compression: Compression
  /** Bloom filter bits per key; 0 writes no filter block. */
  bloomBitsPerKey: number
  /** zstd level when compression is 'zstd' (default 1). */
  zstdLevel?: number
}

/** Bytes gathered before an append. */
const STAGING_BYTES = 64 * 1024

function compressionType (c: Compression): CompressionType {
  return c === 'snappy' ? CompressionType.Snappy : c === 'zstd' ? CompressionType.Zstd : CompressionType.None
}

/**
 * Builds one table. Requires: add() is given internal keys (>= 8 bytes) in strictly increasing
 * internal-key order; nothing is added after finish() or abandon().
 */
export class TableBuilder {
  readonly #file: WritableFile
  readonly #blockSize: number
  readonly #compression: CompressionType
  readonly #zstdLevel: number
  readonly #dataBlock: BlockBuilder
  readonly #indexBlock = new BlockBuilder(1)
  readonly #restartInterval: number
  readonly #filter: FilterBlockBuilder | undefined
  #offset = 0
  #numEntries = 0
  #closed = false
  /** Set by finish(). */
  #parts: TableParts | undefined
  #lastKey = new Uint8Array(256)
  #lastKeyLen = 0
  // The index entry of the last written data block waits for the next block's first key.
  #pendingIndexEntry = false
  readonly #pendingHandle = new BlockHandle()
  readonly #handleBuf = new Uint8Array(MAX_BLOCK_HANDLE_LENGTH)
  /** Blocks not yet appended: #out[0, #outLen) is the file from #offset - #outLen on. */
  #out = new Uint8Array(STAGING_BYTES)
  #outLen = 0

  constructor (options: TableBuilderOptions, file: WritableFile) {
    this.#file = file
    this.#blockSize = options.blockSize
    this.#compression = compressionType(options.compression)
    checkCompressionSupported(this.#compression)
    this.#zstdLevel = options.zstdLevel ?? DEFAULT_ZSTD_LEVEL
    this.#restartInterval = options.blockRestartInterval
    this.#dataBlock = new BlockBuilder(options.blockRestartInterval)
    if (options.bloomBitsPerKey > 0) {
      this.#filter = new FilterBlockBuilder(new BloomFilterPolicy(options.bloomBitsPerKey))
      this.#filter.startBlock(0)
    }
  }

  /** Adds an entry. Requires: key greater than every key added before, in internal-key order. */
  add (key: Uint8Array, keyOff: number, keyLen: number, value: Uint8Array, valueOff: number, valueLen: number): void {
    if (this.#closed) throw new Error('TableBuilder.add after finish() or abandon()')
    if (keyLen < TAG_BYTES) throw invalidArgument(`table keys are internal keys of at least 8 bytes, got ${keyLen}`)
    if (this.#numEntries > 0 && compareInternalKeys(key, keyOff, keyLen, this.#lastKey, 0, this.#lastKeyLen) <= 0) {
      throw invalidArgument('table keys must be added in strictly increasing internal-key order')
    }

    if (this.#pendingIndexEntry) {
      // #lastKey is the last key of the written block; cut it down to a separator before this key.
      const sepLen = internalShortestSeparator(this.#lastKey, 0, this.#lastKeyLen, key, keyOff, keyLen)
      this.#addIndexEntry(sepLen)
    }

    this.#filter?.addKey(key, keyOff, keyLen - TAG_BYTES)
    this.#setLastKey(key, keyOff, keyLen)
    this.#numEntries++
    this.#dataBlock.add(key, keyOff, keyLen, value, valueOff, valueLen)
    if (this.#dataBlock.currentSizeEstimate() >= this.#blockSize) this.flush()
  }

  /** Writes the current data block, if it has entries (normally called by add()). */
  flush (): void {
    if (this.#closed) throw new Error('TableBuilder.flush after finish() or abandon()')
    if (this.#dataBlock.empty()) return
    this.#writeBlock(this.#dataBlock, this.#pendingHandle)
    this.#pendingIndexEntry = true
    this.#filter?.startBlock(this.#offset)
  }

  /**
   * Writes the rest of the table and its footer; returns the file size. The file is not synced. Keeps
   * copies of the index and filter blocks for `parts`.
   */
  finish (): number {
    this.flush()
    this.#closed = true
    const metaindexHandle = new BlockHandle()
    const indexHandle = new BlockHandle()

    const metaindex = new BlockBuilder(this.#restartInterval)
    let filter: Uint8Array | undefined
    if (this.#filter !== undefined) {
      const filterHandle = new BlockHandle()
      const contents = this.#filter.finish()
      filter = contents.slice() // memory of its own: the builder's array is larger
      this.#writeRawBlock(contents, CompressionType.None, filterHandle)
      const name = encodeUtf8(FILTER_META_KEY)
      const value = filterHandle.encode()
      metaindex.add(name, 0, name.length, value, 0, value.length)
    }
    this.#writeBlock(metaindex, metaindexHandle)

    if (this.#pendingIndexEntry) {
      this.#addIndexEntry(internalShortSuccessor(this.#lastKey, 0, this.#lastKeyLen))
    }
    const index = this.#writeBlock(this.#indexBlock, indexHandle, true)!

    const footer = new Footer(metaindexHandle, indexHandle).encode()
    this.#stage(footer, footer.length)
    this.#appendStaged()
    this.#parts = { index, indexOffset: indexHandle.offset, filter, metaindexOffset: metaindexHandle.offset }
    return this.#offset
  }

  /** After finish(): what a reader of the table keeps in memory, for Table.open (table-parts.ts). */
  get parts (): TableParts | undefined {
    return this.#parts
  }

  /** Gives up on the table: nothing more is written (the caller deletes the file). */
  abandon (): void {
    this.#closed = true
  }

  numEntries (): number {
    return this.#numEntries
  }

  /** Bytes written so far (some perhaps still staged); the final file size after finish(). */
  fileSize (): number {
    return this.#offset
  }

  #addIndexEntry (keyLen: number): void {
    const n = this.#pendingHandle.encodeTo(this.#handleBuf, 0)
    this.#indexBlock.add(this.#lastKey, 0, keyLen, this.#handleBuf, 0, n)
    this.#pendingIndexEntry = false
  }

  #setLastKey (key: Uint8Array, off: number, len: number): void {
    if (len > this.#lastKey.length) this.#lastKey = new Uint8Array(Math.max(len, this.#lastKey.length * 2))
    const last = this.#lastKey
    if (len < 32) {
      for (let i = 0; i < len; i++) last[i] = key[off + i]
    } else {
      last.set(key.subarray(off, off + len))
    }
    this.#lastKeyLen = len
  }

  /**
   * Finishes `block`, compresses it if that pays, writes it with its trailer, and resets it; with `keep`,
   * returns a copy of its uncompressed contents in memory of their own.
   */
  #writeBlock (block: BlockBuilder, handle: BlockHandle, keep = false): Uint8Array | undefined {
    const raw = block.finish()
    const kept = keep ? raw.slice() : undefined
    const compressed = compressBlock(this.#compression, raw, this.#zstdLevel)
    if (compressed === undefined) this.#writeRawBlock(raw, CompressionType.None, handle)
    else this.#writeRawBlock(compressed, this.#compression, handle)
    block.reset()
    return kept
  }

  #writeRawBlock (data: Uint8Array, type: CompressionType, handle: BlockHandle): void {
    handle.offset = this.#offset
    handle.size = data.length
    const at = this.#room(data.length + BLOCK_TRAILER_SIZE)
    this.#out.set(data, at)
    putBlockTrailer(this.#out, at + data.length, data, type)
    this.#outLen = at + data.length + BLOCK_TRAILER_SIZE
    this.#offset += data.length + BLOCK_TRAILER_SIZE
  }

  #stage (buf: Uint8Array, len: number): void {
    const at = this.#room(len)
    this.#out.set(buf.subarray(0, len), at)
    this.#outLen = at + len
    this.#offset += len
  }

  /** Where `len` more bytes go in the staging buffer, appending what it holds first if they do not fit. */
  #room (len: number): number {
    if (this.#outLen + len <= this.#out.length) return this.#outLen
    this.#appendStaged()
    if (len > this.#out.length) this.#out = new Uint8Array(Math.max(len, 2 * this.#out.length))
    return 0
  }

  #appendStaged (): void {
    if (this.#outLen === 0) return
    try {
      this.#file.append(this.#out, 0, this.#outLen)
    } catch (err) {
      this.#closed = true
      throw fromFsError(`write ${this.#file.path}`, err)
    }
    this.#outLen = 0
  }
}
