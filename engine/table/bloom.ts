// LevelDB's built-in bloom filter policy (util/bloom.cc; docs/format.md, "Bloom filter"), stored under the name
// "leveldb.BuiltinBloomFilter2". A filter over n keys is
//   bit array of ceil(max(64, n * bitsPerKey) / 8) bytes ‖ one byte k
// with k = floor(bitsPerKey * 0.69) clamped to [1, 30] probes per key. Each key is hashed once
// (Hash(key, 0xbc9f1d34)) and probed by double hashing: pos = h mod bits, set bit pos & 7 of byte
// pos >> 3, h += rotr32(h, 17). A reader treats k > 30 as "match" (reserved for other encodings) and a
// filter shorter than 2 bytes as "no match".
// The bits must be exactly LevelDB's: a wrong filter under this name makes LevelDB miss keys that exist.
import { hash } from '../util/hash'
import type { FilterPolicy } from './filter-policy'

export const BLOOM_FILTER_NAME = 'leveldb.BuiltinBloomFilter2'
/** The metaindex key that names the filter block of LevelDB's built-in bloom policy. */
export const FILTER_META_KEY = 'filter.' + BLOOM_FILTER_NAME
const BLOOM_SEED = 0xbc9f1d34

/** The hash every probe sequence starts from. */
export function bloomHash (key: Uint8Array, off: number, len: number): number {
  return hash(key, off, len, BLOOM_SEED)
}

export class BloomFilterPolicy implements FilterPolicy {
  readonly name = BLOOM_FILTER_NAME
  readonly bitsPerKey: number
  /** Probes per key. */
  readonly k: number

  constructor (bitsPerKey: number) {
    this.bitsPerKey = Math.max(0, Math.floor(bitsPerKey))
    // 0.69 is roughly ln(2), which minimises the false-positive rate for a given size.
    this.k = Math.min(30, Math.max(1, Math.floor(this.bitsPerKey * 0.69)))
  }

  keyHash (key: Uint8Array, off: number, len: number): number {
    return hash(key, off, len, BLOOM_SEED)
  }

  /** Size in bytes of a filter over `n` keys, k byte included. */
  filterSize (n: number): number {
    return Math.ceil(Math.max(64, n * this.bitsPerKey) / 8) + 1
  }

  /**
   * Writes the filter for the keys whose bloomHash values are hashes[0, n) at dst[off, off +
   * filterSize(n)), which must be zero. Hashing at add time lets a builder keep 4 bytes per key instead
   * of the key; the bits are the same as hashing the keys here.
   */
  createFilterFromHashes (hashes: Uint32Array, n: number, dst: Uint8Array, off: number): number {
    const bytes = this.filterSize(n) - 1
    const bits = bytes * 8
    const k = this.k
    for (let i = 0; i < n; i++) {
      let h = hashes[i]
      const delta = ((h >>> 17) | (h << 15)) >>> 0
      for (let j = 0; j < k; j++) {
        const pos = h % bits
        dst[off + (pos >>> 3)] |= 1 << (pos & 7)
        h = (h + delta) >>> 0
      }
    }
    dst[off + bytes] = k
    return off + bytes + 1
  }

  /** The filter for `keys` in a new array (for tests and small uses). */
  createFilter (keys: readonly Uint8Array[]): Uint8Array {
    const hashes = new Uint32Array(keys.length)
    for (let i = 0; i < keys.length; i++) hashes[i] = bloomHash(keys[i], 0, keys[i].length)
    const out = new Uint8Array(this.filterSize(keys.length))
    this.createFilterFromHashes(hashes, keys.length, out, 0)
    return out
  }

  /**
   * False only if the key is certainly not among those the filter was built from. Works on any filter
   * under this policy's name, whatever bitsPerKey built it (k comes from the filter).
   */
  keyMayMatch (key: Uint8Array, keyOff: number, keyLen: number, filter: Uint8Array, fOff: number, fLen: number): boolean {
    return bloomMayMatch(bloomHash(key, keyOff, keyLen), filter, fOff, fLen)
  }

  hashMayMatch (keyHash: number, filter: Uint8Array, fOff: number, fLen: number): boolean {
    return bloomMayMatch(keyHash, filter, fOff, fLen)
  }
}

/** KeyMayMatch given the key's bloomHash. */
export function bloomMayMatch (keyHash: number, filter: Uint8Array, fOff: number, fLen: number): boolean {
  if (fLen < 2) return false
  const bits = (fLen - 1) * 8
  const k = filter[fOff + fLen - 1]
  if (k > 30) return true
  let h = keyHash
  const delta = ((h >>> 17) | (h << 15)) >>> 0
  for (let j = 0; j < k; j++) {
    const pos = h % bits
    if ((filter[fOff + (pos >>> 3)] & (1 << (pos & 7))) === 0) return false
    h = (h + delta) >>> 0
  }
  return true
}
