// The scale sets and the huge set (issue 12): one database filled with `keys` entries (16-byte keys, 100-byte
// db_bench values) in random or sequential order, in batches of 100 or 1000; random reads and full scans right
// after the fill, while compaction still runs (`@fill`); a timed close and open; the same reads again
// (`@reopen`). The huge set (10M entries) skips the first reads and, before the close, fills the log almost to
// the size at which a memtable is flushed, so that the open it times replays one full 4 MiB log, as an
// application that stops without a flush leaves it. Workload names: SCALE_WORKLOADS and HUGE_WORKLOADS in
// protocol.ts; what each one times: bench/README.md.
//
// Nothing holds all the entries at once (5M prepared batches would be about a gigabyte of harness heap, which a
// JavaScript engine would then have to trace in every major collection): each batch is built just before its
// call and the clock counts only the calls (Meter.timedCalls).

import * as fs from 'node:fs'
import * as path from 'node:path'
import { distinct, KEY_BYTES, keyOf, mulberry32, permutation, sample, streamSeed, VALUE_BYTES, ValuePool, type Random } from './data'
import { type PutOp, UTF8 } from './engines'
import type { Outcome, SetContext, Timing, Workload, WorkloadSet } from './measure'
import { HUGE_WORKLOADS, SCALE_READS, SCALE_WORKLOADS, type ScaleWorkload } from './protocol'
import { getManys, gets, getSyncs, hases, type KeySample, scan } from './reads'
import type { FillOrder } from './sets'

export interface FillPlan {
  keys: number
  order: FillOrder
  batch: number
  /** The huge set: no reads before the close, and a full log left for the open to replay. */
  huge: boolean
}

type ScaleRead = (typeof SCALE_READS)[number]
type Stage = 'new' | 'filled' | 'closed' | 'reopened'

/** The writes that fill the log before the huge set's close go in batches of this many entries. */
const LOG_BATCH = 100
/** A bound on those writes: a 4 MiB memtable holds about 30,000 entries, two logs' worth is 60,000. */
const LOG_MAX_BATCHES = 2000

interface LogFile { number: number, size: number }

/** The log with the highest number in dir (the one being written), or undefined (memory-level has none). */
function newestLog (dir: string): LogFile | undefined {
  let newest: LogFile | undefined
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return undefined
  }
  for (const name of names) {
    const m = /^(\d+)\.log$/.exec(name)
    if (m === null || (newest !== undefined && Number(m[1]) < newest.number)) continue
    newest = { number: Number(m[1]), size: fs.statSync(path.join(dir, name)).size }
  }
  return newest
}

/** What the open will find on disk: the log to replay, the tables, the whole directory. */
function onDisk (dir: string): Record<string, number> | undefined {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return undefined
  }
  let dbBytes = 0
  let tables = 0
  for (const name of names) {
    dbBytes += fs.statSync(path.join(dir, name)).size
    if (/\.(ldb|sst)$/.test(name)) tables++
  }
  return { logBytes: newestLog(dir)?.size ?? 0, tables, dbBytes }
}

