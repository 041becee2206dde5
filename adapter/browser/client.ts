// RoughLevelClient: an abstract-level 3 database on the page (the main thread, where OPFS has no synchronous
// files) whose every operation runs on a RoughLevel in a worker, over a MessagePort served there by
// serveRoughLevel. abstract-level does encodings, sublevels, hooks, events and deferred open here, on the
// page; only bytes cross. Without Node's Buffer: the page needs no globals.
import { AbstractLevel, AbstractSnapshot } from 'abstract-level'
import type { AbstractDatabaseOptions } from 'abstract-level'
import type { BatchOperation, ClearOptions, Encoded, IteratorOptions, RangeOptions, ReadOptions, WriteOptions } from '../contract'
import ModuleError = require('module-error')
import type { StartEndOptions } from '../../options'
import { encodeStartEnd } from '../start-end'
import { ClientIterator } from './client-iterator'
import { ClientPort } from './client-port'
import { ownBytes, pack, unpack, type OpenRequest, type Packed, type PortLike, type RangeRequest, type ReadRequest } from './protocol'

/** An explicit snapshot: the server holds the real one under this id. */
class ClientSnapshot extends AbstractSnapshot {
  constructor (readonly id: number, readonly port: ClientPort, options: object) {
    // @ts-expect-error abstract-level's types declare no constructor; its contract passes options on.
    super(options)
  }

  async _close (): Promise<void> {
    await this.port.release({ op: 'snapshotClose', snapshot: this.id })
  }
}

/** The private API's options, with our snapshots in place of the engine's. */
type WithSnapshot<T> = Omit<T, 'snapshot'> & { snapshot?: AbstractSnapshot }

export class RoughLevelClient<KDefault = string, VDefault = string> extends AbstractLevel<Uint8Array, KDefault, VDefault> {
  readonly #port: ClientPort
  /** Ids of snapshots and iterators, which the client names (their creation cannot wait for an answer). */
  #nextResource = 1

  /**
   * `port` is one end of a MessageChannel whose other end the worker passed to serveRoughLevel. Options are
   * abstract-level's (keyEncoding, valueEncoding) and the open options, which go to the worker's database.
   */
  constructor (port: PortLike, options?: AbstractDatabaseOptions<KDefault, VDefault>) {
    // The worker's RoughLevel has the same manifest but for getSync: a read here cannot be synchronous.
    // Everything crosses as bytes ('view'); abstract-level transcodes strings and Buffers on this side.
    super({
      encodings: { view: true },
      has: true,
      createIfMissing: true,
      errorIfExists: true,
      explicitSnapshots: true,
      // @ts-expect-error level-supports' IManifest lacks getSync, which abstract-level 3.1 reads.
      getSync: false,
      signals: { iterators: true },
      additionalMethods: { approximateSize: true, compactRange: true, getProperty: true }
    }, options)
    this.#port = new ClientPort(port)
  }

  async _open (options: Record<string, unknown>): Promise<void> {
    // Only what can be cloned goes to the worker (createIfMissing, errorIfExists, writeBufferSize...).
    const cloneable: OpenRequest = {}
    for (const [name, value] of Object.entries(options)) {
      if (name !== 'passive' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) cloneable[name] = value
    }
    await this.#port.request({ op: 'open', options: cloneable })
  }

  async _close (): Promise<void> {
    await this.#port.release({ op: 'close' })
  }

  async _get (key: Encoded, options: WithSnapshot<ReadOptions>): Promise<Uint8Array | undefined> {
    return await this.#port.request({ op: 'get', key: bytes(key), options: readRequest(options) }) as Uint8Array | undefined
  }

