// Reads a sorted table (LevelDB table/table.cc, table/two_level_iterator.cc; docs/format.md, "Reading a
// table").
//
// open() reads the footer, then the index block (kept in memory) and, when the metaindex names one
// under "filter.leveldb.BuiltinBloomFilter2", the filter block. Data blocks are read on demand, through
// an optional block cache. A point lookup seeks the index, asks the filter (with the user key and the
// data block's offset) whether that block can hold the key, and only then reads the block. A scan is a
// two-level iterator: the index iterator picks data blocks, a data block iterator walks each one.
//
// Every block is checksum-verified by default, the metaindex and filter blocks included: a damaged
// table fails with LEVEL_CORRUPTION naming the file (LevelDB would quietly drop a damaged filter, and
// does not verify data blocks unless asked). For salvage, walk() reads the data blocks one by one and
// reports a damaged one instead of failing, so that it costs only its own entries.
import { asError, corruption, isDamage } from '../errors'
import type { RandomAccessFile } from '../fs/file-system'
import type { InternalIterator } from '../internal-iterator'
import { compareBytes, compareInternalKeys, TAG_BYTES } from '../internal-key'
import { encodeUtf8 } from '../util/bytes'
import { eventLoopBudget } from '../util/event-loop-budget'
import { Block, BlockIterator } from './block'
import { BloomFilterPolicy, FILTER_META_KEY } from './bloom'
import { FilterBlockReader } from './filter-block'
import { BlockHandle, checkBlockHandle, decodeDataBlock, FOOTER_SIZE, readBlock, readDataBlock, readFooter } from './format'
import { ReadAhead } from './read-ahead'
import type { TableParts } from './table-parts'

/** Reads any bloom filter under the built-in name: k comes from each filter, so bitsPerKey is unused. */
const BLOOM_POLICY = new BloomFilterPolicy(10)

/**
 * Where parsed data blocks may be kept between reads, keyed by (cacheId, block offset). The cacheId
 * names one open table (a table cache gives each open a new id, so a reused file number never meets
 * stale blocks). Blocks are immutable, so a cached one can be shared by any number of readers.
 */
export interface BlockCache {
  get (cacheId: number, offset: number): Block | undefined
  /**
   * Offers a block, with a reference taken for the cache (Block.ref): the cache drops it (Block.unref)
   * when the block leaves, or at once if it does not keep it. Its charge is block.size bytes.
   */
  insert (cacheId: number, offset: number, block: Block): void
  /** The most bytes it keeps: a larger block is not offered (the cache would drop it, released, at once). */
  readonly capacity: number
}

export interface TableOptions {
  /** Verify the crc32c of every block read (default true; LevelDB's default is false). */
  verifyChecksums?: boolean
  /** Use the table's bloom filter for get() (default true). */
  useFilter?: boolean
  blockCache?: BlockCache
  /** This table's id in blockCache (required for caching to happen). */
  cacheId?: number
}

/** Counters a caller or test can read; they only ever grow. */
export interface TableStats {
  /** Data blocks read from the file (not counting block cache hits). */
  dataBlockReads: number
  /** Data blocks served by the block cache. */
  blockCacheHits: number
  /** get() calls that the filter answered without reading a data block. */
  filterRejects: number
}

/** What Table.walk() tells, block by block. */
export interface TableWalker {
  /** An entry of a readable data block, in file order; the views are valid until the next call. Throwing ends the walk. */
  entry (key: Uint8Array, keyOff: number, keyLen: number, value: Uint8Array, valueOff: number, valueLen: number): void
  /**
   * The data block at `handle` cannot be read (checksum, decompression) or stopped parsing part-way (its
   * entries before that point went to entry()); the walk goes on with the next block. `handle` is
   * undefined when the index entry naming the block does not parse; the walk ends after one whose key
   * does not.
   */
  damagedBlock (handle: BlockHandle | undefined, error: Error): void
}

/** The entry a get() found: the key is copied into keyBuf (owned by this object), the value is a view into an immutable block. */
export class TableEntry {
  keyBuf = new Uint8Array(64)
  keyOff = 0
  keyLen = 0
  valueBuf: Uint8Array = new Uint8Array(0)
  valueOff = 0
  valueLen = 0

  set (keyBuf: Uint8Array, keyOff: number, keyLen: number, valueBuf: Uint8Array, valueOff: number, valueLen: number): void {
    if (keyLen > this.keyBuf.length) this.keyBuf = new Uint8Array(Math.max(keyLen, this.keyBuf.length * 2))
    const key = this.keyBuf
    for (let i = 0; i < keyLen; i++) key[i] = keyBuf[keyOff + i]
    this.keyLen = keyLen
    this.valueBuf = valueBuf
    this.valueOff = valueOff
    this.valueLen = valueLen
  }
}

