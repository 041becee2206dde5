// Reads one block of a table (LevelDB table/block.cc; docs/format.md, "Block contents"). The layout is
// BlockBuilder's: prefix-compressed entries, then fixed32 restart offsets and a fixed32 count. A Block
// parses and checks the restart array once; BlockIterators walk it in either direction.
//
// The bytes are untrusted: a restart count that does not fit the block, a restart offset past the
// entries, an entry whose lengths run past the entries, a shared prefix longer than the previous key
// (which includes a restart entry with shared > 0) or a key shorter than the comparator needs are all
// LEVEL_CORRUPTION naming the file and the block's offset. (LevelDB turns some of these into a silent
// end of iteration; a damaged block must never look like a shorter one.)
import { corruption } from '../errors'
import type { InternalIterator } from '../internal-iterator'
import { getFixed32 } from '../util/coding'
import { copyBytes } from '../util/bytes'
import { blockMemory, releaseBlockMemory } from './block-memory'

/** Orders keys given as (buffer, offset, length): compareBytes or compareInternalKeys. */
export type KeyComparator = (
  a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number
) => number

/** Released Blocks kept for reuse by Block.take (their memory goes back to block-memory.ts apart). */
const SPARE_BLOCKS = 1024

/**
 * The verified, uncompressed contents of one block, with its restart array located: data[0, size).
 * Immutable while anything refers to it.
 *
 * Counted references keep its memory: the block cache holds one while the block is cached, each
 * BlockIterator one while it is on the block. A block read from a table's data (Block.take) gives its
 * memory back to block-memory.ts when the last is dropped, and the Block itself is kept to be taken again
 * for another block: after the release nothing may use it (ref() throws until it is taken again). A block
 * made with `new` (an index, a filter's metaindex) never gives its memory back: the garbage collector takes it.
 */
export class Block {
  /** The contents at [0, size); longer than size when taken from block memory (its capacity). */
  data: Uint8Array
  size = 0
  /** Offset of the restart array, which is also where the entries end. */
  restartsOffset = 0
  numRestarts = 0
  /** Where this block came from, for error messages. */
  fileName = 'block'
  fileOffset = 0
  /** Taken from the pool: its memory goes back when released. Set by take() only. */
  #pooled = false
  #refs = 0
  #released = false

  /** A block over `data` (all of it), parsed now: throws LEVEL_CORRUPTION when it is too short for its restart count. */
  constructor (data: Uint8Array, fileName = 'block', fileOffset = 0) {
    this.data = data
    this.init(data.length, fileName, fileOffset)
  }

  /**
   * A block with memory for `n` bytes of contents, for the caller to fill at data[0, n) and then init(): a
   * released one when there is one. If the caller gives up on it (the contents do not decode), discard().
   */
  static take (n: number): Block {
    const block = spareBlocks.pop() ?? new Block(EMPTY_BLOCK)
    block.data = blockMemory(n)
    block.#pooled = true
    block.#refs = 0
    block.#released = false
    return block
  }

  /** Locates the restart array of the contents at data[0, size); throws LEVEL_CORRUPTION when it does not fit. */
  init (size: number, fileName: string, fileOffset: number): this {
    this.size = size
    this.fileName = fileName
    this.fileOffset = fileOffset
    if (size < 4) throw corruption(`bad block contents (${size} bytes) in ${fileName} at offset ${fileOffset}`)
    const numRestarts = getFixed32(this.data, size - 4)
    if (numRestarts > (size - 4) / 4) {
      throw corruption(`bad block contents (${numRestarts} restarts in ${size} bytes) in ${fileName} at offset ${fileOffset}`)
    }
    this.numRestarts = numRestarts
    this.restartsOffset = size - 4 * (numRestarts + 1)
    return this
  }

