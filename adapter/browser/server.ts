// serveRoughLevel: the worker's end of a RoughLevelClient. The client opens and closes a RoughLevel at a
// location here (created at the first open, with the client's open options over the worker's), and each
// request runs on it through its public API with bytes in and out ('view'); answers go back on the port.
// Snapshots and iterators the client creates live here under the client's ids until the client closes them.
// One port serves one client, and owns its database.
import type { AbstractIterator, AbstractSnapshot } from 'abstract-level'
import { RoughLevel } from '../../index'
import type { DatabaseOptions, GetOptions, IteratorOptions } from '../../options'
import { browserNavigator } from '../../engine/browser/web-apis'
import { errorData, ownBytes, pack, unpack, type Packed, type PortLike, type RangeRequest, type ReadRequest, type Request, type ServerLife } from './protocol'

type BytesIterator = AbstractIterator<RoughLevel, Uint8Array, Uint8Array>

export interface RoughLevelServer {
  /** Stops answering the port, and closes the snapshots and iterators its client left open (not the database). */
  close (): Promise<void>
}

const BYTES = { keyEncoding: 'view', valueEncoding: 'view' } as const

/**
 * Serves the database at `location` to the RoughLevelClient at the other end of `port`. `options` are the
 * worker's RoughLevel options; the client's open options (createIfMissing, errorIfExists...) take precedence.
 */
export function serveRoughLevel (port: PortLike, location: string, options?: DatabaseOptions<string, string>): RoughLevelServer {
  let served: RoughLevel | undefined
  const life = holdLife(port)
  /** A snapshot or iterator whose creation failed holds its error, for the next request that uses it. */
  const snapshots = new Map<number, AbstractSnapshot | Error>()
  const iterators = new Map<number, BytesIterator | Error>()

  const database = (): RoughLevel => {
    // The client opens first: only a message out of order gets here.
    if (served === undefined) throw new Error('The database was never opened')
    return served
  }
  const snapshot = (id: number): AbstractSnapshot | undefined => {
    if (id === 0) return undefined
    const found = snapshots.get(id)
    if (found instanceof Error) throw found
    return found
  }
  const iterator = (id: number): BytesIterator => {
    const found = iterators.get(id)
    if (found instanceof Error) throw found
    if (found === undefined) throw new Error(`No iterator ${id}`)
    return found
  }
  const read = (options: ReadRequest): GetOptions<Uint8Array, Uint8Array> =>
    ({ ...BYTES, snapshot: snapshot(options.snapshot), fillCache: options.fillCache })
  const range = (options: RangeRequest): RangeRequest => {
    const out: RangeRequest = { reverse: options.reverse, limit: options.limit }
    if (options.gt !== undefined) out.gt = options.gt
    if (options.gte !== undefined) out.gte = options.gte
    if (options.lt !== undefined) out.lt = options.lt
    if (options.lte !== undefined) out.lte = options.lte
    return out
  }
  const keys = (packed: Packed): Uint8Array[] => unpack(packed, false) as Uint8Array[]
  const entries = (items: Array<[Uint8Array | undefined, Uint8Array | undefined]>): Packed =>
    pack(items.flatMap((entry) => [entry[0], entry[1]]))

  /** The result of a request, and the buffers to transfer with it. */
  const run = async (request: Request): Promise<[unknown, ArrayBuffer[]?]> => {
    switch (request.op) {
      case 'open': {
        // The client learns the lock's name before any open succeeds, so a worker that dies later is noticed.
        await life.held
        served ??= new RoughLevel(location, { ...options, ...request.options })
        // The client's abstract-level wraps the failure in its own 'Database failed to open'.
        await served.open(request.options).catch(unwrap('LEVEL_DATABASE_NOT_OPEN'))
        return [undefined]
      }
      case 'close':
        await served?.close().catch(unwrap('LEVEL_DATABASE_NOT_CLOSED'))
        snapshots.clear()
        iterators.clear()
        return [undefined]
      case 'get': {
        const value = await database().get<Uint8Array, Uint8Array>(request.key, read(request.options))
        return [value === undefined ? undefined : ownBytes(value)]
      }
      case 'getMany': {
        const values = pack(await database().getMany<Uint8Array, Uint8Array>(keys(request.keys), read(request.options)))
        return [values, [values.bytes]]
      }
      case 'has':
        return [await database().has<Uint8Array>(request.key, read(request.options))]
      case 'hasMany':
        return [await database().hasMany<Uint8Array>(keys(request.keys), read(request.options))]
      case 'put':
        await database().put<Uint8Array, Uint8Array>(request.key, request.value, { ...BYTES, sync: request.sync })
        return [undefined]
      case 'del':
        await database().del<Uint8Array>(request.key, { keyEncoding: 'view', sync: request.sync })
        return [undefined]
      case 'batch': {
        const operands = unpack(request.operands, false)
        const operations = request.types.map((put, i) => put
          ? { type: 'put' as const, key: operands[2 * i] as Uint8Array, value: operands[2 * i + 1] as Uint8Array }
          : { type: 'del' as const, key: operands[2 * i] as Uint8Array })
        await database().batch<Uint8Array, Uint8Array>(operations, { ...BYTES, sync: request.sync })
        return [undefined]
      }
      case 'clear':
        await database().clear<Uint8Array>({ ...range(request.options), keyEncoding: 'view', snapshot: snapshot(request.options.snapshot) })
        return [undefined]
      case 'snapshotClose': {
        const found = snapshots.get(request.snapshot)
        snapshots.delete(request.snapshot)
        if (found !== undefined && !(found instanceof Error)) await found.close()
        return [undefined]
      }
      case 'nextv': {
        const packed = entries(await iterator(request.iterator).nextv(request.size))
        return [packed, [packed.bytes]]
      }
      case 'all': {
        const packed = entries(await iterator(request.iterator).all())
        return [packed, [packed.bytes]]
      }
      case 'iteratorClose': {
        const found = iterators.get(request.iterator)
        iterators.delete(request.iterator)
        if (found !== undefined && !(found instanceof Error)) await found.close()
        return [undefined]
      }
      case 'approximateSize':
        return [await database().approximateSize<Uint8Array>(request.start, request.end, { keyEncoding: 'view' })]
      case 'compactRange':
        await database().compactRange<Uint8Array>(request.start, request.end, { keyEncoding: 'view' })
        return [undefined]
      case 'getProperty':
        return [database().getProperty(request.property)]
      default:
        throw new Error(`Not a request: ${(request as { op: string }).op}`)
    }
  }

  /** Creating snapshots and iterators and seeking happen as the message arrives: their order is the client's. */
  const runNow = (request: Request): boolean => {
    switch (request.op) {
      case 'snapshot':
        try {
          snapshots.set(request.snapshot, database().snapshot())
        } catch (err) {
          snapshots.set(request.snapshot, err as Error)
        }
        return true
      case 'iterator': {
        const { options } = request
        try {
          const it = database().iterator<Uint8Array, Uint8Array>({
            ...range(options),
            ...BYTES,
            keys: options.keys,
            values: options.values,
            snapshot: snapshot(options.snapshot),
            fillCache: options.fillCache,
            highWaterMarkBytes: options.highWaterMarkBytes
          } satisfies IteratorOptions<Uint8Array, Uint8Array>)
          iterators.set(request.iterator, it)
        } catch (err) {
          iterators.set(request.iterator, err as Error)
        }
        return true
      }
      case 'seek':
        try {
          iterator(request.iterator).seek(request.target, { keyEncoding: 'view' })
        } catch (err) {
          iterators.set(request.iterator, err as Error)
        }
        return true
      default:
        return false
    }
  }

  const listener = (event: { data: unknown }): void => {
    const request = event.data as Request
    if (runNow(request)) return
    const id = (request as { id: number }).id
    run(request).then(([result, transfer]) => port.postMessage({ id, result }, transfer),
      (err: unknown) => port.postMessage({ id, error: errorData(err) }))
  }
  port.addEventListener('message', listener)
  port.start?.()

  return {
    close: async () => {
      port.removeEventListener('message', listener)
      life.end()
      const open = [...snapshots.values(), ...iterators.values()].filter((r): r is AbstractSnapshot | BytesIterator => !(r instanceof Error))
      snapshots.clear()
      iterators.clear()
      await Promise.allSettled(open.map((r) => r.close()))
    }
  }
}