/** An open table. It owns `file` from open() on: close() closes it. */
export class Table {
  readonly file: RandomAccessFile
  readonly fileName: string
  readonly fileSize: number
  readonly stats: TableStats = { dataBlockReads: 0, blockCacheHits: 0, filterRejects: 0 }
  readonly #indexBlock: Block
  readonly #metaindexOffset: number
  readonly #filter: FilterBlockReader | undefined
  readonly #verifyChecksums: boolean
  readonly #blockCache: BlockCache | undefined
  readonly #cacheId: number
  // Used by get() and approximateOffsetOf() only: both finish before returning, so one of each suffices.
  readonly #index: BlockIterator
  readonly #data: BlockIterator
  readonly #handle = new BlockHandle()

  private constructor (
    file: RandomAccessFile, fileSize: number, fileName: string, indexBlock: Block, metaindexOffset: number,
    filter: FilterBlockReader | undefined, options: TableOptions
  ) {
    this.file = file
    this.fileSize = fileSize
    this.fileName = fileName
    this.#indexBlock = indexBlock
    this.#metaindexOffset = metaindexOffset
    this.#filter = filter
    this.#verifyChecksums = options.verifyChecksums ?? true
    this.#blockCache = options.blockCache
    this.#cacheId = options.cacheId ?? -1
    this.#index = new BlockIterator(compareInternalKeys, indexBlock, TAG_BYTES)
    this.#data = new BlockIterator(compareInternalKeys, undefined, TAG_BYTES)
  }

  /**
   * Opens the table of `fileSize` bytes (the size the MANIFEST records) in `file`. Throws
   * LEVEL_CORRUPTION when the footer, index, metaindex or filter block is damaged. On failure the file
   * is left open for the caller to close. With `parts` (what the table's builder kept: table-parts.ts),
   * nothing is read: the index and filter are taken from them, and they belong to the table from then on.
   */
  static open (file: RandomAccessFile, fileSize: number, fileName: string, options: TableOptions = {}, parts?: TableParts): Table {
    if (parts !== undefined) {
      const filter = (options.useFilter ?? true) && parts.filter !== undefined
        ? new FilterBlockReader(BLOOM_POLICY, parts.filter)
        : undefined
      const index = new Block(parts.index, fileName, parts.indexOffset)
      return new Table(file, fileSize, fileName, index, parts.metaindexOffset, filter, options)
    }
    const verify = options.verifyChecksums ?? true
    const footer = readFooter(file, fileSize, fileName)
    const limit = fileSize - FOOTER_SIZE
    const indexHandle = footer.indexHandle
    // The index and filter live as long as the table is open: readBlock's are in memory of their own.
    const indexBlock = new Block(readBlock(file, indexHandle, fileName, limit, verify), fileName, indexHandle.offset)

    let filter: FilterBlockReader | undefined
    if (options.useFilter ?? true) {
      const metaHandle = footer.metaindexHandle
      const meta = new Block(readBlock(file, metaHandle, fileName, limit, verify), fileName, metaHandle.offset)
      const it = new BlockIterator(compareBytes, meta)
      const name = encodeUtf8(FILTER_META_KEY)
      it.seek(name, 0, name.length)
      let handle: BlockHandle | undefined
      if (it.valid() && compareBytes(it.keyBuf, 0, it.keyLen, name, 0, name.length) === 0) {
        handle = new BlockHandle()
        handle.decodeFrom(it.valueBuf, it.valueOff, it.valueOff + it.valueLen, fileName, metaHandle.offset)
      }
      it.close()
      if (handle !== undefined) filter = new FilterBlockReader(BLOOM_POLICY, readBlock(file, handle, fileName, limit, verify))
    }
    return new Table(file, fileSize, fileName, indexBlock, footer.metaindexHandle.offset, filter, options)
  }

  /** True when the table has a bloom filter that get() consults. */
  get hasFilter (): boolean {
    return this.#filter !== undefined
  }

