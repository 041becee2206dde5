// The messages between RoughLevelClient (on the page) and serveRoughLevel (in the worker beside the
// database), over one MessagePort. Keys and values cross as bytes: the client's abstract-level encodes them
// (encodings, sublevel prefixes) before they leave, so the server sees only Uint8Arrays.
//
// Requests that carry an id are answered by one Response with that id. Creating a snapshot or an iterator
// and seeking are posted without one, because abstract-level makes them synchronous: the server acts on
// them as they arrive, in the order the client posted them (a port keeps order), and keeps a failure for the
// next request that uses the snapshot or iterator. Many byte strings (a batch, getMany, an iterator's entries)
// travel packed in one ArrayBuffer, which the server transfers rather than copies.
import ModuleError = require('module-error')

/** What both ends use of a MessagePort: the browser's, or Node's worker_threads one (tests). */
export interface PortLike {
  postMessage (message: unknown, transfer?: ArrayBuffer[]): void
  addEventListener (type: 'message', listener: (event: { data: unknown }) => void): void
  /** Node's MessagePort emits it when either end closes; a browser's may not (client-port.ts). */
  addEventListener (type: 'close', listener: () => void): void
  removeEventListener (type: 'message', listener: (event: { data: unknown }) => void): void
  /** Starts delivery (a browser port's listeners receive nothing until it is called). */
  start? (): void
}

/** Byte strings packed end to end; a length of -1 stands for an absent one (a missing value, keys: false). */
export interface Packed {
  bytes: ArrayBuffer
  lengths: number[]
}

/** Read options as they cross: the id of an explicit snapshot (0: none, read the latest). */
export interface ReadRequest {
  snapshot: number
  fillCache?: boolean
}

export interface RangeRequest {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  reverse: boolean
  limit: number
}

export interface IteratorRequest extends RangeRequest {
  keys: boolean
  values: boolean
  fillCache?: boolean
  highWaterMarkBytes?: number
  snapshot: number
}

/** Open options that can be cloned: createIfMissing, errorIfExists and the database's storage options. */
export type OpenRequest = Record<string, string | number | boolean>

export type Request =
  | { op: 'open', id: number, options: OpenRequest }
  | { op: 'close', id: number }
  | { op: 'get', id: number, key: Uint8Array, options: ReadRequest }
  | { op: 'getMany', id: number, keys: Packed, options: ReadRequest }
  | { op: 'has', id: number, key: Uint8Array, options: ReadRequest }
  | { op: 'hasMany', id: number, keys: Packed, options: ReadRequest }
  | { op: 'put', id: number, key: Uint8Array, value: Uint8Array, sync: boolean }
  | { op: 'del', id: number, key: Uint8Array, sync: boolean }
  /** types[i] is true for a put; operands packs key, value (-1 for a del) for each operation in turn. */
  | { op: 'batch', id: number, types: boolean[], operands: Packed, sync: boolean }
  | { op: 'clear', id: number, options: RangeRequest & { snapshot: number } }
  | { op: 'snapshot', snapshot: number }
  | { op: 'snapshotClose', id: number, snapshot: number }
  | { op: 'iterator', iterator: number, options: IteratorRequest }
  /** Entries packed key, value, key, value... */
  | { op: 'nextv', id: number, iterator: number, size: number }
  | { op: 'all', id: number, iterator: number }
  | { op: 'seek', iterator: number, target: Uint8Array }
  | { op: 'iteratorClose', id: number, iterator: number }
  /** Keys encoded on the page, as the iterator's range. */
  | { op: 'approximateSize', id: number, start: Uint8Array, end: Uint8Array }
  | { op: 'compactRange', id: number, start: Uint8Array, end: Uint8Array }
  | { op: 'getProperty', id: number, property: string }

/** An error as it crosses: abstract-level's errors keep their `code`. */
export interface ErrorData {
  name: string
  message: string
  code?: string
  cause?: ErrorData
}

/** The server's first message where Web Locks exist: the lock it holds until it ends (client-port.ts). */
export interface ServerLife {
  lock: string
}

export type Response =
  | { id: number, result: unknown }
  | { id: number, error: ErrorData }

/** Packs byte strings into one buffer (each copied once), to transfer instead of cloning one by one. */
export function pack (items: ReadonlyArray<Uint8Array | undefined>): Packed {
  let total = 0
  for (const item of items) if (item !== undefined) total += item.byteLength
  const bytes = new Uint8Array(total)
  const lengths = new Array<number>(items.length)
  let at = 0
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    if (item === undefined) {
      lengths[i] = -1
    } else {
      bytes.set(item, at)
      at += item.byteLength
      lengths[i] = item.byteLength
    }
  }
  return { bytes: bytes.buffer, lengths }
}

/**
 * The byte strings of a Packed. `copy` gives each its own buffer (what the page's caller keeps must not hold
 * a whole batch alive, nor see its neighbours through .buffer); without it they are views of one buffer.
 */
export function unpack (packed: Packed, copy: boolean): Array<Uint8Array | undefined> {
  const out = new Array<Uint8Array | undefined>(packed.lengths.length)
  let at = 0
  for (let i = 0; i < out.length; i++) {
    const length = packed.lengths[i]
    if (length < 0) {
      // Not a hole: getMany's caller compares with [undefined, ...].
      out[i] = undefined
      continue
    }
    out[i] = copy ? new Uint8Array(packed.bytes.slice(at, at + length)) : new Uint8Array(packed.bytes, at, length)
    at += length
  }
  return out
}

/**
 * A Uint8Array to post without transferring (it is the caller's): structured cloning copies a view's whole
 * underlying buffer, so a view of part of one (a Buffer from a pool) is first copied to its own.
 */
export function ownBytes (view: Uint8Array): Uint8Array {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : new Uint8Array(view)
}

/** Errors nest no deeper than this across the port (abstract-level nests one or two). */
const MAX_CAUSES = 4

/**
 * The error to hand the caller: a TypeError stays one; the rest are ModuleErrors with the same code, name
 * and causes.
 */
export function toError (data: ErrorData): Error {
  if (data.name === 'TypeError') return new TypeError(data.message)
  const err = new ModuleError(data.message, {
    ...(data.code === undefined ? {} : { code: data.code }),
    ...(data.cause === undefined ? {} : { cause: toError(data.cause) })
  })
  if (data.name !== 'Error' && data.name !== err.name) Object.defineProperty(err, 'name', { value: data.name })
  return err
}

export function errorData (err: unknown, depth = 0): ErrorData {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) }
  const { code, cause } = err as { code?: unknown, cause?: unknown }
  const data: ErrorData = { name: err.name, message: err.message }
  if (typeof code === 'string') data.code = code
  if (cause !== undefined && depth < MAX_CAUSES) data.cause = errorData(cause, depth + 1)
  return data
}