  /** Gives back a block from take() that was never referenced (its contents did not decode). */
  discard (): void {
    if (this.#refs === 0 && !this.#released) this.#release()
  }

  ref (): void {
    if (this.#released) throw new Error(`internal error: a released block of ${this.fileName} at offset ${this.fileOffset} is used again`)
    this.#refs++
  }

  /** Drops a reference taken by ref(); the last one releases the contents. */
  unref (): void {
    // A second release would give the memory back twice, and to two later blocks at once.
    if (this.#released) throw new Error(`internal error: a released block of ${this.fileName} at offset ${this.fileOffset} is released again`)
    if (--this.#refs > 0) return
    this.#release()
  }

  #release (): void {
    this.#released = true
    if (!this.#pooled) return
    releaseBlockMemory(this.data)
    this.data = EMPTY
    this.#pooled = false
    if (spareBlocks.length < SPARE_BLOCKS) spareBlocks.push(this)
  }

  /** The error for a damaged entry at `at` (an offset within the block). */
  corrupt (what: string, at: number): Error {
    return corruption(`bad entry in block (${what}, entry at ${at}) in ${this.fileName} at offset ${this.fileOffset}`)
  }
}

/** Blocks released from the pool, to be taken again. */
const spareBlocks: Block[] = []

const EMPTY = new Uint8Array(0)
/** The smallest valid block (no entries, no restarts): what a Block made for the pool starts from. */
const EMPTY_BLOCK = new Uint8Array(4)

/**
 * Iterates a Block in `comparator` order (internal keys for data and index blocks, bytewise for the
 * metaindex). Keys are assembled in a buffer owned by the iterator and reused for every entry; values
 * are views into the block. Both stay valid until the next move or reset().
 * `minKeyLength` (8 for internal keys) makes shorter keys corruption instead of garbage comparisons.
 */
export class BlockIterator implements InternalIterator {
  keyBuf: Uint8Array = new Uint8Array(64)
  readonly keyOff = 0
  keyLen = 0
  valueBuf: Uint8Array = EMPTY
  valueOff = 0
  valueLen = 0

  readonly #cmp: KeyComparator
  readonly #minKeyLength: number
  #block: Block | undefined
  #data: Uint8Array = EMPTY
  #restarts = 0 // where entries end; current >= restarts means not valid
  #numRestarts = 0
  #current = 0
  #restartIndex = 0
  /** Offset of restart #restartIndex + 1 (Infinity past the last): kept so that decoding an entry need not read it. */
  #nextRestartAt = Infinity
  #next = 0 // offset just past the current entry

  constructor (comparator: KeyComparator, block?: Block, minKeyLength = 0) {
    this.#cmp = comparator
    this.#minKeyLength = minKeyLength
    if (block !== undefined) this.reset(block)
  }

  /** Points the iterator at another block (not positioned until a seek), reusing its key buffer. */
  reset (block: Block): void {
    block.ref()
    this.#block?.unref()
    this.#block = block
    this.#data = block.data
    this.valueBuf = block.data
    this.#restarts = block.restartsOffset
    this.#numRestarts = block.numRestarts
    // prev()'s saved run is of the block it was on: a Block is reused for other contents (Block.take).
    this.#run.block = undefined
    this.#invalidate()
  }

  get block (): Block | undefined {
    return this.#block
  }

  valid (): boolean {
    return this.#current < this.#restarts
  }

  seekToFirst (): void {
    if (this.#numRestarts === 0) return this.#invalidate()
    this.#seekToRestartPoint(0)
    this.#parseNextKey()
  }

  seekToLast (): void {
    if (this.#numRestarts === 0) return this.#invalidate()
    this.#seekToRestartPoint(this.#numRestarts - 1)
    while (this.#parseNextKey() && this.#next < this.#restarts) {
      // keep going to the last entry
    }
  }

  seek (target: Uint8Array, targetOff: number, targetLen: number): void {
    if (this.#numRestarts === 0) return this.#invalidate()
    // Binary search for the last restart point whose key is < target. When already positioned, the
    // current entry narrows the range (seeks that move forward a little skip the search).
    let left = 0
    let right = this.#numRestarts - 1
    let currentCompare = 0
    if (this.valid()) {
      currentCompare = this.#cmp(this.keyBuf, 0, this.keyLen, target, targetOff, targetLen)
      if (currentCompare < 0) left = this.#restartIndex
      else if (currentCompare > 0) right = this.#restartIndex
      else return
    }
    const data = this.#data
    while (left < right) {
      const mid = (left + right + 1) >>> 1
      const at = this.#restartOffset(mid)
      const p = this.#decodeHeader(at)
      if (this.#shared !== 0) throw this.#corrupt('restart entry with a shared prefix', at)
      if (this.#cmp(data, p, this.#nonShared, target, targetOff, targetLen) < 0) left = mid
      else right = mid - 1
    }
    if (!(left === this.#restartIndex && currentCompare < 0)) this.#seekToRestartPoint(left)
    while (this.#parseNextKey()) {
      if (this.#cmp(this.keyBuf, 0, this.keyLen, target, targetOff, targetLen) >= 0) return
    }
  }

  next (): void {
    this.#parseNextKey()
  }

  prev (): void {
    const original = this.#current
    // Within the restart run the last prev() decoded, step back through its saved entries.
    const run = this.#run
    if (run.block === this.#block && run.pos > 0 && run.offset[run.pos] === original) {
      this.#loadRunEntry(run.pos - 1)
      return
    }
    // Back to the restart point before the current entry, then forward to the entry before it,
    // saving each entry of that run so that the next prev() calls need not decode it again.
    while (this.#restartOffset(this.#restartIndex) >= original) {
      if (this.#restartIndex === 0) return this.#invalidate()
      this.#restartIndex--
    }
    this.#seekToRestartPoint(this.#restartIndex)
    run.block = undefined
    run.count = 0
    run.keyBytes = 0
    while (this.#parseNextKey()) {
      this.#saveRunEntry()
      if (this.#next >= original) break
    }
    if (this.valid()) {
      run.block = this.#block
      run.pos = run.count - 1
    }
  }

  /** Leaves the block (dropping this iterator's reference to it); reset() may point it at another. */
  close (): void {
    this.#block?.unref()
    this.#block = undefined
    this.#data = this.valueBuf = EMPTY
    this.#restarts = this.#numRestarts = 0
    this.#invalidate()
  }

  #invalidate (): void {
    this.#current = this.#restarts
    this.#restartIndex = this.#numRestarts
    this.#nextRestartAt = Infinity
    this.#next = this.#restarts
    this.keyLen = 0
    this.valueLen = 0
  }

  /** A restart offset, checked to lie within the entries. */
  #restartOffset (index: number): number {
    const at = getFixed32(this.#data, this.#restarts + 4 * index)
    if (at > this.#restarts) throw this.#corrupt(`restart ${index} points past the entries`, at)
    return at
  }

  #seekToRestartPoint (index: number): void {
    this.keyLen = 0
    this.#restartIndex = index
    this.#nextRestartAt = index + 1 < this.#numRestarts ? this.#restartOffset(index + 1) : Infinity
    this.#next = this.#restartOffset(index)
  }

  // Header of the entry decoded last by #decodeHeader.
  #shared = 0
  #nonShared = 0
  #valueLength = 0

  /**
   * Decodes the three lengths of the entry at `at` into #shared, #nonShared, #valueLength, checking that
   * the key delta and value lie before the restart array; returns the offset of the key delta.
   */
  #decodeHeader (at: number): number {
    const data = this.#data
    const limit = this.#restarts
    let p = at
    if (limit - p >= 3 && (data[p] | data[p + 1] | data[p + 2]) < 128) {
      this.#shared = data[p]
      this.#nonShared = data[p + 1]
      this.#valueLength = data[p + 2]
      p += 3
    } else {
      for (let field = 0; field < 3; field++) {
        let v = 0
        for (let shift = 0; ; shift += 7) {
          if (p >= limit || shift > 28) throw this.#corrupt('bad varint', at)
          const b = data[p++]
          v |= (b & 0x7f) << shift
          if (b < 128) break
        }
        v >>>= 0
        if (field === 0) this.#shared = v
        else if (field === 1) this.#nonShared = v
        else this.#valueLength = v
      }
    }
    if (this.#nonShared + this.#valueLength > limit - p) throw this.#corrupt('lengths past the end of the block', at)
    return p
  }

  #parseNextKey (): boolean {
    const at = this.#next
    this.#current = at
    if (at >= this.#restarts) {
      this.#invalidate()
      return false
    }
    const p = this.#decodeHeader(at)
    const shared = this.#shared
    const nonShared = this.#nonShared
    if (shared > this.keyLen) throw this.#corrupt(`shared prefix ${shared} longer than the previous key`, at)
    const keyLen = shared + nonShared
    if (keyLen < this.#minKeyLength) throw this.#corrupt(`key of ${keyLen} bytes`, at)
    if (keyLen > this.keyBuf.length) {
      const grown = new Uint8Array(Math.max(keyLen, this.keyBuf.length * 2))
      grown.set(this.keyBuf.subarray(0, shared))
      this.keyBuf = grown
    }
    const key = this.keyBuf
    const data = this.#data
    if (nonShared < 32) {
      for (let i = 0; i < nonShared; i++) key[shared + i] = data[p + i]
    } else {
      key.set(data.subarray(p, p + nonShared), shared)
    }
    this.keyLen = keyLen
    this.valueOff = p + nonShared
    this.valueLen = this.#valueLength
    this.#next = this.valueOff + this.valueLen
    while (this.#nextRestartAt < at) {
      const index = ++this.#restartIndex
      this.#nextRestartAt = index + 1 < this.#numRestarts ? this.#restartOffset(index + 1) : Infinity
    }
    return true
  }

  /** The entries of one restart run, saved by prev() (offsets, keys and values of each). */
  readonly #run = {
    block: undefined as Block | undefined,
    count: 0,
    pos: 0,
    keyBytes: 0,
    offset: new Int32Array(16),
    next: new Int32Array(16),
    keyStart: new Int32Array(16),
    keyLen: new Int32Array(16),
    valueOff: new Int32Array(16),
    valueLen: new Int32Array(16),
    keys: new Uint8Array(1024)
  }

  #saveRunEntry (): void {
    const run = this.#run
    const i = run.count
    if (i === run.offset.length) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2)
        b.set(a)
        return b
      }
      run.offset = grow(run.offset)
      run.next = grow(run.next)
      run.keyStart = grow(run.keyStart)
      run.keyLen = grow(run.keyLen)
      run.valueOff = grow(run.valueOff)
      run.valueLen = grow(run.valueLen)
    }
    if (run.keyBytes + this.keyLen > run.keys.length) {
      const keys = new Uint8Array(Math.max(run.keys.length * 2, run.keyBytes + this.keyLen))
      keys.set(run.keys.subarray(0, run.keyBytes))
      run.keys = keys
    }
    copyBytes(this.keyBuf, 0, this.keyLen, run.keys, run.keyBytes)
    run.offset[i] = this.#current
    run.next[i] = this.#next
    run.keyStart[i] = run.keyBytes
    run.keyLen[i] = this.keyLen
    run.valueOff[i] = this.valueOff
    run.valueLen[i] = this.valueLen
    run.keyBytes += this.keyLen
    run.count = i + 1
  }

  /** Makes saved entry i of the run current, exactly as decoding it would. */
  #loadRunEntry (i: number): void {
    const run = this.#run
    const len = run.keyLen[i]
    if (len > this.keyBuf.length) this.keyBuf = new Uint8Array(Math.max(len, this.keyBuf.length * 2))
    copyBytes(run.keys, run.keyStart[i], len, this.keyBuf, 0)
    this.keyLen = len
    this.#current = run.offset[i]
    this.#next = run.next[i]
    this.valueOff = run.valueOff[i]
    this.valueLen = run.valueLen[i]
    run.pos = i
  }

  #corrupt (what: string, at: number): Error {
    const block = this.#block
    this.#invalidate()
    return block === undefined ? corruption(`bad entry in block (${what})`) : block.corrupt(what, at)
  }
}
