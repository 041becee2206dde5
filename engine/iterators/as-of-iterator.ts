// The internal entries of another iterator numbered at or below a sequence: every version and tombstone a
// snapshot at that sequence could read, none written after it. A checkpoint (engine/db/checkpoint.ts) writes
// the memtables through it as a table, while the writable memtable keeps taking later writes. (The db
// iterator, engine/iterators/db-iterator.ts, also resolves each user key to its visible value; this one keeps
// the internal entries, since tombstones must go on shadowing older tables.)
import { tagSequence } from '../internal-key'
import type { InternalIterator } from '../internal-iterator'
import type { MemTable } from '../memtable/memtable'
import { MergingIterator } from './merging-iterator'

/** The entries of several memtables numbered at or below `sequence`, merged in internal-key order. The caller closes it. */
export function memTablesAsOf (memtables: readonly MemTable[], sequence: number): AsOfIterator {
  return new AsOfIterator(new MergingIterator(memtables.map((mem) => mem.iterator())), sequence)
}

export class AsOfIterator implements InternalIterator {
  readonly #inner: InternalIterator
  readonly #sequence: number

  constructor (inner: InternalIterator, sequence: number) {
    this.#inner = inner
    this.#sequence = sequence
  }

  valid (): boolean {
    return this.#inner.valid()
  }

  seekToFirst (): void {
    this.#inner.seekToFirst()
    this.#skip(true)
  }

  seekToLast (): void {
    this.#inner.seekToLast()
    this.#skip(false)
  }

  seek (target: Uint8Array, targetOff: number, targetLen: number): void {
    this.#inner.seek(target, targetOff, targetLen)
    this.#skip(true)
  }

  next (): void {
    this.#inner.next()
    this.#skip(true)
  }

  prev (): void {
    this.#inner.prev()
    this.#skip(false)
  }

  get keyBuf (): Uint8Array { return this.#inner.keyBuf }
  get keyOff (): number { return this.#inner.keyOff }
  get keyLen (): number { return this.#inner.keyLen }
  get valueBuf (): Uint8Array { return this.#inner.valueBuf }
  get valueOff (): number { return this.#inner.valueOff }
  get valueLen (): number { return this.#inner.valueLen }

  close (): void {
    this.#inner.close()
  }

  /** Moves past entries newer than the sequence, in the direction given. */
  #skip (forward: boolean): void {
    const it = this.#inner
    while (it.valid() && tagSequence(it.keyBuf, it.keyOff + it.keyLen) > this.#sequence) {
      if (forward) it.next()
      else it.prev()
    }
  }
}
