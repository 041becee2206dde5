// The small set (issue 2): n entries (default 30,000) of 16-byte keys and 100-byte values, few enough to stay in a
// 4 MiB memtable, so that it measures the write-ahead log, the memtable and the abstract-level adapter. Workload
// names and order: SMALL_WORKLOADS in protocol.ts; what each one times: bench/README.md.

import type { AbstractDatabaseOptions, AbstractPutOptions } from 'abstract-level'
import { makeKeys, makeValues, mulberry32, permutation, sample, streamSeed, valueFor, type Random } from './data'
import { BUFFER, type BufferDb, type Db, type Dirs, type Engine, fill, type PutOp, supportsGetSync, UTF8, type Utf8Db } from './engines'
import { chunk, missing, type Outcome, timed, window, type WorkloadSet } from './measure'
import type { RunnerOptions, SmallWorkload } from './protocol'

/** Sync puts: LevelDB's (and classic-level's) `sync` option, which abstract-level's own types do not declare. */
const SYNC: AbstractPutOptions<string, string> & { sync: boolean } = { sync: true }

/**
 * The small set: 16-byte keys, 100-byte values, n entries (default 30,000, inside a 4 MiB memtable). Writes
 * write all n entries (a sync workload the first syncN of them) into a new database each; reads make `reads`
 * (default 100,000) uniformly random lookups of existing keys in a database filled with the n entries.
 */
