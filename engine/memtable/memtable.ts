// The memtable: a skip list (LevelDB db/skiplist.h; max height 12, branching 4) of internal keys in
// internal-key order, every node, key and value inline in an Arena.
//
// Node layout, in 32-bit words from the node's offset n:
//   n + 0                 height h (1..12)
//   n + 1 .. n + h        next pointers, level 0 first (0 = end)
//   n + 1 + h             prev pointer at level 0 (the head when first), so reverse iteration is O(1)
//   n + 2 + h             internal key length (user key ‖ 8-byte tag)
//   n + 3 + h             value length
//   bytes from word n + 4 + h: internal key, then value
// Invariants: nodes are never removed or moved; a node's contents never change once linked; every
// internal key is unique (a sequence number is used once). JavaScript runs one write at a time, so
// readers on this thread never see a half-linked node. On the main thread a KeyIndex (key-index.ts) maps
// each user key to its newest node, kept by add(); get() asks it first.
// A worker may read a memtable that still takes writes (a checkpoint's: shape(true)). As LevelDB's skip
// list (Release_Store / Acquire_Load of a node's next pointers), add() publishes a node at level 0 with
// Atomics.store once its words are written, and such a reader follows level-0 links with Atomics.load:
// every node it reaches is whole. It only walks forward (a table build), so the other links need no order.
import { compareBytes, putTag, ValueType, VALUE_TYPE_FOR_SEEK } from '../internal-key'
import { getFixed32 } from '../util/coding'
import { copyBytes } from '../util/bytes'
import type { InternalIterator } from '../internal-iterator'
import { Arena } from './arena'
import { hashKey, KeyIndex } from './key-index'

const MAX_HEIGHT = 12
const TWO_24 = 0x1000000
const HEAD = 1

export const enum LookupResult {
  NotFound = 0,
  Found = 1,
  Deleted = 2
}

/** A memtable's memory and skip-list height, sent by postMessage without copying the bytes. */
export interface MemTableShape {
  buffer: SharedArrayBuffer
  usedBytes: number
  height: number
  entries: number
  /** Writes may follow (the main thread's writable memtable): iterators follow links with Atomics.load. */
  live: boolean
}

/**
 * Arena bytes for a memtable that is switched away from once it passes writeBufferSize: room for the
 * group that passes it too, so that the arena rarely grows (growth copies it whole, on the main thread:
 * tens of ms for a large write buffer). A SharedArrayBuffer's untouched pages cost no memory.
 */
export function memTableCapacity (writeBufferSize: number): number {
  return writeBufferSize + 1024 * 1024
}

export class MemTable {
  readonly arena: Arena
  #height = 1
  #rng = 0x2545f491
  /** The predecessor at each level found by the last search (reused, not reallocated). */
  #prev = new Uint32Array(MAX_HEIGHT)
  #target32 = new Uint32Array(16)
  #target8 = new Uint8Array(this.#target32.buffer)
  /** Where the value of the last successful get() is: arena.u8[valueOff, valueOff + valueLen). */
  valueOff = 0
  valueLen = 0
  entries = 0
  /** Each user key's newest node; none in a read-only view (the flush worker's). */
  readonly #index: KeyIndex | undefined
  /** A view of a memtable another thread still writes (MemTableShape.live). */
  readonly live: boolean = false

  /**
   * A new memtable in a new arena of `initialBytes`, in the memory of a retired one (its arena and key
   * index, emptied here; nothing may read the retired one any more), or a read-only view of a sealed
   * memtable's shape (the flush worker's side).
   */
  constructor (initialBytes?: number | MemTableShape | MemTable) {
    if (initialBytes instanceof MemTable) {
      initialBytes.arena.reset()
      this.arena = initialBytes.arena
      this.#index = initialBytes.#index?.reset() ?? new KeyIndex(this.arena.u8.length)
    } else if (typeof initialBytes === 'object') {
      this.arena = new Arena(initialBytes.buffer, initialBytes.usedBytes)
      this.#height = initialBytes.height
      this.entries = initialBytes.entries
      this.live = initialBytes.live
      this.#index = undefined
      return
    } else {
      this.arena = new Arena(initialBytes)
      this.#index = new KeyIndex(this.arena.u8.length)
    }
    const head = this.arena.allocate((4 + MAX_HEIGHT) * 4)
    if (head !== HEAD) throw new Error('memtable head must be the first allocation')
    const u32 = this.arena.u32
    // A recycled arena holds old bytes: the head's links must start empty (add() writes every word of a node).
    u32.fill(0, HEAD, HEAD + 4 + MAX_HEIGHT)
    u32[HEAD] = MAX_HEIGHT
  }

