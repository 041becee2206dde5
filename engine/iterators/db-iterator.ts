// The user-facing view of the internal stack (LevelDB db/db_iter.cc): from a stream of internal keys
// (every version of every key, newest first within a key) it yields each user key once, as of a
// snapshot sequence: entries newer than the snapshot are invisible, and a deletion hides the key.
//
// Forward, the inner iterator sits on the current entry. Reverse, it sits just before all entries of
// the current key, whose key and value are then copied into saved buffers (reused, grown as needed).
import { compareBytes, putTag, tagSequence, ValueType, VALUE_TYPE_FOR_SEEK } from '../internal-key'
import { copyBytes } from '../util/bytes'
import type { InternalIterator } from '../internal-iterator'

const enum Direction { Forward, Reverse }

/** A growable byte buffer that is reused rather than reallocated. */
class SavedBytes {
  buf = new Uint8Array(64)
  len = 0

  set (src: Uint8Array, off: number, len: number): void {
    if (this.buf.length < len) this.buf = new Uint8Array(Math.max(len, this.buf.length * 2))
    copyBytes(src, off, len, this.buf, 0)
    this.len = len
  }

  clear (): void {
    this.len = 0
  }
}

export class DbIterator {
  readonly #iter: InternalIterator
  readonly #sequence: number
  #direction = Direction.Forward
  #valid = false
  /** Forward: the key being skipped past. Reverse: the current key. */
  readonly #savedKey = new SavedBytes()
  readonly #savedValue = new SavedBytes()
  #seekBuf = new Uint8Array(64)
  readonly #onClose: (() => void) | undefined

  /** `onClose` releases what the iterator pins (its snapshot registration, memtables, version). */
  constructor (iter: InternalIterator, sequence: number, onClose?: () => void) {
    this.#iter = iter
    this.#sequence = sequence
    this.#onClose = onClose
  }

  valid (): boolean {
    return this.#valid
  }

  get keyBuf (): Uint8Array {
    return this.#direction === Direction.Forward ? this.#iter.keyBuf : this.#savedKey.buf
  }

  get keyOff (): number {
    return this.#direction === Direction.Forward ? this.#iter.keyOff : 0
  }

  get keyLen (): number {
    return this.#direction === Direction.Forward ? this.#iter.keyLen - 8 : this.#savedKey.len
  }

  get valueBuf (): Uint8Array {
    return this.#direction === Direction.Forward ? this.#iter.valueBuf : this.#savedValue.buf
  }

  get valueOff (): number {
    return this.#direction === Direction.Forward ? this.#iter.valueOff : 0
  }

  get valueLen (): number {
    return this.#direction === Direction.Forward ? this.#iter.valueLen : this.#savedValue.len
  }

  seekToFirst (): void {
    this.#direction = Direction.Forward
    this.#savedValue.clear()
    this.#iter.seekToFirst()
    if (this.#iter.valid()) this.#findNextUserEntry(false)
    else this.#valid = false
  }

  seekToLast (): void {
    this.#direction = Direction.Reverse
    this.#savedValue.clear()
    this.#iter.seekToLast()
    this.#findPrevUserEntry()
  }

  /** Positions at the first user key >= target. */
  seek (target: Uint8Array, off: number, len: number): void {
    this.#direction = Direction.Forward
    this.#savedValue.clear()
    if (this.#seekBuf.length < len + 8) this.#seekBuf = new Uint8Array((len + 8) * 2)
    this.#seekBuf.set(target.subarray(off, off + len), 0)
    putTag(this.#seekBuf, len, this.#sequence, VALUE_TYPE_FOR_SEEK)
    this.#iter.seek(this.#seekBuf, 0, len + 8)
    if (this.#iter.valid()) this.#findNextUserEntry(false)
    else this.#valid = false
  }

  /** Positions at the last user key <= target. */
  seekForPrev (target: Uint8Array, off: number, len: number): void {
    // Seek to the first key > target's newest possible entry, then step back.
    this.seek(target, off, len)
    if (!this.#valid) {
      this.seekToLast()
      return
    }
    if (compareBytes(this.keyBuf, this.keyOff, this.keyLen, target, off, len) > 0) this.prev()
  }

  next (): void {
    const iter = this.#iter
    if (this.#direction === Direction.Reverse) {
      this.#direction = Direction.Forward
      // The inner iterator is just before the current key's entries: step into them; savedKey holds
      // the current key, which the skipping below passes over.
      if (!iter.valid()) iter.seekToFirst()
      else iter.next()
      if (!iter.valid()) {
        this.#valid = false
        this.#savedKey.clear()
        return
      }
    } else {
      this.#savedKey.set(iter.keyBuf, iter.keyOff, iter.keyLen - 8)
      iter.next()
      if (!iter.valid()) {
        this.#valid = false
        this.#savedKey.clear()
        return
      }
    }
    this.#findNextUserEntry(true)
  }

  prev (): void {
    const iter = this.#iter
    if (this.#direction === Direction.Forward) {
      // The inner iterator is at the current entry: back up until the user key changes.
      this.#savedKey.set(iter.keyBuf, iter.keyOff, iter.keyLen - 8)
      for (;;) {
        iter.prev()
        if (!iter.valid()) {
          this.#valid = false
          this.#savedKey.clear()
          this.#savedValue.clear()
          return
        }
        const saved = this.#savedKey
        if (compareBytes(iter.keyBuf, iter.keyOff, iter.keyLen - 8, saved.buf, 0, saved.len) < 0) break
      }
      this.#direction = Direction.Reverse
    }
    this.#findPrevUserEntry()
  }

  close (): void {
    this.#valid = false
    this.#iter.close()
    this.#onClose?.()
  }

  /** Forward: stops at the first visible, live entry (past savedKey when skipping). */
  #findNextUserEntry (skipping: boolean): void {
    const iter = this.#iter
    const saved = this.#savedKey
    do {
      const kb = iter.keyBuf
      const ko = iter.keyOff
      const kl = iter.keyLen
      const end = ko + kl
      if (tagSequence(kb, end) <= this.#sequence) {
        if (kb[end - 8] === ValueType.Deletion) {
          // Everything older for this user key is hidden.
          saved.set(kb, ko, kl - 8)
          skipping = true
        } else if (!skipping || compareBytes(kb, ko, kl - 8, saved.buf, 0, saved.len) > 0) {
          this.#valid = true
          saved.clear()
          return
        }
      }
      iter.next()
    } while (iter.valid())
    saved.clear()
    this.#valid = false
  }

  /** Reverse: collects the newest visible entry of the key before the inner position. */
  #findPrevUserEntry (): void {
    const iter = this.#iter
    const saved = this.#savedKey
    let valueType = ValueType.Deletion
    while (iter.valid()) {
      const kb = iter.keyBuf
      const ko = iter.keyOff
      const kl = iter.keyLen
      const end = ko + kl
      if (tagSequence(kb, end) <= this.#sequence) {
        if (valueType !== ValueType.Deletion && compareBytes(kb, ko, kl - 8, saved.buf, 0, saved.len) < 0) {
          break // a live value of a later key is complete
        }
        valueType = kb[end - 8]
        if (valueType === ValueType.Deletion) {
          saved.clear()
          this.#savedValue.clear()
        } else {
          saved.set(kb, ko, kl - 8)
          this.#savedValue.set(iter.valueBuf, iter.valueOff, iter.valueLen)
        }
      }
      iter.prev()
    }
    if (valueType === ValueType.Deletion) {
      this.#valid = false
      saved.clear()
      this.#savedValue.clear()
      this.#direction = Direction.Forward
    } else {
      this.#valid = true
    }
  }
}
