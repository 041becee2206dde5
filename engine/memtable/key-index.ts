// A hash index over a memtable's user keys: for each user key, the node of its newest entry. A point
// read at the newest sequence (every get without an explicit snapshot) finds its answer, or learns that
// the memtable holds nothing for the key, with a hash and a probe or two, instead of a skip-list search
// of some 25 node visits (each a cache miss in a memtable of megabytes). Reads as of an older sequence,
// iterators and flushes use the skip list as before.
//
// Open addressing with linear probing; slot i is slots[2i] (the key's 32-bit hash) and slots[2i + 1] (the
// node's word offset; 0 = empty: no node is at word 0), side by side so that a probe touches one line. Only
// the main thread has one (the flush worker reads the skip list).
//
// The index never grows: rehashing a large one is a synchronous stretch of tens of ms (28 ms at 256 Ki keys
// here), past the event loop's slice. It is sized once from the memtable's arena, and at half full it stops
// taking new keys and says so (complete = false): keys already in it stay exact (a newer entry of one
// replaces its node), and a key it does not hold is then looked up in the skip list.

/** Bounds on the slots: a small memtable still gets a useful index; a large one at most 1 MiB of slots. */
const MIN_SLOTS = 1 << 12
const MAX_SLOTS = 1 << 17
/** Arena bytes per slot: with entries of ~130 bytes (16-byte keys, 100-byte values) a 4 MiB memtable's keys fit. */
const ARENA_BYTES_PER_SLOT = 64

export class KeyIndex {
  readonly slots: Int32Array
  /** Slots - 1 (a power of two less one). */
  readonly mask: number
  /** True while every key of the memtable is in the index, so that a miss means the memtable has none. */
  complete = true
  #count = 0

  /** An index for a memtable whose arena holds `arenaBytes`. */
  constructor (arenaBytes: number) {
    let n = MIN_SLOTS
    while (n < MAX_SLOTS && n * ARENA_BYTES_PER_SLOT < arenaBytes) n *= 2
    this.slots = new Int32Array(2 * n)
    this.mask = n - 1
  }

  /** Empties the index for a new memtable in the same memory (no allocation, no page to fault in). */
  reset (): this {
    this.slots.fill(0)
    this.complete = true
    this.#count = 0
    return this
  }

  /**
   * Stores `node` for a key not yet in the index, in the empty slot `slot` that a probe found; once the
   * index is half full it takes no more keys and is no longer complete.
   */
  insertAt (slot: number, hash: number, node: number): void {
    if (!this.complete) return
    if (++this.#count * 2 > this.mask) {
      this.complete = false
      return
    }
    this.slots[2 * slot] = hash
    this.slots[2 * slot + 1] = node
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
