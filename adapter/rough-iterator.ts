// The Level iterator: entries of a RangeCursor decoded into the requested formats. Reads are
// synchronous underneath; a call gives the event loop a turn first when the main thread's slice is
// spent (engine/util/event-loop-budget.ts), and nextv() returns fewer entries than asked for when its
// slice runs out while it fills (abstract-level allows "at most size"). An abort signal is checked after
// an await so that an abort issued right after a call is honoured.
import { AbstractIterator } from 'abstract-level'
import type { DbIterator } from '../engine/iterators/db-iterator'
import { eventLoopBudget } from '../engine/util/event-loop-budget'
import { AbortError } from './abort-error'
import { decode, toBytes } from './bytes'
import type { Encoded, Format, IteratorOptions } from './contract'
import { RangeCursor } from './range-cursor'

/** all() gathers this many entries between checks of the event loop's slice. */
const ALL_CHUNK = 1000
/** nextv() reads the clock once per this many entries (a power of two). */
const CHECK_EVERY = 64

type Entry = [Encoded | undefined, Encoded | undefined]

export class RoughIterator<TDatabase> extends AbstractIterator<TDatabase, Encoded, Encoded> {
  readonly #cursor: RangeCursor
  readonly #keys: boolean
  readonly #values: boolean
  readonly #keyFormat: Format
  readonly #valueFormat: Format
  readonly #signal: AbortSignal | undefined
  /** nextv() stops once the bytes it gathered exceed this (only when the user set it). */
  readonly #highWaterMarkBytes: number

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
    await this.#pause(eventLoopBudget.tick())
    if (!this.#cursor.next()) return undefined
    return this.#entry()
  }

  async _nextv (size: number): Promise<Entry[]> {
    await this.#pause(eventLoopBudget.spent())
    return this.#fill(size, this.#highWaterMarkBytes, true)
  }

  async _all (): Promise<Entry[]> {
    const out: Entry[] = []
    let remaining = this.limit - this.count
    while (remaining > 0) {
      await this.#pause(eventLoopBudget.spent())
      const n = remaining < ALL_CHUNK ? remaining : ALL_CHUNK
      const batch = this.#fill(n, Infinity, false)
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

  /**
   * Up to `size` entries, stopping early past the high-water mark, and (if `withinSlice`) once the event
   * loop's slice is spent: fewer entries, never none unless the range has ended.
   */
  #fill (size: number, highWaterMarkBytes: number, withinSlice: boolean): Entry[] {
    const out: Entry[] = []
    const cursor = this.#cursor
    const it = cursor.it
    let bytes = 0
    while (out.length < size && cursor.next()) {
      out.push(this.#entry())
      bytes += it.keyLen + it.valueLen
      if (bytes > highWaterMarkBytes) break
      if (withinSlice && (out.length & (CHECK_EVERY - 1)) === 0 && eventLoopBudget.spent()) break
    }
    return out
  }

  #entry (): Entry {
    const it = this.#cursor.it
    return [
      this.#keys ? decode(this.#keyFormat, it.keyBuf, it.keyOff, it.keyLen) : undefined,
      this.#values ? decode(this.#valueFormat, it.valueBuf, it.valueOff, it.valueLen) : undefined
    ]
  }

  /** Gives the event loop a turn if `spent`, and honours an abort issued since the call began. */
  async #pause (spent: boolean): Promise<void> {
    if (spent) await eventLoopBudget.turn()
    else if (this.#signal !== undefined) await undefined
    if (this.#signal?.aborted === true) {
      throw new AbortError()
    }
  }
}
