// The Level iterator: entries of a RangeCursor decoded into the requested formats. Reads are
// synchronous underneath, so each call fills its whole result at once; the event loop still gets a
// macrotask at least every YIELD_EVERY entries, and an abort signal is checked after an await so that
// an abort issued right after a call is honoured.
import { AbstractIterator } from 'abstract-level'
import ModuleError = require('module-error')
import type { DbIterator } from '../engine/iterators/db-iterator'
import { decode, toBytes } from './bytes'
import type { Encoded, Format, IteratorOptions } from './contract'
import { RangeCursor } from './range-cursor'

/** Entries between macrotask turns (classic-level refills 1000 entries per native hop). */
export const YIELD_EVERY = 1000

type Entry = [Encoded | undefined, Encoded | undefined]

/** abstract-level's AbortError (LEVEL_ABORTED, named 'AbortError'); its package exports no class for it. */
class AbortError extends ModuleError {
  constructor () {
    super('Iterator has been aborted', { code: 'LEVEL_ABORTED' })
  }

  override get name (): string {
    return 'AbortError'
  }
}

function breathe (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export class RoughIterator<TDatabase> extends AbstractIterator<TDatabase, Encoded, Encoded> {
  readonly #cursor: RangeCursor
  readonly #keys: boolean
  readonly #values: boolean
  readonly #keyFormat: Format
  readonly #valueFormat: Format
  readonly #signal: AbortSignal | undefined
  /** nextv() stops once the bytes it gathered exceed this (only when the user set it). */
  readonly #highWaterMarkBytes: number
  #sinceYield = 0

  constructor (db: TDatabase, options: IteratorOptions, engineIterator: DbIterator) {
    super(db, options)
    this.#cursor = new RangeCursor(engineIterator, options)
    this.#keys = options.keys
    this.#values = options.values
    this.#keyFormat = options.keyEncoding
    this.#valueFormat = options.valueEncoding
    this.#signal = options.signal ?? undefined
    const hwm = options.highWaterMarkBytes
    this.#highWaterMarkBytes = typeof hwm === 'number' && hwm > 0 && hwm < Infinity ? hwm : Infinity
  }

  async _next (): Promise<Entry | undefined> {
    await this.#pause(1)
    if (!this.#cursor.next()) return undefined
    this.#sinceYield++
    return this.#entry()
  }

  async _nextv (size: number): Promise<Entry[]> {
    await this.#pause(size)
    return this.#fill(size)
  }

  async _all (): Promise<Entry[]> {
    const out: Entry[] = []
    let remaining = this.limit - this.count
    while (remaining > 0) {
      await this.#pause(YIELD_EVERY)
      const n = remaining < YIELD_EVERY ? remaining : YIELD_EVERY
      const batch = this.#fill(n, Infinity)
      for (let i = 0; i < batch.length; i++) out.push(batch[i])
      if (batch.length < n) break
      remaining -= batch.length
    }
    return out
  }

  _seek (target: Encoded): void {
    this.#cursor.seek(toBytes(target))
  }

  async _close (): Promise<void> {
    this.#cursor.close()
  }

  /** Up to `size` entries, stopping early past the high-water mark. */
  #fill (size: number, highWaterMarkBytes = this.#highWaterMarkBytes): Entry[] {
    const out: Entry[] = []
    const cursor = this.#cursor
    const it = cursor.it
    let bytes = 0
    while (out.length < size && cursor.next()) {
      out.push(this.#entry())
      bytes += it.keyLen + it.valueLen
      if (bytes > highWaterMarkBytes) break
    }
    this.#sinceYield += out.length
    return out
  }

  #entry (): Entry {
    const it = this.#cursor.it
    return [
      this.#keys ? decode(this.#keyFormat, it.keyBuf, it.keyOff, it.keyLen) : undefined,
      this.#values ? decode(this.#valueFormat, it.valueBuf, it.valueOff, it.valueLen) : undefined
    ]
  }

  /** Yields a macrotask when due, and honours an abort issued since the call began. */
  async #pause (upcoming: number): Promise<void> {
    if (this.#sinceYield + upcoming > YIELD_EVERY && this.#sinceYield > 0) {
      this.#sinceYield = 0
      await breathe()
    } else if (this.#signal !== undefined) {
      await undefined
    }
    if (this.#signal?.aborted === true) {
      throw new AbortError()
    }
  }
}
