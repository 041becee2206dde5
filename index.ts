// RoughLevel: the abstract-level 3 database over rough-level's engine. It maps the Level contract
// (encodings, snapshots, iterators, batches, options under classic-level's names) onto engine.Db and
// holds no storage logic of its own.
import { AbstractLevel, AbstractSnapshot } from 'abstract-level'
import type { AbstractBatchOperation, AbstractChainedBatch, AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from 'abstract-level'
import ModuleError = require('module-error')
import type { CheckpointReport } from './engine/db/checkpoint'
import { Db } from './engine/db/db'
import { MAX_ATTEMPTS } from './engine/db/read-only'
import { systemErrorCode } from './engine/errors'
import { eventLoopBudget } from './engine/util/event-loop-budget'
import { destroyDb } from './engine/db/destroy'
import { repairDb, type RepairReport } from './engine/db/repair'
import type { DbOptionsInput } from './engine/options'
import type { Snapshot } from './engine/snapshot-list'
import type { WriteBatch } from './engine/db/write-batch'
import { copyOut, decode, toBytes } from './adapter/bytes'
import type {
  BatchOperation, ClearOptions, Encoded, IteratorOptions, ReadOptions, SnapshotLike, WriteOptions
} from './adapter/contract'
import { RangeCursor, rangeBounds } from './adapter/range-cursor'
import { RoughIterator } from './adapter/rough-iterator'
import { encodeStartEnd } from './adapter/start-end'
import type {
  BatchOptions, ChainedBatchWriteOptions, DatabaseOptions, DelOptions, GetManyOptions, GetOptions, HasManyOptions,
  HasOptions, IteratorOptions as PublicIteratorOptions, KeyIteratorOptions, OpenOptions, PutOptions,
  StartEndOptions, ValueIteratorOptions
} from './options'

export type * from './options'
export type { RepairReport } from './engine/db/repair'
export type { CheckpointReport } from './engine/db/checkpoint'

/** Reads the engine snapshot a Level snapshot stands for. */
class RoughSnapshot extends AbstractSnapshot implements SnapshotLike {
  readonly #snapshot: Snapshot

  constructor (snapshot: Snapshot, options: object) {
    // @ts-expect-error abstract-level's types declare no constructor; its contract passes options on.
    super(options)
    this.#snapshot = snapshot
  }

  get sequence (): number {
    return this.#snapshot.sequence
  }

  async _close (): Promise<void> {
    this.#snapshot.release()
  }
}

const kNotOpen = 'Database is not open'
const CLEAR_BATCH = 1000
/**
 * Operations a batch encodes in one go (about 1 us each); a larger batch is encoded this many at a time,
 * with turns of the event loop between, and committed as a part per slice (Db.writeInParts).
 */
const LARGE_BATCH = 1024

export class RoughLevel<KDefault = string, VDefault = string>
  extends AbstractLevel<Encoded, KDefault, VDefault> {
  readonly #location: string
  readonly #readOnly: boolean
  readonly #refreshInterval: number | undefined
  #db: Db | undefined
  /** Operations that span awaits (clear); close waits for them. */
  readonly #inFlight = new Set<Promise<unknown>>()

  constructor (location: string, options?: DatabaseOptions<KDefault, VDefault>) {
    if (typeof location !== 'string' || location === '') {
      throw new TypeError("The first argument 'location' must be a non-empty string")
    }
    // Read-only: the open creates nothing (createIfMissing and errorIfExists are ignored) and
    // compactRange is refused; the manifest has no field for writes, which fail with LEVEL_READONLY.
    // checkpoint and refresh stay out of additionalMethods: the manifest is classic-level's, field for field.
    const readOnly = options?.readOnly === true
    super({
      encodings: { buffer: true, utf8: true, view: true },
      has: true,
      createIfMissing: !readOnly,
      errorIfExists: !readOnly,
      explicitSnapshots: true,
      // @ts-expect-error level-supports' IManifest lacks getSync, which abstract-level 3.1 reads.
      getSync: true,
      additionalMethods: readOnly ? { approximateSize: true } : { approximateSize: true, compactRange: true },
      signals: { iterators: true }
    }, options)
    this.#location = location
    this.#readOnly = readOnly
    this.#refreshInterval = options?.refreshInterval
  }

  get location (): string {
    return this.#location
  }

  get #engine (): Db {
    if (this.#db === undefined) throw new ModuleError(kNotOpen, { code: 'LEVEL_DATABASE_NOT_OPEN' })
    return this.#db
  }

  async _open (options: OpenOptions & { createIfMissing: boolean, errorIfExists: boolean }): Promise<void> {
    if (options.multithreading === true) {
      throw new ModuleError('The multithreading option is not supported: a memtable cannot be shared between isolates', { code: 'LEVEL_NOT_SUPPORTED' })
    }
    const engineOptions: DbOptionsInput = {
      createIfMissing: options.createIfMissing,
      errorIfExists: options.errorIfExists,
      writeBufferSize: options.writeBufferSize,
      cacheSize: options.cacheSize,
      blockSize: options.blockSize,
      maxOpenFiles: options.maxOpenFiles,
      blockRestartInterval: options.blockRestartInterval,
      maxFileSize: options.maxFileSize,
      compression: options.compression,
      readOnly: this.#readOnly,
      refreshInterval: this.#refreshInterval,
      infoLog: options.infoLog,
      paranoidChecks: options.paranoidChecks
    }
    this.#db = await Db.open(this.#location, engineOptions)
  }

  async _close (): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
    const db = this.#db
    this.#db = undefined
    await db?.close()
  }

  async _get (key: Encoded, options: ReadOptions): Promise<Encoded | undefined> {
    const value = this._getSync(key, options)
    if (eventLoopBudget.tick()) await eventLoopBudget.turn()
    return value
  }

  _getSync (key: Encoded, options: ReadOptions): Encoded | undefined {
    const db = this.#engine
    if (!db.get(key, options.snapshot?.sequence ?? db.lastSequence, options.fillCache !== false)) return undefined
    return decode(options.valueEncoding, db.valueBuf, db.valueOff, db.valueLen)
  }

  async _getMany (keys: Encoded[], options: ReadOptions): Promise<Array<Encoded | undefined>> {
    const format = options.valueEncoding
    return this.#readMany(keys, options, (db, key, sequence, fillCache) =>
      db.get(key, sequence, fillCache) ? decode(format, db.valueBuf, db.valueOff, db.valueLen) : undefined)
  }

  async _has (key: Encoded, options: ReadOptions): Promise<boolean> {
    const db = this.#engine
    const found = db.get(key, options.snapshot?.sequence ?? db.lastSequence, options.fillCache !== false)
    if (eventLoopBudget.tick()) await eventLoopBudget.turn()
    return found
  }

  async _hasMany (keys: Encoded[], options: ReadOptions): Promise<boolean[]> {
    return this.#readMany(keys, options, (db, key, sequence, fillCache) => db.get(key, sequence, fillCache))
  }

  /**
   * Reads every key as of one sequence (the call's), giving the event loop a turn whenever its slice is
   * spent. Across a turn an engine snapshot keeps what the sequence sees, and close waits for the call.
   * A read-only database without the caller's snapshot holds one for the whole call, so that no get in it
   * catches up alone (engine/db/read-only.ts): when one meets a table the writer deleted, every key is read
   * again after a refresh, and all come from one state.
   */
  #readMany<T> (
    keys: Encoded[], options: ReadOptions, read: (db: Db, key: Encoded, sequence: number, fillCache: boolean) => T
  ): Promise<T[]> {
    const db = this.#engine
    const fillCache = options.fillCache !== false
    // options.snapshot is held by abstract-level for the call.
    if (options.snapshot !== undefined) return this.#readAt(keys, options.snapshot.sequence, true, fillCache, read)
    if (!db.options.readOnly) return this.#readAt(keys, db.lastSequence, false, fillCache, read)
    return this.#readManyAtOneState(db, keys, fillCache, read)
  }

  /** #readMany on a read-only database without the caller's snapshot. */
  async #readManyAtOneState<T> (
    db: Db, keys: Encoded[], fillCache: boolean, read: (db: Db, key: Encoded, sequence: number, fillCache: boolean) => T
  ): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      const snapshot = db.snapshot()
      try {
        return await this.#readAt(keys, snapshot.sequence, true, fillCache, read)
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || systemErrorCode(err) !== 'ENOENT') throw err
      } finally {
        snapshot.release()
      }
      await db.refresh()
    }
  }

  /** #readMany's reads at `sequence`, which a snapshot holds if `held`. */
  async #readAt<T> (
    keys: Encoded[], sequence: number, held: boolean, fillCache: boolean, read: (db: Db, key: Encoded, sequence: number, fillCache: boolean) => T
  ): Promise<T[]> {
    const db = this.#engine
    const out = new Array<T>(keys.length)
    let i = 0
    for (; i < keys.length; i++) {
      if (i > 0 && eventLoopBudget.tick()) break
      out[i] = read(db, keys[i], sequence, fillCache)
    }
    if (i < keys.length) {
      // An implicit snapshot needs holding across turns of the event loop.
      const pin = held ? undefined : db.snapshot()
      const rest = (async () => {
        try {
          for (; i < keys.length; i++) {
            if (eventLoopBudget.tick()) await eventLoopBudget.turn()
            out[i] = read(db, keys[i], sequence, fillCache)
          }
        } finally {
          pin?.release()
        }
      })()
      await this.#track(rest)
    }
    if (eventLoopBudget.spent()) await eventLoopBudget.turn()
    return out
  }

  /** Awaits work that spans turns of the event loop; close() waits for it first. */
  async #track (work: Promise<void>): Promise<void> {
    this.#inFlight.add(work)
    try {
      await work
    } finally {
      this.#inFlight.delete(work)
    }
  }

  _put (key: Encoded, value: Encoded, options: WriteOptions): Promise<void> {
    return this.#engine.put(key, value, options.sync === true)
  }

  _del (key: Encoded, options: WriteOptions): Promise<void> {
    return this.#engine.del(key, options.sync === true)
  }

  _batch (operations: BatchOperation[], options: WriteOptions): Promise<void> {
    if (operations.length > LARGE_BATCH) {
      // Encoded a part per slice of the event loop; close() waits for it.
      let i = 0
      return this.#track(this.#engine.writeInParts((batch) => {
        const end = Math.min(operations.length, i + LARGE_BATCH)
        for (; i < end; i++) encodeOperation(batch, operations[i])
        return i === operations.length
      }, options.sync === true))
    }
    return this.#engine.write((batch) => {
      for (const op of operations) encodeOperation(batch, op)
    }, options.sync === true)
  }

  _iterator (options: IteratorOptions): RoughIterator<this> {
    const db = this.#engine
    // As classic-level: iterators leave the block cache alone unless asked (fillCache defaults to false).
    const it = db.iterator(options.snapshot?.sequence ?? db.lastSequence, options.fillCache === true, rangeBounds(options))
    return new RoughIterator(this, options, it)
  }

  _snapshot (options: object): RoughSnapshot {
    return new RoughSnapshot(this.#engine.snapshot(), options)
  }

  async _clear (options: ClearOptions): Promise<void> {
    const db = this.#engine
    db.assertWritable()
    // The range is read as of the call (a snapshot), and deleted in batches.
    const cursor = new RangeCursor(db.iterator(options.snapshot?.sequence ?? db.lastSequence, false, rangeBounds(options)), options)
    const work = (async () => {
      try {
        let remaining = options.limit >= 0 ? options.limit : Infinity
        const it = cursor.it
        while (remaining > 0) {
          const keys: Uint8Array[] = []
          while (keys.length < CLEAR_BATCH && remaining > 0 && cursor.next()) {
            keys.push(copyOut(it.keyBuf, it.keyOff, it.keyLen))
            remaining--
          }
          if (keys.length === 0) break
          await db.write((batch) => { for (const k of keys) batch.del(k) })
          if (keys.length < CLEAR_BATCH) break
        }
      } finally {
        cursor.close()
      }
    })()
    await this.#track(work)
  }

  /** Approximate bytes on disk used by keys in [start, end): table data only, as LevelDB counts it. */
  async approximateSize (start: unknown, end: unknown, options?: StartEndOptions<unknown>): Promise<number> {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required")
    if (this.status === 'opening') return this.deferAsync(() => this.approximateSize(start, end, options))
    if (this.status !== 'open') {
      throw new ModuleError('Database is not open: cannot call approximateSize()', { code: 'LEVEL_DATABASE_NOT_OPEN' })
    }
    const [a, b] = this.#encodeRange(start, end, options)
    return this.#engine.approximateSize(a, b)
  }

  /**
   * Compacts the key range [start, end] (LevelDB's CompactRange): the memtable, then every level holding it.
   * Rejects with LEVEL_READONLY on a read-only database.
   */
  async compactRange (start: unknown, end: unknown, options?: StartEndOptions<unknown>): Promise<void> {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required")
    if (this.status === 'opening') return this.deferAsync(() => this.compactRange(start, end, options))
    if (this.status !== 'open') {
      throw new ModuleError('Database is not open: cannot call compactRange()', { code: 'LEVEL_DATABASE_NOT_OPEN' })
    }
    const [a, b] = this.#encodeRange(start, end, options)
    await this.#engine.compactRange(a, b)
  }

  /**
   * Writes a consistent copy of the database as of this call to `destination` (a directory that must not
   * exist or must be empty), while writes go on: tables hard-linked where the file system allows (copied
   * otherwise), what the memtables hold as a table, a fresh MANIFEST and CURRENT (last), all fsynced before
   * the promise resolves. It opens in rough-level and classic-level and does not change when the source
   * compacts or is destroyed. On a read-only database: a copy of its current view (refreshed first only if
   * the writer deletes a table of it during the copy). Resolves with how many tables were linked and copied.
   */
  async checkpoint (destination: string): Promise<CheckpointReport> {
    if (typeof destination !== 'string' || destination === '') {
      throw new TypeError("The first argument 'destination' must be a non-empty string")
    }
    if (this.status === 'opening') return this.deferAsync(() => this.checkpoint(destination))
    if (this.status !== 'open') {
      throw new ModuleError('Database is not open: cannot call checkpoint()', { code: 'LEVEL_DATABASE_NOT_OPEN' })
    }
    const work = this.#engine.checkpoint(destination)
    await this.#track(work.then(() => {}))
    return await work
  }

  /**
   * On a database opened with readOnly: catches up with the writer (another process, or classic-level):
   * new tables, MANIFEST edits and log records. Resolves true when anything new was seen. Reads and
   * iterators started afterwards see the new state; iterators and snapshots started before keep theirs.
   * Rejects with LEVEL_NOT_SUPPORTED on a writable database.
   */
  async refresh (): Promise<boolean> {
    if (this.status === 'opening') return this.deferAsync(() => this.refresh())
    if (this.status !== 'open') {
      throw new ModuleError('Database is not open: cannot call refresh()', { code: 'LEVEL_DATABASE_NOT_OPEN' })
    }
    return await this.#engine.refresh()
  }

  /**
   * A LevelDB property as a string ('' for an unknown one), as classic-level's getProperty:
   * leveldb.num-files-at-level<N>, leveldb.stats, leveldb.sstables, leveldb.approximate-memory-usage,
   * and rough-level's counters rough-level.data-block-reads, rough-level.block-cache-hits,
   * rough-level.filter-rejects, rough-level.open-retries and rough-level.refresh-retries (a read-only
   * open's and its refreshes' restarts) and
   * rough-level.recovery-skipped (what a paranoidChecks: false open skipped, as a JSON array of
   * { file, offset, bytes, reason }).
   */
  getProperty (property: string): string {
    if (typeof property !== 'string') throw new TypeError("The first argument 'property' must be a string")
    // Synchronous, so it cannot be deferred while opening.
    if (this.status !== 'open') throw new ModuleError(kNotOpen, { code: 'LEVEL_DATABASE_NOT_OPEN' })
    return this.#engine.getProperty(property) ?? ''
  }

  /**
   * Deletes the database at location: every file LevelDB would recognise, then the directory if nothing
   * else is in it (LevelDB's DestroyDB). A missing directory is fine; an open database is refused with
   * LEVEL_LOCKED.
   */
  static async destroy (location: string): Promise<void> {
    if (typeof location !== 'string' || location === '') {
      throw new TypeError("The first argument 'location' must be a non-empty string")
    }
    await destroyDb(location)
  }

  /**
   * Rebuilds a damaged database at location from what survives (LevelDB's RepairDB): logs become tables,
   * damaged tables are rewritten with their readable entries (originals kept in lost/), and a new
   * MANIFEST names every table. Resolves with what it kept and dropped.
   */
  static async repair (location: string): Promise<RepairReport> {
    if (typeof location !== 'string' || location === '') {
      throw new TypeError("The first argument 'location' must be a non-empty string")
    }
    return repairDb(location)
  }

  /** Encodes start and end with the key encoding in force, as the range methods take them. */
  #encodeRange (start: unknown, end: unknown, options?: StartEndOptions<unknown>): [Uint8Array, Uint8Array] {
    const [a, b] = encodeStartEnd(this, start, end, options)
    return [toBytes(a), toBytes(b)]
  }
}