  /**
   * What another thread needs to read this memtable: sealed (no more writes may follow), or `live`. The
   * caller keeps the memtable pinned (an open iterator) until that thread is done with it.
   */
  shape (live = false): MemTableShape {
    return { buffer: this.arena.buffer, usedBytes: this.arena.usage, height: this.#height, entries: this.entries, live }
  }

  /** Bytes used (the flush trigger compares this with writeBufferSize). */
  get approximateMemoryUsage (): number {
    return this.arena.usage
  }

  /** Inserts (userKey, sequence, type) → value. Requires: that internal key is not present. */
  add (
    sequence: number, type: ValueType,
    key: Uint8Array, keyOff: number, keyLen: number,
    value: Uint8Array, valueOff: number, valueLen: number
  ): void {
    const height = this.#randomHeight()
    const ikeyLen = keyLen + 8
    const node = this.arena.allocate((4 + height) * 4 + ikeyLen + valueLen)
    const arena = this.arena
    const u32 = arena.u32
    const u8 = arena.u8
    u32[node] = height
    u32[node + 2 + height] = ikeyLen
    u32[node + 3 + height] = valueLen
    const keyAt = (node + 4 + height) * 4
    copyBytes(key, keyOff, keyLen, u8, keyAt)
    putTag(u8, keyAt + keyLen, sequence, type)
    if (valueLen > 0) copyBytes(value, valueOff, valueLen, u8, keyAt + ikeyLen)

    this.#findGreaterOrEqual(u8, u32, keyAt >>> 2, keyLen, getFixed32(u8, keyAt + keyLen + 4), getFixed32(u8, keyAt + keyLen), true)
    if (height > this.#height) {
      for (let i = this.#height; i < height; i++) this.#prev[i] = HEAD
      this.#height = height
    }
    const prev = this.#prev
    for (let i = 0; i < height; i++) {
      const p = prev[i]
      u32[node + 1 + i] = u32[p + 1 + i]
      // At level 0 the node is published once its key, value and level-0 link are written: released to a live reader (see the header).
      if (i === 0) Atomics.store(u32, p + 1, node)
      else u32[p + 1 + i] = node
    }
    // Level-0 back link: node's successor now points back at node.
    u32[node + 1 + height] = prev[0]
    const succ = u32[node + 1]
    if (succ !== 0) u32[succ + 1 + u32[succ]] = node
    this.entries++
    if (this.#index !== undefined) this.#indexNode(node, keyAt >>> 2, keyLen)
  }

  /** Makes node the newest of its user key in the index (sequences only grow, but check: never go back). */
  #indexNode (node: number, keyWord: number, keyLen: number): void {
    const index = this.#index!
    const u32 = this.arena.u32
    const hash = hashKey(this.arena.u8, u32, keyWord, keyLen)
    const mask = index.mask
    const slots = index.slots
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const other = slots[2 * i + 1]
      if (other === 0) {
        index.insertAt(i, hash, node)
        return
      }
      if (slots[2 * i] === hash && this.#sameUserKey(other, u32, keyWord, keyLen)) {
        if (nodeSequence(this.arena.u8, u32, node) > nodeSequence(this.arena.u8, u32, other)) slots[2 * i + 1] = node
        return
      }
    }
  }

  /** The node the index holds for the user key at word tWord of tU32 (tLen bytes), or 0. */
  #indexFind (tU8: Uint8Array, tU32: Uint32Array, tWord: number, tLen: number): number {
    const index = this.#index!
    const hash = hashKey(tU8, tU32, tWord, tLen)
    const mask = index.mask
    const slots = index.slots
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const node = slots[2 * i + 1]
      if (node === 0) return 0
      if (slots[2 * i] === hash && this.#sameUserKey(node, tU32, tWord, tLen)) return node
    }
  }