/** The server's Web Lock: `held` once the client has been told its name; end() frees it. */
interface Life {
  held: Promise<void>
  end (): void
}

/**
 * Holds a Web Lock of a fresh name until end(), or until this worker ends (the browser then frees it), and
 * tells the client its name once held: the client is granted the same lock only when this server is gone
 * (client-port.ts). Nothing where there are no Web Locks.
 */
function holdLife (port: PortLike): Life {
  const life: Life = { held: Promise.resolve(), end: () => {} }
  const locks = browserNavigator()?.locks
  if (locks === undefined) return life
  const name = `rough-level-server:${crypto.randomUUID()}`
  const ended = new Promise<void>((resolve) => { life.end = resolve })
  life.held = new Promise<void>((resolve, reject) => {
    locks.request(name, { ifAvailable: false }, async () => {
      port.postMessage({ lock: name } satisfies ServerLife)
      resolve()
      await ended
    }).catch(reject)
  })
  // Not left unhandled until the first open awaits it (and reports it to the client).
  life.held.catch(() => {})
  return life
}

/** Rethrows what a database's own 'failed to open' (or close) error wraps. */
function unwrap (code: string): (err: unknown) => never {
  return (err: unknown) => {
    const { code: found, cause } = err as { code?: unknown, cause?: unknown }
    throw found === code && cause !== undefined ? cause : err
  }
}
