// The small set (issue 2): n entries (default 30,000) of 16-byte keys and 100-byte values, few enough to stay in a
// 4 MiB memtable, so that it measures the write-ahead log, the memtable and the abstract-level adapter. Workload
// names and order: SMALL_WORKLOADS in protocol.ts; what each one times: bench/README.md.

import type { AbstractDatabaseOptions, AbstractPutOptions } from 'abstract-level'
import { distinct, makeKeys, mulberry32, permutation, sample, streamSeed, ValuePool, type Random } from './data'
import { BUFFER, type BufferDb, type Db, fill, type PutOp, UTF8, type Utf8Db } from './engines'
import { chunk, type Outcome, type SetContext, window, type WorkloadSet } from './measure'
import type { SmallWorkload } from './protocol'
import { getManys, gets, getSyncs, hases, type KeySample, scan } from './reads'

/** Sync puts: LevelDB's (and classic-level's) `sync` option, which abstract-level's own types do not declare. */
const SYNC: AbstractPutOptions<string, string> & { sync: boolean } = { sync: true }

/**
 * The small set: 16-byte keys, 100-byte values, n entries (default 30,000, inside a 4 MiB memtable). Writes
 * write all n entries (a sync workload the first syncN of them) into a new database each; reads make `reads`
 * (default 100,000) uniformly random lookups of existing keys in a database filled with the n entries.
 */
