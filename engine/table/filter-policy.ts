// The interface between a table's filter block and the filter it stores (LevelDB include/leveldb/
// filter_policy.h). Apart from both so that the block (filter-block.ts) and the policy (bloom.ts) do not
// import each other.

/**
 * A filter policy (LevelDB's FilterPolicy), split so that a builder keeps one number per key instead
 * of the key: keyHash() summarises a key when it is added, the filter is built from the summaries, and
 * a lookup summarises its key the same way. BloomFilterPolicy is the one tables use.
 */
export interface FilterPolicy {
  /** Stored in the metaindex as "filter." + name; a reader ignores filters under other names. */
  readonly name: string
  keyHash (key: Uint8Array, off: number, len: number): number
  /** Bytes of the filter for n keys. */
  filterSize (n: number): number
  /** Writes the filter for hashes[0, n) at dst[off, off + filterSize(n)) (zeroed); returns the end. */
  createFilterFromHashes (hashes: Uint32Array, n: number, dst: Uint8Array, off: number): number
  hashMayMatch (keyHash: number, filter: Uint8Array, fOff: number, fLen: number): boolean
}