  /**
   * Finds the first entry >= target (an internal key) in the data block the index names for it, and
   * copies it into `out`. False when there is none there or when the filter rules the user key out:
   * either way the table holds no entry for target's user key at or below target's sequence. The
   * caller compares user keys. With fillCache false, a data block read from the file is not offered to
   * the block cache (a cached one is still used).
   */
  get (target: Uint8Array, targetOff: number, targetLen: number, out: TableEntry, fillCache = true): boolean {
    const index = this.#index
    index.seek(target, targetOff, targetLen)
    if (!index.valid()) return false
    const handle = this.decodeIndexValue(index, this.#handle)
    const filter = this.#filter
    if (filter !== undefined && !filter.keyMayMatch(handle.offset, target, targetOff, targetLen - TAG_BYTES)) {
      this.stats.filterRejects++
      return false
    }
    const data = this.#data
    data.reset(this.dataBlock(handle, fillCache))
    data.seek(target, targetOff, targetLen)
    if (!data.valid()) return false
    out.set(data.keyBuf, data.keyOff, data.keyLen, data.valueBuf, data.valueOff, data.valueLen)
    return true
  }

  /**
   * An iterator over every entry, in internal-key order, both directions. With fillCache false the
   * blocks it reads from the file are not offered to the block cache (a bulk scan would flush it).
   * `onClose` runs once, when the iterator is closed (a table cache releases the table there).
   */
  iterator (fillCache = true, onClose?: () => void): TableIterator {
    return new TableIterator(this, new BlockIterator(compareInternalKeys, this.#indexBlock, TAG_BYTES), fillCache, onClose)
  }

  /**
   * Roughly where in the file the entries for `key` (an internal key) begin: the offset of the data
   * block the index names for it, or, past the last key, the metaindex offset (about the file size).
   */
  approximateOffsetOf (key: Uint8Array, keyOff: number, keyLen: number): number {
    const index = this.#index
    index.seek(key, keyOff, keyLen)
    if (!index.valid()) return this.#metaindexOffset
    return this.decodeIndexValue(index, this.#handle).offset
  }

  /**
   * Walks every data block in index order for salvage and checks (LevelDB's repair reads tables so): each
   * block is read on its own, and one that is damaged goes to walker.damagedBlock while the walk goes on.
   * Yields after each block, so that a caller can give the event loop a turn. I/O errors, and what the
   * walker throws, end the walk; an index block that cannot be read from its start is LEVEL_CORRUPTION
   * (nothing in the table can be found then).
   */
  * walk (walker: TableWalker): Generator<void, void, void> {
    const index = new BlockIterator(compareInternalKeys, this.#indexBlock, TAG_BYTES)
    const data = new BlockIterator(compareInternalKeys, undefined, TAG_BYTES)
    const handle = new BlockHandle()
    try {
      index.seekToFirst()
    } catch (err) {
      throw corruption(`index block of ${this.fileName} unreadable: ${asError(err).message}`)
    }
    while (index.valid()) {
      let decoded = false
      let visiting = false
      try {
        this.decodeIndexValue(index, handle)
        decoded = true
        data.reset(this.dataBlock(handle, false))
        for (data.seekToFirst(); data.valid(); data.next()) {
          visiting = true
          walker.entry(data.keyBuf, data.keyOff, data.keyLen, data.valueBuf, data.valueOff, data.valueLen)
          visiting = false
        }
      } catch (err) {
        if (visiting || !isDamage(err)) throw err
        walker.damagedBlock(decoded ? new BlockHandle(handle.offset, handle.size) : undefined, asError(err))
      }
      yield
      // The index block passed its checksum; an entry in it that does not parse ends the walk.
      try {
        index.next()
      } catch (err) {
        if (!isDamage(err)) throw err
        walker.damagedBlock(undefined, asError(err))
        break
      }
    }
    data.close()
    index.close()
  }

  /** The data block at `handle`, from the block cache or the file (and then cached if fillCache). */
  dataBlock (handle: BlockHandle, fillCache = true, readAhead?: ReadAhead): Block {
    const cache = this.#blockCache
    const cacheable = cache !== undefined && this.#cacheId >= 0
    if (cacheable) {
      const cached = cache.get(this.#cacheId, handle.offset)
      if (cached !== undefined) {
        this.stats.blockCacheHits++
        return cached
      }
    }
    const limit = this.fileSize - FOOTER_SIZE
    let block: Block
    if (readAhead === undefined) {
      block = readDataBlock(this.file, handle, this.fileName, limit, this.#verifyChecksums)
    } else {
      checkBlockHandle(handle, this.fileName, limit)
      block = decodeDataBlock(readAhead.stored(handle), handle, this.fileName, this.#verifyChecksums)
    }
    this.stats.dataBlockReads++
    // A read, a checksum and a decompression: tens of us from the page cache, a disk's latency beyond it,
    // where the event loop's tick() assumes a few us per call; its next call looks at the clock.
    eventLoopBudget.longWork()
    if (cacheable && fillCache && block.size <= cache.capacity) {
      // The cache's reference, dropped when the block leaves it (the cache's onRemove).
      block.ref()
      cache.insert(this.#cacheId, handle.offset, block)
    }
    return block
  }

  /** Decodes the block handle stored as the current index entry's value into `handle`. */
  decodeIndexValue (index: BlockIterator, handle: BlockHandle): BlockHandle {
    handle.decodeFrom(index.valueBuf, index.valueOff, index.valueOff + index.valueLen, this.fileName, this.#indexBlock.fileOffset)
    return handle
  }

  close (): void {
    this.#data.close()
    this.file.close()
  }
}

const EMPTY = new Uint8Array(0)

/**
 * The two-level iterator over a table: the index iterator chooses a data block, a data block iterator
 * (one object, pointed at each block in turn) walks it; empty blocks are skipped in both directions.
 * Entry views are the data block iterator's: valid until the next move. Blocks not in the block cache
 * are read through a ReadAhead, in windows once the iterator goes from block to block.
 */
export class TableIterator implements InternalIterator {
  readonly #table: Table
  readonly #index: BlockIterator
  readonly #data = new BlockIterator(compareInternalKeys, undefined, TAG_BYTES)
  readonly #handle = new BlockHandle()
  /** Offset of the block #data is on, or -1 when it is on none. */
  #dataOffset = -1
  #closed = false
  readonly #fillCache: boolean
  readonly #onClose: (() => void) | undefined
  /** Reads blocks in windows once the iterator walks from block to block (made on the first block read). */
  #readAhead: ReadAhead | undefined

  constructor (table: Table, index: BlockIterator, fillCache = true, onClose?: () => void) {
    this.#table = table
    this.#index = index
    this.#fillCache = fillCache
    this.#onClose = onClose
  }

  get keyBuf (): Uint8Array { return this.#dataOffset < 0 ? EMPTY : this.#data.keyBuf }
  get keyOff (): number { return 0 }
  get keyLen (): number { return this.#dataOffset < 0 ? 0 : this.#data.keyLen }
  get valueBuf (): Uint8Array { return this.#dataOffset < 0 ? EMPTY : this.#data.valueBuf }
  get valueOff (): number { return this.#dataOffset < 0 ? 0 : this.#data.valueOff }
  get valueLen (): number { return this.#dataOffset < 0 ? 0 : this.#data.valueLen }

  valid (): boolean {
    return this.#dataOffset >= 0 && this.#data.valid()
  }

  seekToFirst (): void {
    this.#index.seekToFirst()
    if (this.#initDataBlock()) this.#data.seekToFirst()
    this.#skipEmptyBlocksForward()
  }

  seekToLast (): void {
    this.#index.seekToLast()
    if (this.#initDataBlock()) this.#data.seekToLast()
    this.#skipEmptyBlocksBackward()
  }

  seek (target: Uint8Array, targetOff: number, targetLen: number): void {
    this.#index.seek(target, targetOff, targetLen)
    if (this.#initDataBlock()) this.#data.seek(target, targetOff, targetLen)
    this.#skipEmptyBlocksForward()
  }

  next (): void {
    this.#data.next()
    this.#skipEmptyBlocksForward()
  }

  prev (): void {
    this.#data.prev()
    this.#skipEmptyBlocksBackward()
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#dataOffset = -1
    this.#data.close()
    this.#index.close()
    this.#onClose?.()
  }

  #skipEmptyBlocksForward (): void {
    while (this.#dataOffset >= 0 && !this.#data.valid()) {
      this.#index.next()
      if (this.#initDataBlock()) this.#data.seekToFirst()
    }
  }

  #skipEmptyBlocksBackward (): void {
    while (this.#dataOffset >= 0 && !this.#data.valid()) {
      this.#index.prev()
      if (this.#initDataBlock()) this.#data.seekToLast()
    }
  }

  /** Points #data at the block the index is on (unless it is there already); false past either end. */
  #initDataBlock (): boolean {
    if (!this.#index.valid()) {
      this.#dataOffset = -1
      return false
    }
    const handle = this.#table.decodeIndexValue(this.#index, this.#handle)
    if (handle.offset !== this.#dataOffset) {
      const table = this.#table
      this.#readAhead ??= new ReadAhead(table.file, table.fileName, table.fileSize - FOOTER_SIZE)
      this.#data.reset(table.dataBlock(handle, this.#fillCache, this.#readAhead))
      this.#dataOffset = handle.offset
    }
    return true
  }
}