export function smallSet (engine: Engine, opts: RunnerOptions, dirs: Dirs): WorkloadSet<SmallWorkload> {
  const n = opts.n
  const rand = (name: string): Random => mulberry32(streamSeed(opts.seed, name))
  const keys = makeKeys(n)
  const values = makeValues(rand('values'))
  const order = permutation(n, rand('write-order'))
  const reads = opts.reads
  const readOrder = sample(n, reads, rand('reads'))
  // Entries in write order (random), both encodings; reads pick existing keys uniformly with replacement.
  const wKeys = Array.from(order, (i) => keys[i])
  const wValues = Array.from(order, (i) => valueFor(values, i))
  const wKeysBuf = wKeys.map((k) => Buffer.from(k))
  const wValuesBuf = wValues.map((v) => Buffer.from(v))
  const rKeys = Array.from(readOrder, (i) => keys[i])
  const rKeysBuf = rKeys.map((k) => Buffer.from(k))
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

  async function iterateNextv (reverse: boolean): Promise<Outcome> {
    const db = await utf8Reader()
    let count = 0
    const ms = await timed(async () => {
      for (let p = 0; p < passes; p++) {
        const it = db.iterator({ reverse })
        try {
          for (;;) {
            const entries = await it.nextv(1000)
            if (entries.length === 0) break
            count += entries.length
          }
        } finally {
          await it.close()
        }
      }
    })
    return { kind: 'ok', ops: count, ms, problem: count === n * passes ? undefined : `iterated ${count}, expected ${n * passes}` }
  }

  async function iterateForAwait (reverse: boolean): Promise<Outcome> {
    const db = await utf8Reader()
    let count = 0
    const ms = await timed(async () => {
      for (let p = 0; p < passes; p++) {
        for await (const entry of db.iterator({ reverse })) {
          if (entry !== undefined) count++
        }
      }
    })
    return { kind: 'ok', ops: count, ms, problem: count === n * passes ? undefined : `iterated ${count}, expected ${n * passes}` }
  }

  const workloads: WorkloadSet<SmallWorkload>['workloads'] = [
    {
      name: 'put',
      run: () => fresh('put', UTF8, async (db) => {
        const ms = await timed(async () => {
          for (let i = 0; i < n; i++) await db.put(wKeys[i], wValues[i])
        })
        return { kind: 'ok', ops: n, ms }
      })
    },
    {
      name: 'put-buffer',
      run: () => fresh('put-buffer', BUFFER, async (db) => {
        const ms = await timed(async () => {
          for (let i = 0; i < n; i++) await db.put(wKeysBuf[i], wValuesBuf[i])
        })
        return { kind: 'ok', ops: n, ms }
      })
    },
    {
      name: 'put-inflight-1000',
      run: () => fresh('put-inflight', UTF8, async (db) => {
        const ms = await timed(() => window(n, 1000, (i) => db.put(wKeys[i], wValues[i])))
        return { kind: 'ok', ops: n, ms }
      })
    },
    {
      name: 'batch-1000',
      run: () => fresh('batch', UTF8, async (db) => {
        const batches = chunk(putOps(), 1000)
        const ms = await timed(async () => {
          for (let b = 0; b < batches.length; b++) await db.batch(batches[b])
        })
        return { kind: 'ok', ops: n, ms }
      })
    },
    {
      name: 'put-sync',
      run: () => fresh('put-sync', UTF8, async (db) => {
        if (!db.supports.permanence) return { kind: 'n/a', reason: 'no permanence: sync is a no-op' }
        const ms = await timed(async () => {
          for (let i = 0; i < syncN; i++) await db.put(wKeys[i], wValues[i], SYNC)
        })
        return { kind: 'ok', ops: syncN, ms }
      })
    },
    {
      name: 'put-sync-inflight-100',
      run: () => fresh('put-sync-inflight', UTF8, async (db) => {
        if (!db.supports.permanence) return { kind: 'n/a', reason: 'no permanence: sync is a no-op' }
        const ms = await timed(() => window(syncN, 100, (i) => db.put(wKeys[i], wValues[i], SYNC)))
        return { kind: 'ok', ops: syncN, ms }
      })
    },
    {
      name: 'get',
      run: async () => {
        const db = await utf8Reader()
        let misses = 0
        const ms = await timed(async () => {
          for (let i = 0; i < reads; i++) if (await db.get(rKeys[i]) === undefined) misses++
        })
        return { kind: 'ok', ops: reads, ms, problem: missing('keys not found', misses, reads) }
      }
    },
    {
      name: 'getSync',
      run: async () => {
        const db = await utf8Reader()
        if (!supportsGetSync(db)) return { kind: 'n/a', reason: 'supports.getSync is false' }
        let misses = 0
        const ms = await timed(async () => {
          for (let i = 0; i < reads; i++) if (db.getSync(rKeys[i]) === undefined) misses++
        })
        return { kind: 'ok', ops: reads, ms, problem: missing('keys not found', misses, reads) }
      }
    },
    {
      name: 'getMany-1000',
      run: async () => {
        const db = await utf8Reader()
        const groups = chunk(rKeys, 1000)
        let misses = 0
        const ms = await timed(async () => {
          for (let g = 0; g < groups.length; g++) {
            const got = await db.getMany(groups[g])
            if (got.length !== groups[g].length || got[0] === undefined) misses++
          }
        })
        return { kind: 'ok', ops: reads, ms, problem: missing('getMany calls with a wrong answer', misses, groups.length) }
      }
    },
    {
      name: 'has',
      run: async () => {
        const db = await utf8Reader()
        if (!db.supports.has) return { kind: 'n/a', reason: 'supports.has is false' }
        let misses = 0
        const ms = await timed(async () => {
          for (let i = 0; i < reads; i++) if (!await db.has(rKeys[i])) misses++
        })
        return { kind: 'ok', ops: reads, ms, problem: missing('keys not found', misses, reads) }
      }
    },
    { name: 'nextv-1000-forward', run: () => iterateNextv(false) },
    { name: 'nextv-1000-reverse', run: () => iterateNextv(true) },
    { name: 'for-await-forward', run: () => iterateForAwait(false) },
    { name: 'for-await-reverse', run: () => iterateForAwait(true) },
    {
      name: 'get-buffer',
      run: async () => {
        const db = await bufferReader()
        let misses = 0
        const ms = await timed(async () => {
          for (let i = 0; i < reads; i++) if (await db.get(rKeysBuf[i]) === undefined) misses++
        })
        return { kind: 'ok', ops: reads, ms, problem: missing('keys not found', misses, reads) }
      }
    }
  ]
  return { workloads, close: closeReader }
}