/** classic-level's typed overloads: the same calls, with rough-level's (classic-level's) extra options. */
export interface RoughLevel<KDefault, VDefault> {
  open (): Promise<void>
  open (options: OpenOptions): Promise<void>
  get (key: KDefault): Promise<VDefault | undefined>
  get<K = KDefault, V = VDefault> (key: K, options: GetOptions<K, V>): Promise<V | undefined>
  getSync (key: KDefault): VDefault | undefined
  getSync<K = KDefault, V = VDefault> (key: K, options: GetOptions<K, V>): V | undefined
  getMany (keys: KDefault[]): Promise<Array<VDefault | undefined>>
  getMany<K = KDefault, V = VDefault> (keys: K[], options: GetManyOptions<K, V>): Promise<Array<V | undefined>>
  has (key: KDefault): Promise<boolean>
  has<K = KDefault> (key: K, options: HasOptions<K>): Promise<boolean>
  hasMany (keys: KDefault[]): Promise<boolean[]>
  hasMany<K = KDefault> (keys: K[], options: HasManyOptions<K>): Promise<boolean[]>
  put (key: KDefault, value: VDefault): Promise<void>
  put<K = KDefault, V = VDefault> (key: K, value: V, options: PutOptions<K, V>): Promise<void>
  del (key: KDefault): Promise<void>
  del<K = KDefault> (key: K, options: DelOptions<K>): Promise<void>
  batch (operations: Array<AbstractBatchOperation<this, KDefault, VDefault>>): Promise<void>
  batch<K = KDefault, V = VDefault> (operations: Array<AbstractBatchOperation<this, K, V>>, options: BatchOptions<K, V>): Promise<void>
  batch (): RoughChainedBatch<this, KDefault, VDefault>
  iterator (): AbstractIterator<this, KDefault, VDefault>
  iterator<K = KDefault, V = VDefault> (options: PublicIteratorOptions<K, V>): AbstractIterator<this, K, V>
  keys (): AbstractKeyIterator<this, KDefault>
  keys<K = KDefault> (options: KeyIteratorOptions<K>): AbstractKeyIterator<this, K>
  values (): AbstractValueIterator<this, KDefault, VDefault>
  values<K = KDefault, V = VDefault> (options: ValueIteratorOptions<K, V>): AbstractValueIterator<this, K, V>
  approximateSize (start: KDefault, end: KDefault): Promise<number>
  approximateSize<K = KDefault> (start: K, end: K, options: StartEndOptions<K>): Promise<number>
  compactRange (start: KDefault, end: KDefault): Promise<void>
  compactRange<K = KDefault> (start: K, end: K, options: StartEndOptions<K>): Promise<void>
}

/** A chained batch whose write() takes { sync }. */
export interface RoughChainedBatch<TDatabase, KDefault, VDefault> extends AbstractChainedBatch<TDatabase, KDefault, VDefault> {
  write (): Promise<void>
  write (options: ChainedBatchWriteOptions): Promise<void>
}

function encodeOperation (batch: WriteBatch, op: BatchOperation): void {
  if (op.type === 'put') batch.put(op.key, op.value as Encoded)
  else batch.del(op.key)
}
