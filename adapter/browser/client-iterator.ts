// The page's iterator over a database in a worker. Entries come in batches (one round trip for many):
// next() fetches a batch that grows from FIRST_BATCH to MAX_BATCH and serves it entry by entry, nextv(size)
// asks for what it was asked for, all() for everything. The server's iterator holds the snapshot and the
// position, so a batch fetched ahead reads what an entry-by-entry walk would; seek() drops what was fetched.
import { AbstractIterator } from 'abstract-level'
import { AbortError } from '../abort-error'
import type { ClientPort } from './client-port'
import { ownBytes, unpack, type Packed } from './protocol'

const FIRST_BATCH = 16
const MAX_BATCH = 1024

type Entry = [Uint8Array | undefined, Uint8Array | undefined]

export class ClientIterator<TDatabase> extends AbstractIterator<TDatabase, Uint8Array, Uint8Array> {
  readonly #port: ClientPort
  readonly #id: number
  readonly #signal: AbortSignal | undefined
  /** Entries fetched and not yet returned, from #next on. */
  #buffer: Entry[] = []
  #next = 0
  #batch = FIRST_BATCH

  /** `port` has already been told to create iterator `id` (the server reads as of that message). */
  constructor (db: TDatabase, options: { limit?: number, signal?: AbortSignal }, port: ClientPort, id: number) {
    super(db, options)
    this.#port = port
    this.#id = id
    this.#signal = options.signal ?? undefined
  }

  async _next (): Promise<Entry | undefined> {
    if (this.#next === this.#buffer.length) {
      const size = this.#batch
      this.#batch = Math.min(MAX_BATCH, this.#batch * 2)
      this.#fill(await this.#fetch(size))
    } else {
      await this.#pause()
    }
    return this.#next < this.#buffer.length ? this.#buffer[this.#next++] : undefined
  }

  async _nextv (size: number): Promise<Entry[]> {
    if (this.#next === this.#buffer.length) return this.#fetch(size)
    await this.#pause()
    const out = this.#buffer.slice(this.#next, this.#next + size)
    this.#next += out.length
    return out
  }

  async _all (): Promise<Entry[]> {
    const out = this.#buffer.slice(this.#next)
    this.#fill([])
    const rest = await this.#entries(this.#port.request({ op: 'all', iterator: this.#id }))
    for (const entry of rest) out.push(entry)
    return out
  }

  _seek (target: Uint8Array): void {
    this.#fill([])
    this.#batch = FIRST_BATCH
    this.#port.post({ op: 'seek', iterator: this.#id, target: ownBytes(target) })
  }

  async _close (): Promise<void> {
    this.#fill([])
    await this.#port.release({ op: 'iteratorClose', iterator: this.#id })
  }

  #fetch (size: number): Promise<Entry[]> {
    return this.#entries(this.#port.request({ op: 'nextv', iterator: this.#id, size }))
  }

  async #entries (response: Promise<unknown>): Promise<Entry[]> {
    const items = unpack(await response as Packed, true)
    await this.#pause()
    const out = new Array<Entry>(items.length / 2)
    for (let i = 0; i < out.length; i++) out[i] = [items[2 * i], items[2 * i + 1]]
    return out
  }

  #fill (entries: Entry[]): void {
    this.#buffer = entries
    this.#next = 0
  }

  /** Honours an abort issued since the call began (after an await, so that one issued right after counts). */
  async #pause (): Promise<void> {
    if (this.#signal === undefined) return
    await undefined
    if (this.#signal.aborted) throw new AbortError()
  }
}
