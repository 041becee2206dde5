// The filter block of a table (LevelDB table/filter_block.cc, doc/table_format.md; docs/format.md,
// "Filter block"):
//
//   filter_0 ‖ ... ‖ filter_{n-1} ‖ fixed32 offset_0 ‖ ... ‖ fixed32 offset_{n-1} ‖ fixed32 array_start ‖ uint8 base_lg
//
// base_lg = 11: filter i covers the keys of every data block whose start offset o (in the file) has
// floor(o / 2048) = i. A filter may be empty (offset_i = offset_{i+1}) and then matches nothing; a block
// beyond the last filter, or a malformed filter block, matches everything (errors may only cost reads).
// The keys are USER keys (the internal key minus its 8-byte tag, as LevelDB's InternalFilterPolicy
// strips them), in table order, duplicates kept; TableBuilder strips the tags before addKey().
import { putFixed32, getFixed32 } from '../util/coding'
import type { FilterPolicy } from './filter-policy'

export const FILTER_BASE_LG = 11
const FILTER_BASE = 1 << FILTER_BASE_LG

/**
 * Collects keys block by block and builds the filter block. Call startBlock(offset) before the keys of
 * the data block at `offset` (TableBuilder calls startBlock(0) first, then the next block's offset after
 * each block is written), addKey() for each key, then finish() once.
 */
export class FilterBlockBuilder {
  readonly policy: FilterPolicy
  #hashes = new Uint32Array(256) // policy.keyHash of each key since the last filter
  #numKeys = 0
  #result = new Uint8Array(1024)
  #resultLen = 0
  #filterOffsets: number[] = []

  constructor (policy: FilterPolicy) {
    this.policy = policy
  }

  /** Emits filters until there is one for every 2 KiB region before `blockOffset`. */
  startBlock (blockOffset: number): void {
    const filterIndex = Math.floor(blockOffset / FILTER_BASE)
    if (filterIndex < this.#filterOffsets.length) throw new RangeError(`filter block: block offset ${blockOffset} goes backwards`)
    while (filterIndex > this.#filterOffsets.length) this.#generateFilter()
  }

  /** Adds a user key to the filter being gathered. */
  addKey (key: Uint8Array, off: number, len: number): void {
    if (this.#numKeys === this.#hashes.length) {
      const grown = new Uint32Array(this.#hashes.length * 2)
      grown.set(this.#hashes)
      this.#hashes = grown
    }
    this.#hashes[this.#numKeys++] = this.policy.keyHash(key, off, len)
  }

  /** The whole filter block; valid until the builder is dropped. */
  finish (): Uint8Array {
    if (this.#numKeys > 0) this.#generateFilter()
    const arrayStart = this.#resultLen
    this.#reserve(this.#filterOffsets.length * 4 + 5)
    let p = arrayStart
    for (const o of this.#filterOffsets) p = putFixed32(this.#result, p, o)
    p = putFixed32(this.#result, p, arrayStart)
    this.#result[p++] = FILTER_BASE_LG
    this.#resultLen = p
    return this.#result.subarray(0, p)
  }

  #generateFilter (): void {
    this.#filterOffsets.push(this.#resultLen)
    if (this.#numKeys === 0) return
    const size = this.policy.filterSize(this.#numKeys)
    this.#reserve(size)
    this.#result.fill(0, this.#resultLen, this.#resultLen + size)
    this.#resultLen = this.policy.createFilterFromHashes(this.#hashes, this.#numKeys, this.#result, this.#resultLen)
    this.#numKeys = 0
  }

  #reserve (extra: number): void {
    const need = this.#resultLen + extra
    if (need <= this.#result.length) return
    const grown = new Uint8Array(Math.max(need, this.#result.length * 2))
    grown.set(this.#result.subarray(0, this.#resultLen))
    this.#result = grown
  }
}

/** Answers "may the data block at this offset hold this user key?" from a table's filter block. */
export class FilterBlockReader {
  readonly policy: FilterPolicy
  readonly #data: Uint8Array
  /** 2^baseLg, the bytes of data each filter covers (kept as a number: a power per lookup showed in profiles). */
  #base = 1
  #offsetsStart = 0 // array_start
  #num = 0 // number of filters; 0 with #malformed means "match everything"
  #malformed = true

  /** `contents` is the verified filter block. A malformed one disables the filter (everything may match). */
  constructor (policy: FilterPolicy, contents: Uint8Array) {
    this.policy = policy
    this.#data = contents
    const n = contents.length
    if (n < 5) return
    const arrayStart = getFixed32(contents, n - 5)
    if (arrayStart > n - 5) return
    this.#base = 2 ** contents[n - 1]
    this.#offsetsStart = arrayStart
    this.#num = Math.floor((n - 5 - arrayStart) / 4)
    this.#malformed = false
  }

  /** Number of filters in the block. */
  get count (): number {
    return this.#num
  }

  keyMayMatch (blockOffset: number, key: Uint8Array, keyOff: number, keyLen: number): boolean {
    const h = this.#filterFor(blockOffset)
    if (h === MATCH_ALL) return true
    if (h === MATCH_NONE) return false
    return this.policy.hashMayMatch(this.policy.keyHash(key, keyOff, keyLen), this.#data, this.#filterStart, this.#filterLen)
  }

  #filterStart = 0
  #filterLen = 0

  /** Locates the filter for the block at blockOffset in #filterStart/#filterLen, or says how to answer. */
  #filterFor (blockOffset: number): number {
    if (this.#malformed) return MATCH_ALL
    const index = Math.floor(blockOffset / this.#base)
    if (index >= this.#num) return MATCH_ALL
    const data = this.#data
    const at = this.#offsetsStart + index * 4
    const start = getFixed32(data, at)
    // The end of the last filter is the array_start word that follows the offsets.
    const limit = getFixed32(data, at + 4)
    if (start <= limit && limit <= this.#offsetsStart) {
      this.#filterStart = start
      this.#filterLen = limit - start
      return FOUND
    }
    return start === limit ? MATCH_NONE : MATCH_ALL
  }
}

const FOUND = 0
const MATCH_ALL = 1
const MATCH_NONE = 2
