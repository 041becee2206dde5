// Walks an engine DbIterator through the range a Level iterator (or clear) was given: gt/gte/lt/lte
// (gte and lte win over gt and lt), in either direction. Positions that fall outside the range,
// including a seek() to a target outside it, end the walk.
import { compareBytes } from '../engine/internal-key'
import type { IteratorBounds } from '../engine/db/db'
import type { DbIterator } from '../engine/iterators/db-iterator'
import { toBytes } from './bytes'
import type { RangeOptions } from './contract'

/**
 * Inclusive user-key bounds that contain the range (gt and lt widen to their key): the engine opens no
 * table wholly outside them.
 */
export function rangeBounds (options: RangeOptions): IteratorBounds {
  const lower = options.gte ?? options.gt
  const upper = options.lte ?? options.lt
  return {
    lower: lower === undefined ? undefined : toBytes(lower),
    upper: upper === undefined ? undefined : toBytes(upper)
  }
}

export class RangeCursor {
  readonly it: DbIterator
  readonly reverse: boolean
  #lower: Uint8Array | undefined
  #lowerInclusive = true
  #upper: Uint8Array | undefined
  #upperInclusive = true
  #started = false
  #ended = false
  /** Set by seek(): the entry sought is current and not yet returned by next(). */
  #soughtUnread = false

  constructor (it: DbIterator, options: RangeOptions) {
    this.it = it
    this.reverse = options.reverse
    if (options.gte !== undefined) this.#lower = toBytes(options.gte)
    else if (options.gt !== undefined) {
      this.#lower = toBytes(options.gt)
      this.#lowerInclusive = false
    }
    if (options.lte !== undefined) this.#upper = toBytes(options.lte)
    else if (options.lt !== undefined) {
      this.#upper = toBytes(options.lt)
      this.#upperInclusive = false
    }
  }

  /** Moves to the next entry in iteration order; false at the end of the range. */
  next (): boolean {
    if (this.#soughtUnread) {
      this.#soughtUnread = false
      return true
    }
    if (this.#ended) return false
    const it = this.it
    if (!this.#started) {
      this.#started = true
      if (this.reverse) {
        if (this.#upper === undefined) it.seekToLast()
        else it.seekForPrev(this.#upper, 0, this.#upper.length)
      } else {
        if (this.#lower === undefined) it.seekToFirst()
        else it.seek(this.#lower, 0, this.#lower.length)
      }
    } else if (this.reverse) {
      it.prev()
    } else {
      it.next()
    }
    return this.#check()
  }

  /**
   * Repositions at the first key >= target (<= target in reverse), which next() then returns. A target
   * outside the range ends the walk, as abstract-level specifies and classic-level and memory-level do,
   * even where keys inside the range follow it.
   */
  seek (target: Uint8Array): void {
    this.#started = true
    if (!this.#contains(target, 0, target.length)) {
      this.#ended = true
      this.#soughtUnread = false
      return
    }
    const it = this.it
    if (this.reverse) it.seekForPrev(target, 0, target.length)
    else it.seek(target, 0, target.length)
    this.#ended = false
    this.#soughtUnread = this.#check()
  }

  #check (): boolean {
    const it = this.it
    // Skip the excluded endpoint where iteration starts (gt going forward, lt going backward).
    if (it.valid() && !this.reverse && !this.#lowerInclusive && this.#lower !== undefined &&
        compareBytes(it.keyBuf, it.keyOff, it.keyLen, this.#lower, 0, this.#lower.length) === 0) it.next()
    if (it.valid() && this.reverse && !this.#upperInclusive && this.#upper !== undefined &&
        compareBytes(it.keyBuf, it.keyOff, it.keyLen, this.#upper, 0, this.#upper.length) === 0) it.prev()
    if (!it.valid() || !this.#contains(it.keyBuf, it.keyOff, it.keyLen)) {
      this.#ended = true
      return false
    }
    return true
  }

  /** Whether the key buf[off, off + len) lies inside the range. */
  #contains (buf: Uint8Array, off: number, len: number): boolean {
    if (this.#lower !== undefined) {
      const c = compareBytes(buf, off, len, this.#lower, 0, this.#lower.length)
      if (c < 0 || (c === 0 && !this.#lowerInclusive)) return false
    }
    if (this.#upper !== undefined) {
      const c = compareBytes(buf, off, len, this.#upper, 0, this.#upper.length)
      if (c > 0 || (c === 0 && !this.#upperInclusive)) return false
    }
    return true
  }

  close (): void {
    this.#ended = true
    this.it.close()
  }
}
