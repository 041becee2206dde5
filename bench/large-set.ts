// The large set (issue 3): largeN entries (default 1,000,000), many times the 4 MiB write buffer and the 8 MiB block
// cache, so that it measures tables, flushes, compaction and the block cache. Workload names and order:
// LARGE_WORKLOADS in protocol.ts; what each one times: bench/README.md.

import { makeKeys, makeValues, mulberry32, permutation, sample, streamSeed, valueFor, type Random } from './data'
import { type Dirs, type Engine, type PutOp, UTF8, type Utf8Db } from './engines'
import { missing, type Outcome, timed, type WorkloadSet } from './measure'
import type { LargeWorkload, RunnerOptions } from './protocol'

/**
 * The large set (tables): fillrandom of largeN entries (default 1,000,000, many times a 4 MiB writeBufferSize) in
 * batches of 100, close and reopen, then random gets and full scans over what is on disk.
 */
export function largeSet (engine: Engine, opts: RunnerOptions, dirs: Dirs): WorkloadSet<LargeWorkload> {
  const n = opts.largeN
  const rand = (name: string): Random => mulberry32(streamSeed(opts.seed, name))
  const keys = makeKeys(n)
  const values = makeValues(rand('values'))
  const order = permutation(n, rand('large-write-order'))
  const reads = opts.reads
  const rKeys = Array.from(sample(n, reads, rand('large-reads')), (i) => keys[i])
  // Prepared before anything is timed; released once the database is filled.
  let batches: Array<Array<PutOp<string, string>>> | undefined = []
  for (let i = 0; i < n; i += 100) {
    const batch: Array<PutOp<string, string>> = []
    for (let j = i; j < Math.min(i + 100, n); j++) batch.push({ type: 'put', key: keys[order[j]], value: valueFor(values, order[j]) })
    batches.push(batch)
  }

  const dir = dirs.next('large')
  let db: Utf8Db | undefined
  let filled = false
  let reopened = false

  async function opened (): Promise<Utf8Db> {
    if (db === undefined) {
      db = engine.create(dir, UTF8)
      await db.open()
    }
    return db
  }
  async function fillTimed (): Promise<number> {
    const target = await opened()
    const all = batches ?? []
    const ms = await timed(async () => {
      for (let b = 0; b < all.length; b++) await target.batch(all[b])
    })
    batches = undefined
    filled = true
    return ms
  }
  async function reopenTimed (): Promise<number> {
    if (!filled) await fillTimed()
    const target = await opened()
    const ms = await timed(async () => {
      await target.close()
      await target.open()
    })
    reopened = true
    return ms
  }
  async function onDisk (): Promise<Utf8Db> {
    if (!reopened) await reopenTimed()
    return opened()
  }
  async function scan (reverse: boolean): Promise<Outcome> {
    const target = await onDisk()
    let count = 0
    const ms = await timed(async () => {
      const it = target.iterator({ reverse })
      try {
        for (;;) {
          const entries = await it.nextv(1000)
          if (entries.length === 0) break
          count += entries.length
        }
      } finally {
        await it.close()
      }
    })
    return { kind: 'ok', ops: count, ms, problem: count === n ? undefined : `iterated ${count}, expected ${n}` }
  }

  const workloads: WorkloadSet<LargeWorkload>['workloads'] = [
    {
      name: 'fillrandom-batch-100',
      run: async () => {
        if (filled) return { kind: 'n/a', reason: 'already filled' }
        return { kind: 'ok', ops: n, ms: await fillTimed() }
      }
    },
    {
      name: 'reopen',
      run: async () => ({ kind: 'ok', ops: 1, ms: await reopenTimed(), unit: 'ms' })
    },
    {
      name: 'readrandom',
      run: async () => {
        const target = await onDisk()
        let misses = 0
        const ms = await timed(async () => {
          for (let i = 0; i < reads; i++) if (await target.get(rKeys[i]) === undefined) misses++
        })
        return { kind: 'ok', ops: reads, ms, problem: missing('keys not found', misses, reads) }
      }
    },
    { name: 'scan-nextv-1000-forward', run: () => scan(false) },
    { name: 'scan-nextv-1000-reverse', run: () => scan(true) }
  ]
  return {
    workloads,
    close: async () => {
      if (db !== undefined) await db.close()
      dirs.remove(dir)
    }
  }
}