  /** True when node's user key is the tLen bytes from word tWord of tU32. */
  #sameUserKey (node: number, tU32: Uint32Array, tWord: number, tLen: number): boolean {
    const u32 = this.arena.u32
    const h = u32[node]
    if (u32[node + 2 + h] - 8 !== tLen) return false
    const aWord = node + 4 + h
    const words = tLen >>> 2
    for (let i = 0; i < words; i++) if (u32[aWord + i] !== tU32[tWord + i]) return false
    const rest = tLen & 3
    if (rest === 0) return true
    const keep = (1 << (8 * rest)) - 1
    return ((u32[aWord + words] ^ tU32[tWord + words]) & keep) === 0
  }

  /**
   * Looks up userKey as of `sequence`. Found: the value is at arena.u8[valueOff, valueOff + valueLen).
   */
  get (key: Uint8Array, keyOff: number, keyLen: number, sequence: number): LookupResult {
    // The lookup tag (sequence, VALUE_TYPE_FOR_SEEK) as two halves: sorts before every entry <= sequence.
    const tHi = Math.floor(sequence / TWO_24)
    const tLo = ((sequence % TWO_24) * 256 + VALUE_TYPE_FOR_SEEK) >>> 0
    this.#stage(key, keyOff, keyLen)
    let node: number
    const index = this.#index
    const newest = index === undefined ? -1 : this.#indexFind(this.#target8, this.#target32, 0, keyLen)
    if (newest === 0 && index!.complete) return LookupResult.NotFound
    if (newest > 0 && nodeSequence(this.arena.u8, this.arena.u32, newest) <= sequence) {
      node = newest
    } else {
      // No index, a key a full index does not hold, or the newest entry is after `sequence` (a snapshot's
      // read): search the skip list.
      node = this.#findGreaterOrEqual(this.#target8, this.#target32, 0, keyLen, tHi, tLo, false)
      if (node === 0) return LookupResult.NotFound
    }
    const u32 = this.arena.u32
    const h = u32[node]
    const ikeyLen = u32[node + 2 + h]
    const keyAt = (node + 4 + h) * 4
    const u8 = this.arena.u8
    if (compareBytes(u8, keyAt, ikeyLen - 8, key, keyOff, keyLen) !== 0) return LookupResult.NotFound
    if (u8[keyAt + ikeyLen - 8] === ValueType.Deletion) return LookupResult.Deleted
    this.valueOff = keyAt + ikeyLen
    this.valueLen = u32[node + 3 + h]
    return LookupResult.Found
  }

  /** Iterators not yet closed: while any is open, the arena must not be recycled. */
  openIterators = 0

  iterator (): MemTableIterator {
    this.openIterators++
    return new MemTableIterator(this)
  }

  /**
   * First node whose internal key is >= target (user key of tLen bytes from word tWord of tU32, tag
   * tHi:tLo), 0 if none. With recordPrev, fills #prev with the last node before target at every level
   * (for insertion). The target may live in the arena itself.
   */
  #findGreaterOrEqual (
    tU8: Uint8Array, tU32: Uint32Array, tWord: number, tLen: number, tHi: number, tLo: number, recordPrev: boolean
  ): number {
    const u32 = this.arena.u32
    const u8 = this.arena.u8
    let x = HEAD
    let level = this.#height - 1
    for (;;) {
      const next = u32[x + 1 + level]
      if (next !== 0 && compareNode(u8, u32, next, tU8, tU32, tWord, tLen, tHi, tLo) < 0) {
        x = next
      } else {
        if (recordPrev) this.#prev[level] = x
        if (level === 0) return next
        level--
      }
    }
  }

  /** Last node whose key is < target (HEAD if none): the level-0 predecessor of an insertion there. */
  findLessThan (target: Uint8Array, tOff: number, tLen: number): number {
    const end = tOff + tLen
    this.#stage(target, tOff, tLen - 8)
    this.#findGreaterOrEqual(this.#target8, this.#target32, 0, tLen - 8, getFixed32(target, end - 4), getFixed32(target, end - 8), true)
    return this.#prev[0]
  }

  /** Last node (HEAD if empty). */
  findLast (): number {
    const u32 = this.arena.u32
    let x = HEAD
    let level = this.#height - 1
    for (;;) {
      const next = u32[x + 1 + level]
      if (next !== 0) x = next
      else if (level === 0) return x
      else level--
    }
  }

  /** Copies a search key to the word-aligned scratch, so that compareNode can read it a word at a time. */
  #stage (key: Uint8Array, off: number, len: number): void {
    if (this.#target8.length < len) {
      this.#target32 = new Uint32Array((len + 64) >>> 2)
      this.#target8 = new Uint8Array(this.#target32.buffer)
    }
    copyBytes(key, off, len, this.#target8, 0)
  }

  #randomHeight (): number {
    // xorshift32; a new level with probability 1/4, as LevelDB's kBranching = 4.
    let h = 1
    let r = this.#rng
    for (;;) {
      r ^= r << 13
      r ^= r >>> 17
      r ^= r << 5
      if (h >= MAX_HEIGHT || (r & 3) !== 0) break
      h++
    }
    this.#rng = r
    return h
  }
}