  async _getMany (keys: Encoded[], options: WithSnapshot<ReadOptions>): Promise<Array<Uint8Array | undefined>> {
    const packed = pack(keys.map(bytes))
    return unpack(await this.#port.request({ op: 'getMany', keys: packed, options: readRequest(options) }, [packed.bytes]) as Packed, true)
  }

  async _has (key: Encoded, options: WithSnapshot<ReadOptions>): Promise<boolean> {
    return await this.#port.request({ op: 'has', key: bytes(key), options: readRequest(options) }) as boolean
  }

  async _hasMany (keys: Encoded[], options: WithSnapshot<ReadOptions>): Promise<boolean[]> {
    const packed = pack(keys.map(bytes))
    return await this.#port.request({ op: 'hasMany', keys: packed, options: readRequest(options) }, [packed.bytes]) as boolean[]
  }

  async _put (key: Encoded, value: Encoded, options: WriteOptions): Promise<void> {
    await this.#port.request({ op: 'put', key: bytes(key), value: bytes(value), sync: options.sync === true })
  }

  async _del (key: Encoded, options: WriteOptions): Promise<void> {
    await this.#port.request({ op: 'del', key: bytes(key), sync: options.sync === true })
  }

  async _batch (operations: BatchOperation[], options: WriteOptions): Promise<void> {
    const types = new Array<boolean>(operations.length)
    const operands = new Array<Uint8Array | undefined>(2 * operations.length)
    for (let i = 0; i < operations.length; i++) {
      const op = operations[i]
      types[i] = op.type === 'put'
      operands[2 * i] = bytes(op.key)
      operands[2 * i + 1] = op.type === 'put' ? bytes(op.value as Encoded) : undefined
    }
    const packed = pack(operands)
    await this.#port.request({ op: 'batch', types, operands: packed, sync: options.sync === true }, [packed.bytes])
  }

  async _clear (options: WithSnapshot<ClearOptions>): Promise<void> {
    await this.#port.request({ op: 'clear', options: { ...rangeRequest(options), snapshot: snapshotId(options.snapshot) } })
  }

  _iterator (options: WithSnapshot<IteratorOptions>): ClientIterator<this> {
    const id = this.#nextResource++
    this.#port.post({
      op: 'iterator',
      iterator: id,
      options: {
        ...rangeRequest(options),
        keys: options.keys,
        values: options.values,
        snapshot: snapshotId(options.snapshot),
        ...(options.fillCache === undefined ? {} : { fillCache: options.fillCache }),
        ...(typeof options.highWaterMarkBytes === 'number' ? { highWaterMarkBytes: options.highWaterMarkBytes } : {})
      }
    })
    return new ClientIterator(this, options, this.#port, id)
  }

  /** The worker database's approximateSize (table bytes for keys in [start, end)). */
  approximateSize (start: KDefault, end: KDefault): Promise<number>
  approximateSize<K = KDefault> (start: K, end: K, options: StartEndOptions<K>): Promise<number>
  approximateSize (...args: unknown[]): Promise<number> {
    return this.#whenOpen('approximateSize', async () => {
      const [start, end] = this.#startEnd(args)
      return await this.#port.request({ op: 'approximateSize', start, end }) as number
    })
  }

  /** The worker database's compactRange (LevelDB's manual compaction of [start, end]). */
  compactRange (start: KDefault, end: KDefault): Promise<void>
  compactRange<K = KDefault> (start: K, end: K, options: StartEndOptions<K>): Promise<void>
  compactRange (...args: unknown[]): Promise<void> {
    return this.#whenOpen('compactRange', async () => {
      const [start, end] = this.#startEnd(args)
      await this.#port.request({ op: 'compactRange', start, end })
    })
  }

  /**
   * The worker database's getProperty (a LevelDB property, '' for an unknown one). A promise: unlike
   * RoughLevel's, the answer comes from another thread.
   */
  getProperty (property: string): Promise<string> {
    return this.#whenOpen('getProperty', async () => {
      if (typeof property !== 'string') throw new TypeError("The first argument 'property' must be a string")
      return await this.#port.request({ op: 'getProperty', property }) as string
    })
  }

  /** Runs fn once the database is open (deferred while it opens), as RoughLevel's own methods do. */
  #whenOpen<T> (method: string, fn: () => Promise<T>): Promise<T> {
    if (this.status === 'opening') return this.deferAsync(() => this.#whenOpen(method, fn))
    if (this.status !== 'open') {
      return Promise.reject(new ModuleError(`Database is not open: cannot call ${method}()`, { code: 'LEVEL_DATABASE_NOT_OPEN' }))
    }
    return fn()
  }

  /** approximateSize's and compactRange's (start, end, options?) as bytes. */
  #startEnd (args: unknown[]): [Uint8Array, Uint8Array] {
    if (args.length < 2) throw new TypeError("The arguments 'start' and 'end' are required")
    const [start, end] = encodeStartEnd(this, args[0], args[1], args[2] as StartEndOptions<unknown> | undefined)
    return [bytes(start), bytes(end)]
  }

  _snapshot (options: object): ClientSnapshot {
    const id = this.#nextResource++
    this.#port.post({ op: 'snapshot', snapshot: id })
    return new ClientSnapshot(id, this.#port, options)
  }
}

/** Keys and values as bytes to post (the manifest declares only 'view', so strings do not come). */
function bytes (data: Encoded): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : ownBytes(data)
}

function snapshotId (snapshot: AbstractSnapshot | undefined): number {
  return snapshot instanceof ClientSnapshot ? snapshot.id : 0
}

function readRequest (options: WithSnapshot<ReadOptions>): ReadRequest {
  const request: ReadRequest = { snapshot: snapshotId(options.snapshot) }
  if (options.fillCache !== undefined) request.fillCache = options.fillCache
  return request
}

function rangeRequest (options: RangeOptions): RangeRequest {
  const request: RangeRequest = { reverse: options.reverse, limit: options.limit }
  if (options.gt !== undefined) request.gt = bytes(options.gt)
  if (options.gte !== undefined) request.gte = bytes(options.gte)
  if (options.lt !== undefined) request.lt = bytes(options.lt)
  if (options.lte !== undefined) request.lte = bytes(options.lte)
  return request
}
