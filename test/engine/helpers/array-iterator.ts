// An InternalIterator over a sorted array of entries, for tests of what consumes iterators (the
// merging iterator, the DbIterator). Ordering is an independent model of LevelDB's internal-key
// order (BigInt tag), not the engine's compareInternalKeys.
//
// It is deliberately strict about the contract, so that a consumer's misuse shows up as a failure:
// the current key and value are copied into per-iterator scratch buffers that are overwritten on
// every move (poisoned when invalid), so a view kept across a move of this iterator reads garbage;
// next()/prev() when not valid and any move after close() throw.
import type { InternalIterator } from '../../../engine/internal-iterator'

export interface ArrayEntry { key: Buffer, value: Buffer }

const POISON = 0xee

/** Internal-key order: user key bytewise ascending, then the 64-bit tag descending. */
export function compareInternalModel (a: Uint8Array, b: Uint8Array): number {
  // Plain byte loops and DataView, not Buffer views: the browser build's Buffer (the npm package) makes
  // each view slowly, and this runs for every comparison of the merging iterator's tests.
  const la = a.byteLength - 8
  const lb = b.byteLength - 8
  for (let i = 0; i < la && i < lb; i++) if (a[i] !== b[i]) return a[i] - b[i]
  if (la !== lb) return la - lb
  const ta = new DataView(a.buffer, a.byteOffset + la, 8).getBigUint64(0, true)
  const tb = new DataView(b.buffer, b.byteOffset + lb, 8).getBigUint64(0, true)
  return ta === tb ? 0 : ta > tb ? -1 : 1
}

export class ArrayIterator implements InternalIterator {
  readonly entries: readonly ArrayEntry[]
  #pos = -1
  #closed = false
  /** How often close() was called. */
  closes = 0
  /** Moves made (seeks included), for tests that count work. */
  moves = 0
  #keyScratch = new Uint8Array(16)
  #valueScratch = new Uint8Array(16)
  #keyLen = 0
  #valueLen = 0

  /** Requires: entries sorted strictly increasing by compareInternalModel. */
  constructor (entries: readonly ArrayEntry[]) {
    this.entries = entries
  }

  valid (): boolean {
    return this.#pos >= 0 && this.#pos < this.entries.length
  }

  seekToFirst (): void {
    this.#moveTo(0)
  }

  seekToLast (): void {
    this.#moveTo(this.entries.length - 1)
  }

  seek (target: Uint8Array, targetOff: number, targetLen: number): void {
    const t = target.subarray(targetOff, targetOff + targetLen)
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareInternalModel(this.entries[mid].key, t) < 0) lo = mid + 1
      else hi = mid
    }
    this.#moveTo(lo)
  }

  next (): void {
    if (!this.valid()) throw new Error('ArrayIterator.next() while not valid')
    this.#moveTo(this.#pos + 1)
  }

  prev (): void {
    if (!this.valid()) throw new Error('ArrayIterator.prev() while not valid')
    this.#moveTo(this.#pos - 1)
  }

  get keyBuf (): Uint8Array {
    this.#requireValid()
    return this.#keyScratch
  }

  get keyOff (): number {
    this.#requireValid()
    return 0
  }

  get keyLen (): number {
    this.#requireValid()
    return this.#keyLen
  }

  get valueBuf (): Uint8Array {
    this.#requireValid()
    return this.#valueScratch
  }

  get valueOff (): number {
    this.#requireValid()
    return 0
  }

  get valueLen (): number {
    this.#requireValid()
    return this.#valueLen
  }

  close (): void {
    this.closes++
    this.#closed = true
    this.#pos = -1
  }

  #requireValid (): void {
    if (!this.valid()) throw new Error('ArrayIterator: entry read while not valid')
  }

  #moveTo (pos: number): void {
    if (this.#closed) throw new Error('ArrayIterator moved after close()')
    this.moves++
    this.#keyScratch.fill(POISON)
    this.#valueScratch.fill(POISON)
    this.#pos = pos < 0 ? -1 : pos > this.entries.length ? this.entries.length : pos
    if (!this.valid()) return
    const e = this.entries[this.#pos]
    if (this.#keyScratch.length < e.key.length) this.#keyScratch = new Uint8Array(e.key.length * 2).fill(POISON)
    if (this.#valueScratch.length < e.value.length) this.#valueScratch = new Uint8Array(e.value.length * 2).fill(POISON)
    this.#keyScratch.set(e.key, 0)
    this.#valueScratch.set(e.value, 0)
    this.#keyLen = e.key.length
    this.#valueLen = e.value.length
  }
}