/** The sequence number in node's tag (at most 2^53: the memtable holds only this engine's writes). */
function nodeSequence (u8: Uint8Array, u32: Uint32Array, node: number): number {
  const h = u32[node]
  const end = (node + 4 + h) * 4 + u32[node + 2 + h]
  const lo = (u8[end - 8] | (u8[end - 7] << 8) | (u8[end - 6] << 16) | (u8[end - 5] << 24)) >>> 0
  const hi = (u8[end - 4] | (u8[end - 3] << 8) | (u8[end - 2] << 16) | (u8[end - 1] << 24)) >>> 0
  return hi * TWO_24 + (lo >>> 8)
}

/**
 * Compares node's internal key with the target (user key of tLen bytes starting at word tWord of
 * tU32, tag tHi:tLo) in internal-key order, without building the target's internal key. Keys in the
 * arena start on a word boundary, so user keys are compared four bytes at a time.
 */
function compareNode (
  u8: Uint8Array, u32: Uint32Array, node: number,
  tU8: Uint8Array, tU32: Uint32Array, tWord: number, tLen: number, tHi: number, tLo: number
): number {
  const h = u32[node]
  const len = u32[node + 2 + h]
  const aWord = node + 4 + h
  const aLen = len - 8
  const n = aLen < tLen ? aLen : tLen
  const words = n >>> 2
  for (let i = 0; i < words; i++) {
    const a = u32[aWord + i]
    const b = tU32[tWord + i]
    if (a !== b) {
      // Little-endian words: the first differing byte is the lowest differing one.
      const shift = (31 - Math.clz32((a ^ b) & -(a ^ b))) & ~7
      return ((a >>> shift) & 0xff) - ((b >>> shift) & 0xff)
    }
  }
  const at = aWord * 4
  const tAt = tWord * 4
  for (let i = words * 4; i < n; i++) {
    const d = u8[at + i] - tU8[tAt + i]
    if (d !== 0) return d
  }
  if (aLen !== tLen) return aLen - tLen
  // Tags descending: high word, then low word, unsigned.
  const ae = at + len
  const ah = (u8[ae - 4] | (u8[ae - 3] << 8) | (u8[ae - 2] << 16) | (u8[ae - 1] << 24)) >>> 0
  if (ah !== tHi) return ah < tHi ? 1 : -1
  const al = (u8[ae - 8] | (u8[ae - 7] << 8) | (u8[ae - 6] << 16) | (u8[ae - 5] << 24)) >>> 0
  return al === tLo ? 0 : al < tLo ? 1 : -1
}

/** Iterates a memtable in internal-key order. Holding it pins the memtable (it is a plain reference). */
export class MemTableIterator implements InternalIterator {
  readonly table: MemTable
  #node = 0
  #closed = false
  // The current entry's location, computed once per move rather than on every read of it.
  keyOff = 0
  keyLen = 0
  valueOff = 0
  valueLen = 0

  constructor (table: MemTable) {
    this.table = table
  }

  valid (): boolean {
    return this.#node !== 0
  }

  seekToFirst (): void {
    this.#at(this.#link(HEAD))
  }

  seekToLast (): void {
    const last = this.table.findLast()
    this.#at(last === HEAD ? 0 : last)
  }

  seek (target: Uint8Array, off: number, len: number): void {
    const before = this.table.findLessThan(target, off, len)
    this.#at(this.table.arena.u32[before + 1])
  }

  next (): void {
    this.#at(this.#link(this.#node))
  }

  /** node's level-0 successor; acquired from a live memtable's writer (see the header). */
  #link (node: number): number {
    const u32 = this.table.arena.u32
    return this.table.live ? Atomics.load(u32, node + 1) : u32[node + 1]
  }

  prev (): void {
    const u32 = this.table.arena.u32
    const p = u32[this.#node + 1 + u32[this.#node]]
    this.#at(p === HEAD ? 0 : p)
  }

  /** The arena's bytes: read on each access, since writes may grow (replace) them while iterating. */
  get keyBuf (): Uint8Array {
    return this.table.arena.u8
  }

  get valueBuf (): Uint8Array {
    return this.table.arena.u8
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#node = 0
    this.table.openIterators--
  }

  #at (node: number): void {
    this.#node = node
    if (node === 0) return
    const u32 = this.table.arena.u32
    const h = u32[node]
    this.keyOff = (node + 4 + h) * 4
    this.keyLen = u32[node + 2 + h]
    this.valueOff = this.keyOff + this.keyLen
    this.valueLen = u32[node + 3 + h]
  }
}
