// Merges several internal iterators into one stream in internal-key order (LevelDB table/merger.cc):
// the memtables, the level-0 files and one iterator per deeper level, under the DbIterator and
// compaction.
//
// The current entry is always the current child's; every other child is kept positioned so that one
// step of the current child and a linear scan for the smallest (forward) or largest (reverse) key give
// the next entry. Children are few (typically < 15), so the scan is cheaper than a heap and allocates
// nothing.
//
// Order: internal key, then child index, so that equal keys (not expected: sequences are unique, but
// possible) come newest source first going forward and are still visited exactly once. Invariants:
//   Forward: every other child j is at its first entry (key, j) > (current key, current index).
//   Reverse: every other child j is at its last entry (key, j) < (current key, current index).
// Switching direction re-establishes the invariant for every other child (a seek each) before the
// current child moves; this costs one seek per child, as in LevelDB.
import { compareInternalKeys } from '../internal-key'
import type { InternalIterator } from '../internal-iterator'

const enum Direction { Forward, Reverse }

const NONE = -1

/**
 * Requires: each child yields strictly increasing internal keys. Takes ownership of the children:
 * close() closes them.
 */
export class MergingIterator implements InternalIterator {
  readonly #children: InternalIterator[]
  /** Index of the child holding the current entry, NONE when not valid. */
  #current = NONE
  #direction = Direction.Forward
  #closed = false

  constructor (children: InternalIterator[]) {
    this.#children = children.slice()
  }

  valid (): boolean {
    return this.#current !== NONE
  }

  seekToFirst (): void {
    this.#current = NONE
    for (const child of this.#children) child.seekToFirst()
    this.#direction = Direction.Forward
    this.#findCurrent(Direction.Forward)
  }

  seekToLast (): void {
    this.#current = NONE
    for (const child of this.#children) child.seekToLast()
    this.#direction = Direction.Reverse
    this.#findCurrent(Direction.Reverse)
  }

  /**
   * Positions at the first entry >= target. Requires: target is not a view of this iterator's (or a
   * child's) current key, which moving the children may overwrite.
   */
  seek (target: Uint8Array, targetOff: number, targetLen: number): void {
    this.#current = NONE
    for (const child of this.#children) child.seek(target, targetOff, targetLen)
    this.#direction = Direction.Forward
    this.#findCurrent(Direction.Forward)
  }

  next (): void {
    const cur = this.#current
    // Until a current entry is found again the iterator is invalid, so a child that throws leaves it so.
    this.#current = NONE
    const current = this.#children[cur]
    if (this.#direction !== Direction.Forward) {
      this.#positionAfter(cur)
      this.#direction = Direction.Forward
    }
    current.next()
    this.#findCurrent(Direction.Forward)
  }

  prev (): void {
    const cur = this.#current
    this.#current = NONE
    const current = this.#children[cur]
    if (this.#direction !== Direction.Reverse) {
      this.#positionBefore(cur)
      this.#direction = Direction.Reverse
    }
    current.prev()
    this.#findCurrent(Direction.Reverse)
  }

  get keyBuf (): Uint8Array {
    return this.#children[this.#current].keyBuf
  }

  get keyOff (): number {
    return this.#children[this.#current].keyOff
  }

  get keyLen (): number {
    return this.#children[this.#current].keyLen
  }

  get valueBuf (): Uint8Array {
    return this.#children[this.#current].valueBuf
  }

  get valueOff (): number {
    return this.#children[this.#current].valueOff
  }

  get valueLen (): number {
    return this.#children[this.#current].valueLen
  }

  close (): void {
    this.#current = NONE
    if (this.#closed) return
    this.#closed = true
    for (const child of this.#children) child.close()
  }

  /**
   * Makes the valid child with the smallest (forward) or largest (reverse) entry current; on equal
   * keys the lower index going forward and the higher going in reverse, so both directions follow one
   * order. NONE when every child is exhausted.
   */
  #findCurrent (direction: Direction): void {
    const children = this.#children
    let best = NONE
    let bestBuf: Uint8Array | null = null
    let bestOff = 0
    let bestLen = 0
    for (let i = 0; i < children.length; i++) {
      const child = children[i]
      if (!child.valid()) continue
      const buf = child.keyBuf
      const off = child.keyOff
      const len = child.keyLen
      if (bestBuf !== null) {
        const c = compareInternalKeys(buf, off, len, bestBuf, bestOff, bestLen)
        if (direction === Direction.Forward ? c >= 0 : c < 0) continue
      }
      best = i
      bestBuf = buf
      bestOff = off
      bestLen = len
    }
    this.#current = best
  }

  /** Forward invariant for every child but `cur`, whose entry is the current one and stays put. */
  #positionAfter (cur: number): void {
    const children = this.#children
    const current = children[cur]
    const kb = current.keyBuf
    const ko = current.keyOff
    const kl = current.keyLen
    for (let j = 0; j < children.length; j++) {
      if (j === cur) continue
      const child = children[j]
      child.seek(kb, ko, kl)
      // An equal key in a lower-indexed child precedes the current entry: step past it.
      if (j < cur && child.valid() &&
        compareInternalKeys(child.keyBuf, child.keyOff, child.keyLen, kb, ko, kl) === 0) child.next()
    }
  }

  /** Reverse invariant for every child but `cur`. */
  #positionBefore (cur: number): void {
    const children = this.#children
    const current = children[cur]
    const kb = current.keyBuf
    const ko = current.keyOff
    const kl = current.keyLen
    for (let j = 0; j < children.length; j++) {
      if (j === cur) continue
      const child = children[j]
      child.seek(kb, ko, kl)
      if (!child.valid()) {
        // Every entry of this child is before the current key.
        child.seekToLast()
      } else if (j > cur ||
        compareInternalKeys(child.keyBuf, child.keyOff, child.keyLen, kb, ko, kl) !== 0) {
        // At the first entry >= the current key; only an equal key in a lower-indexed child precedes it.
        child.prev()
      }
    }
  }
}
