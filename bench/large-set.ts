// The large set (issue 3): largeN entries (default 1,000,000), many times the 4 MiB write buffer and the 8 MiB block
// cache, so that it measures tables, flushes, compaction and the block cache. Workload names and order:
// LARGE_WORKLOADS in protocol.ts; what each one times: bench/README.md.

import { distinct, keyOf, mulberry32, permutation, sample, streamSeed, ValuePool, type Random } from './data'
import { type PutOp, UTF8, type Utf8Db } from './engines'
import type { SetContext, Timing, WorkloadSet } from './measure'
import type { LargeWorkload } from './protocol'
import { gets, type KeySample, scan } from './reads'

/**
 * The large set (tables): fillrandom of largeN entries (default 1,000,000, many times a 4 MiB writeBufferSize) in
 * batches of 100, close and reopen, then random gets and full scans over what is on disk.
 */
export function largeSet ({ engine, opts, dirs, meter }: SetContext): WorkloadSet<LargeWorkload> {
  const n = opts.largeN
  const rand = (name: string): Random => mulberry32(streamSeed(opts.seed, name))
  const pool = new ValuePool(rand('values'))
  const order = permutation(n, rand('large-write-order'))
  const readOrder = sample(n, opts.reads, rand('large-reads'))
  const reads: KeySample<string> = { keys: Array.from(readOrder, keyOf), distinct: distinct(readOrder) }
  // Prepared before anything is timed; released once the database is filled.
  let batches: Array<Array<PutOp<string, string>>> | undefined = []
  for (let i = 0; i < n; i += 100) {
    const batch: Array<PutOp<string, string>> = []
    for (let j = i; j < Math.min(i + 100, n); j++) batch.push({ type: 'put', key: keyOf(order[j]), value: pool.value(order[j]) })
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
  async function fillTimed (): Promise<Timing> {
    const target = await opened()
    const all = batches ?? []
    const timing = await meter.timed(async () => {
      for (let b = 0; b < all.length; b++) await target.batch(all[b])
    })
    batches = undefined
    filled = true
    return timing
  }
  async function reopenTimed (): Promise<Timing> {
    if (!filled) await fillTimed()
    const target = await opened()
    const timing = await meter.timed(async () => {
      await target.close()
      await target.open()
    })
    reopened = true
    return timing
  }
  async function onDisk (): Promise<Utf8Db> {
    if (!reopened) await reopenTimed()
    return await opened()
  }

  const workloads: WorkloadSet<LargeWorkload>['workloads'] = [
    {
      name: 'fillrandom-batch-100',
      run: async () => {
        if (filled) return { kind: 'n/a', reason: 'already filled' }
        return { kind: 'ok', ops: n, timing: await fillTimed() }
      }
    },
    {
      name: 'reopen',
      run: async () => ({ kind: 'ok', ops: 1, timing: await reopenTimed(), unit: 'ms' })
    },
    { name: 'readrandom', run: async () => await gets(meter, await onDisk(), reads) },
    { name: 'scan-nextv-1000-forward', run: async () => await scan(meter, await onDisk(), { reverse: false, passes: 1, entries: n }, 'nextv') },
    { name: 'scan-nextv-1000-reverse', run: async () => await scan(meter, await onDisk(), { reverse: true, passes: 1, entries: n }, 'nextv') }
  ]
  return {
    workloads,
    close: async () => {
      if (db !== undefined) await db.close()
      dirs.remove(dir)
    }
  }
}