export function smallSet ({ engine, opts, dirs, meter }: SetContext): WorkloadSet<SmallWorkload> {
  const n = opts.n
  const rand = (name: string): Random => mulberry32(streamSeed(opts.seed, name))
  const keys = makeKeys(n)
  const pool = new ValuePool(rand('values'))
  const order = permutation(n, rand('write-order'))
  const readOrder = sample(n, opts.reads, rand('reads'))
  // Entries in write order (random), both encodings; reads pick existing keys uniformly with replacement.
  const wKeys = Array.from(order, (i) => keys[i])
  const wValues = Array.from(order, (i) => pool.value(i))
  const wKeysBuf = wKeys.map((k) => Buffer.from(k))
  const wValuesBuf = wValues.map((v) => Buffer.from(v))
  const reads: KeySample<string> = { keys: Array.from(readOrder, (i) => keys[i]), distinct: distinct(readOrder) }
  const readsBuf: KeySample<Buffer> = { keys: reads.keys.map((k) => Buffer.from(k)), distinct: reads.distinct }
  const putOps = (): Array<PutOp<string, string>> => wKeys.map((key, i) => ({ type: 'put', key, value: wValues[i] }))
  const putOpsBuf = (): Array<PutOp<Buffer, Buffer>> => wKeysBuf.map((key, i) => ({ type: 'put', key, value: wValuesBuf[i] }))
  const syncN = Math.min(opts.syncN, n)
  // Iterating 30,000 entries takes tens of milliseconds: repeat so that each figure covers ~300,000 entries.
  const passes = Math.max(1, Math.round(300_000 / n))

  /** A new empty database for one write workload, closed and removed after it. */
  async function fresh<K, V> (label: string, options: AbstractDatabaseOptions<K, V>, body: (db: Db<K, V>) => Promise<Outcome>): Promise<Outcome> {
    const dir = dirs.next(label)
    const db = engine.create(dir, options)
    await db.open()
    try {
      return await body(db)
    } finally {
      await db.close()
      dirs.remove(dir)
    }
  }

  // The read databases: filled once with all n entries (batches of 1000, untimed) when the first read needs them.
  let reader: { dir: string, utf8?: Utf8Db, buffer?: BufferDb } | undefined
  async function closeReader (): Promise<void> {
    if (reader === undefined) return
    await reader.utf8?.close()
    await reader.buffer?.close()
    dirs.remove(reader.dir)
    reader = undefined
  }
  async function utf8Reader (): Promise<Utf8Db> {
    if (reader?.utf8 !== undefined) return reader.utf8
    await closeReader()
    const dir = dirs.next('read-utf8')
    const db = engine.create(dir, UTF8)
    reader = { dir, utf8: db }
    await db.open()
    await fill(db, putOps())
    return db
  }
  async function bufferReader (): Promise<BufferDb> {
    if (reader?.buffer !== undefined) return reader.buffer
    await closeReader()
    const dir = dirs.next('read-buffer')
    const db = engine.create(dir, BUFFER)
    reader = { dir, buffer: db }
    await db.open()
    await fill(db, putOpsBuf())
    return db
  }

  const workloads: WorkloadSet<SmallWorkload>['workloads'] = [
    {
      name: 'put',
      run: () => fresh('put', UTF8, async (db) => {
        const timing = await meter.timed(async () => {
          for (let i = 0; i < n; i++) await db.put(wKeys[i], wValues[i])
        })
        return { kind: 'ok', ops: n, timing }
      })
    },
    {
      name: 'put-buffer',
      run: () => fresh('put-buffer', BUFFER, async (db) => {
        const timing = await meter.timed(async () => {
          for (let i = 0; i < n; i++) await db.put(wKeysBuf[i], wValuesBuf[i])
        })
        return { kind: 'ok', ops: n, timing }
      })
    },
    {
      name: 'put-inflight-1000',
      run: () => fresh('put-inflight', UTF8, async (db) => {
        const timing = await meter.timed(() => window(n, 1000, (i) => db.put(wKeys[i], wValues[i])))
        return { kind: 'ok', ops: n, timing }
      })
    },
    {
      name: 'batch-1000',
      run: () => fresh('batch', UTF8, async (db) => {
        const batches = chunk(putOps(), 1000)
        const timing = await meter.timed(async () => {
          for (let b = 0; b < batches.length; b++) await db.batch(batches[b])
        })
        return { kind: 'ok', ops: n, timing }
      })
    },
    {
      name: 'put-sync',
      run: () => fresh('put-sync', UTF8, async (db) => {
        if (!db.supports.permanence) return { kind: 'n/a', reason: 'no permanence: sync is a no-op' }
        const timing = await meter.timed(async () => {
          for (let i = 0; i < syncN; i++) await db.put(wKeys[i], wValues[i], SYNC)
        })
        return { kind: 'ok', ops: syncN, timing }
      })
    },
    {
      name: 'put-sync-inflight-100',
      run: () => fresh('put-sync-inflight', UTF8, async (db) => {
        if (!db.supports.permanence) return { kind: 'n/a', reason: 'no permanence: sync is a no-op' }
        const timing = await meter.timed(() => window(syncN, 100, (i) => db.put(wKeys[i], wValues[i], SYNC)))
        return { kind: 'ok', ops: syncN, timing }
      })
    },
    { name: 'get', run: async () => await gets(meter, await utf8Reader(), reads) },
    { name: 'getSync', run: async () => await getSyncs(meter, await utf8Reader(), reads) },
    { name: 'getMany-1000', run: async () => await getManys(meter, await utf8Reader(), reads, 1000) },
    { name: 'has', run: async () => await hases(meter, await utf8Reader(), reads) },
    { name: 'nextv-1000-forward', run: async () => await scan(meter, await utf8Reader(), { reverse: false, passes, entries: n }, 'nextv') },
    { name: 'nextv-1000-reverse', run: async () => await scan(meter, await utf8Reader(), { reverse: true, passes, entries: n }, 'nextv') },
    { name: 'for-await-forward', run: async () => await scan(meter, await utf8Reader(), { reverse: false, passes, entries: n }, 'for-await') },
    { name: 'for-await-reverse', run: async () => await scan(meter, await utf8Reader(), { reverse: true, passes, entries: n }, 'for-await') },
    { name: 'get-buffer', run: async () => await gets(meter, await bufferReader(), readsBuf) }
  ]
  return { workloads, close: closeReader }
}