export function scaleSet ({ engine, opts, dirs, meter }: SetContext, plan: FillPlan): WorkloadSet<ScaleWorkload> {
  const n = plan.keys
  const rand = (name: string): Random => mulberry32(streamSeed(opts.seed, name))
  const pool = new ValuePool(rand('values'))
  const order = plan.order === 'random' ? permutation(n, rand('scale-write-order')) : undefined
  const readOrder = sample(n, opts.reads, rand('scale-reads'))
  const reads: KeySample<string> = { keys: Array.from(readOrder, keyOf), distinct: distinct(readOrder) }
  const dir = dirs.next(plan.huge ? 'huge' : 'scale')
  const db = engine.create(dir, UTF8)
  let stage: Stage = 'new'

  async function fill (): Promise<Timing> {
    await db.open()
    const timing = await meter.timedCalls(async (call) => {
      for (let start = 0; start < n; start += plan.batch) {
        const end = Math.min(start + plan.batch, n)
        const ops = new Array<PutOp<string, string>>(end - start)
        for (let j = start; j < end; j++) {
          const i = order === undefined ? j : order[j]
          ops[j - start] = { type: 'put', key: keyOf(i), value: pool.value(i) }
        }
        await call(() => db.batch(ops))
      }
    })
    stage = 'filled'
    return timing
  }

  /**
   * Overwrites random entries (untimed) until the log being written holds nearly what a log holds when its
   * memtable fills: first until a new log begins (the size its predecessor reached is a full log's), then
   * until the new one is within two batches of that.
   */
  async function fillLog (): Promise<void> {
    const first = newestLog(dir)
    if (first === undefined) return
    const random = rand('huge-log-updates')
    let written = 0
    const update = async (): Promise<LogFile | undefined> => {
      const ops = new Array<PutOp<string, string>>(LOG_BATCH)
      for (let k = 0; k < LOG_BATCH; k++) {
        const i = Math.floor(random() * n)
        ops[k] = { type: 'put', key: keyOf(i), value: pool.value(i + ++written) }
      }
      await db.batch(ops)
      return newestLog(dir)
    }
    let full = first.size
    let current: LogFile | undefined = first
    for (let b = 0; b < LOG_MAX_BATCHES && current?.number === first.number; b++) {
      current = await update()
      if (current?.number === first.number) full = Math.max(full, current.size)
    }
    const margin = 2 * LOG_BATCH * (KEY_BYTES + VALUE_BYTES + 8)
    for (let b = 0; b < LOG_MAX_BATCHES && current !== undefined && current.size < full - margin; b++) current = await update()
  }

  async function close (): Promise<Timing> {
    if (plan.huge) await fillLog()
    const timing = await meter.timed(() => db.close())
    stage = 'closed'
    return timing
  }

  async function open (): Promise<Timing> {
    const timing = await meter.timed(() => db.open())
    stage = 'reopened'
    return timing
  }

  /** Brings the database to `target`, doing (untimed) what --only left out: fill, close, open. */
  async function reach (target: Stage): Promise<void> {
    if (stage === 'new') await fill()
    if (target === 'filled') return
    if (stage === 'filled') await close()
    if (target === 'closed') return
    if (stage === 'closed') await open()
  }

  const readers: Record<ScaleRead, () => Promise<Outcome>> = {
    get: () => gets(meter, db, reads),
    getSync: () => getSyncs(meter, db, reads),
    'getMany-100': () => getManys(meter, db, reads, 100),
    has: () => hases(meter, db, reads),
    'scan-forward': () => scan(meter, db, { reverse: false, passes: 1, entries: n }, 'nextv'),
    'scan-reverse': () => scan(meter, db, { reverse: true, passes: 1, entries: n }, 'nextv')
  }
  const readsAt = (phase: 'fill' | 'reopen'): Array<Workload<ScaleWorkload>> => SCALE_READS.map((r) => ({
    name: `${r}@${phase}`,
    run: async () => {
      await reach(phase === 'fill' ? 'filled' : 'reopened')
      return await readers[r]()
    }
  }))

  const all: Array<Workload<ScaleWorkload>> = [
    { name: 'fill', run: async () => ({ kind: 'ok', ops: n, timing: await fill() }) },
    ...readsAt('fill'),
    {
      name: 'close',
      run: async () => {
        await reach('filled')
        return { kind: 'ok', ops: 1, unit: 'ms', timing: await close() }
      }
    },
    {
      name: 'open',
      run: async () => {
        await reach('closed')
        const facts = onDisk(dir)
        return { kind: 'ok', ops: 1, unit: 'ms', timing: await open(), facts }
      }
    },
    ...readsAt('reopen')
  ]
  const names: readonly string[] = plan.huge ? HUGE_WORKLOADS : SCALE_WORKLOADS
  return {
    workloads: all.filter((w) => names.includes(w.name)),
    close: async () => {
      if (db.status === 'open') await db.close()
      dirs.remove(dir)
    }
  }
}
