// The parts of abstract-level's private API (README "Private API For Implementors") that its type
// declarations leave out, typed once here for index.ts and the iterators.
// Keys, values and range bounds arrive encoded in one of the formats the manifest declares.

export type Format = 'utf8' | 'buffer' | 'view'
/** An encoded key or value: a string for 'utf8', a Buffer for 'buffer', a Uint8Array for 'view'. */
export type Encoded = string | Uint8Array

import type { AbstractSnapshot } from 'abstract-level'

/** What an explicit snapshot passed as `options.snapshot` carries for us: RoughLevel's own snapshot. */
export interface SnapshotLike extends AbstractSnapshot {
  readonly sequence: number
}

export interface ReadOptions {
  keyEncoding: Format
  valueEncoding: Format
  snapshot?: SnapshotLike
  fillCache?: boolean
}

export interface WriteOptions {
  sync?: boolean
}

export interface BatchOperation {
  type: 'put' | 'del'
  key: Encoded
  value?: Encoded
}

export interface RangeOptions {
  gt?: Encoded
  gte?: Encoded
  lt?: Encoded
  lte?: Encoded
  reverse: boolean
  limit: number
}

export interface IteratorOptions extends RangeOptions {
  keys: boolean
  values: boolean
  keyEncoding: Format
  valueEncoding: Format
  snapshot?: SnapshotLike
  signal?: AbortSignal
  highWaterMarkBytes?: number
  fillCache?: boolean
}

export interface ClearOptions extends RangeOptions {
  keyEncoding: Format
  snapshot?: SnapshotLike
}
