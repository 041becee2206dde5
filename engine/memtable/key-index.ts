// A hash index over a memtable's user keys: for each user key, the node of its newest entry. A point
// read at the newest sequence (every get without an explicit snapshot) finds its answer, or learns that
// the memtable holds nothing for the key, with a hash and a probe or two, instead of a skip-list search
// of some 25 node visits (each a cache miss in a memtable of megabytes). Reads as of an older sequence,
// iterators and flushes use the skip list as before.
//
// Open addressing with linear probing; slot i is slots[2i] (the key's 32-bit hash) and slots[2i + 1] (the
// node's word offset; 0 = empty: no node is at word 0), side by side so that a probe touches one line. Kept at most half full; growing rehashes from the stored hashes and
// reads no key. Only the main thread has one (the flush worker reads the skip list).

/** Slots of a new index: enough for about 8 Ki keys before the first growth. */
const INITIAL_SLOTS = 1 << 14

export class KeyIndex {
  slots: Int32Array
  /** Slots - 1 (a power of two less one). */
  mask: number
  #count = 0

  constructor () {
    this.slots = new Int32Array(2 * INITIAL_SLOTS)
    this.mask = INITIAL_SLOTS - 1
  }

  /** Stores `node` for a key not yet in the index, in the empty slot `slot` that a probe found. */
  insertAt (slot: number, hash: number, node: number): void {
    this.slots[2 * slot] = hash
    this.slots[2 * slot + 1] = node
    if (++this.#count * 2 > this.mask) this.#grow()
  }

  #grow (): void {
    const old = this.slots
    const mask = 2 * (this.mask + 1) - 1
    const slots = new Int32Array(2 * (mask + 1))
    for (let i = 0; i < old.length; i += 2) {
      const node = old[i + 1]
      if (node === 0) continue
      const hash = old[i]
      let j = hash & mask
      while (slots[2 * j + 1] !== 0) j = (j + 1) & mask
      slots[2 * j] = hash
      slots[2 * j + 1] = node
    }
    this.slots = slots
    this.mask = mask
  }
}

/**
 * The hash of `len` bytes of a user key that starts at word `word` of u32 (bytes in u8): four bytes at a
 * time, as keys in the arena (and the memtable's staged search key) start on a word boundary.
 */
export function hashKey (u8: Uint8Array, u32: Uint32Array, word: number, len: number): number {
  let h = len ^ 0x2545f491
  const words = len >>> 2
  for (let i = 0; i < words; i++) {
    h = Math.imul(h ^ u32[word + i], 0x9e3779b1)
    h ^= h >>> 15
  }
  const at = (word + words) * 4
  let tail = 0
  for (let i = (len & 3) - 1; i >= 0; i--) tail = (tail << 8) | u8[at + i]
  h = Math.imul(h ^ tail, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}
