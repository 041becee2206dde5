// YCSB's core workloads (issue 12) through the Level API, one client, as YCSB's CoreWorkload issues them with its
// default properties: a load phase inserts `ycsbRecords` records in record-number order (keys "user" + a 64-bit
// hash of the number, so in random key order), then each workload runs `ycsbOps` operations on that database:
//   A  50% read, 50% update                zipfian         B  95% read, 5% update      zipfian
//   C  100% read                           zipfian         D  95% read, 5% insert      latest
//   E  95% scan (1-100 records), 5% insert zipfian         F  50% read, 50% read-modify-write  zipfian
// in the order YCSB's documentation runs them (A, B, C, F, D, E: the inserting ones last). A record is one value
// of YCSB's default size, 10 fields of 100 bytes, made of db_bench's half-random pieces; an update writes a
// whole new record. Every request is drawn before the clock starts (bench/ycsb-generators.ts); the clock covers
// the requests, each timed alone for its latency with performance.now().

import { performance } from 'node:perf_hooks'
import { distinct, mulberry32, mulberry32Double, type Random, streamSeed, ValuePool } from './data'
import { UTF8 } from './engines'
import { Latencies } from './latency'
import { missing, type Outcome, type SetContext, type WorkloadSet } from './measure'
import type { YcsbWorkload } from './protocol'
import { discrete, InsertCounter, keyName, type KeyChooser, ScrambledZipfian, SkewedLatest, UniformLong } from './ycsb-generators'

type OpKind = 'read' | 'update' | 'insert' | 'scan' | 'read-modify-write'

interface CoreWorkload {
  /** Proportions of the operation types (YCSB's readproportion, updateproportion, ...). */
  mix: Readonly<Partial<Record<OpKind, number>>>
  distribution: 'zipfian' | 'latest'
}

/** workloads/workload[a-f] of YCSB's repository. */
const CORE: Record<Exclude<YcsbWorkload, 'ycsb-load'>, CoreWorkload> = {
  'ycsb-a': { mix: { read: 0.5, update: 0.5 }, distribution: 'zipfian' },
  'ycsb-b': { mix: { read: 0.95, update: 0.05 }, distribution: 'zipfian' },
  'ycsb-c': { mix: { read: 1 }, distribution: 'zipfian' },
  'ycsb-f': { mix: { read: 0.5, 'read-modify-write': 0.5 }, distribution: 'zipfian' },
  'ycsb-d': { mix: { read: 0.95, insert: 0.05 }, distribution: 'latest' },
  'ycsb-e': { mix: { scan: 0.95, insert: 0.05 }, distribution: 'zipfian' }
}
/** DiscreteGenerator's order of the operation types in CoreWorkload. */
const OP_ORDER: readonly OpKind[] = ['read', 'update', 'insert', 'scan', 'read-modify-write']
/** fieldcount × fieldlength, YCSB's defaults. */
const RECORD_BYTES = 10 * 100
/** workloade's maxscanlength (scanlengthdistribution=uniform, minscanlength 1). */
const MAX_SCAN_LENGTH = 100

interface Plan {
  kinds: OpKind[]
  keynums: number[]
  scanLengths: number[]
  inserts: number
}

/** The operations of one workload over `records` records, drawn as CoreWorkload draws them. */
function plan (core: CoreWorkload, records: number, operations: number, random: Random): Plan {
  const counter = new InsertCounter(records)
  const insertShare = core.mix.insert ?? 0
  // CoreWorkload sizes the scrambled key space for the inserts it expects (twice, as a fudge factor) so that the
  // popular keys stay put as records are added; a draw past the last inserted record is drawn again.
  const chooser: KeyChooser = core.distribution === 'latest'
    ? new SkewedLatest(random, counter)
    : new ScrambledZipfian(random, 0, records + Math.floor(operations * insertShare * 2))
  const weighted = OP_ORDER.filter((k) => (core.mix[k] ?? 0) > 0).map((k) => [core.mix[k] ?? 0, k] as const)
  const nextOp = discrete(random, weighted)
  const scanLength = new UniformLong(random, 1, MAX_SCAN_LENGTH)
  const out: Plan = { kinds: [], keynums: [], scanLengths: [], inserts: 0 }
  for (let i = 0; i < operations; i++) {
    const kind = nextOp()
    let keynum: number
    if (kind === 'insert') {
      keynum = counter.take()
      counter.acknowledge(keynum)
      out.inserts++
    } else {
      do keynum = chooser.next()
      while (keynum > counter.last())
    }
    out.kinds.push(kind)
    out.keynums.push(keynum)
    out.scanLengths.push(kind === 'scan' ? scanLength.next() : 0)
  }
  return out
}

export function ycsbSet ({ engine, opts, dirs, meter }: SetContext): WorkloadSet<YcsbWorkload> {
  const pool = new ValuePool(mulberry32(streamSeed(opts.seed, 'values')))
  const names: string[] = []
  const key = (keynum: number): string => (names[keynum] ??= keyName(keynum))
  const dir = dirs.next('ycsb')
  const db = engine.create(dir, UTF8)
  /** Records in the database: the load's, plus what D and E inserted. */
  let records = opts.ycsbRecords
  let loaded = false

  async function load (): Promise<Outcome> {
    await db.open()
    const count = opts.ycsbRecords
    const keys = Array.from({ length: count }, (_, k) => key(k))
    const values = Array.from({ length: count }, (_, k) => pool.value(k, RECORD_BYTES))
    const latencies = new Latencies()
    const timing = await meter.timed(async () => {
      for (let k = 0; k < count; k++) {
        const start = performance.now()
        await db.put(keys[k], values[k])
        latencies.record('insert', performance.now() - start)
      }
    })
    loaded = true
    return { kind: 'ok', ops: count, timing, latencies: latencies.figures(), distinctKeys: count }
  }

  async function run (name: Exclude<YcsbWorkload, 'ycsb-load'>): Promise<Outcome> {
    if (!loaded) await load()
    const ops = plan(CORE[name], records, opts.ycsbOps, mulberry32Double(streamSeed(opts.seed, name)))
    const { kinds, scanLengths } = ops
    const keys = ops.keynums.map(key)
    // Each write stores a record other than the one it replaces.
    const values = ops.keynums.map((k, i) => pool.value(k + i + 1, RECORD_BYTES))
    const latencies = new Latencies()
    let misses = 0
    const timing = await meter.timed(async () => {
      for (let i = 0; i < kinds.length; i++) {
        const start = performance.now()
        switch (kinds[i]) {
          case 'read':
            if (await db.get(keys[i]) === undefined) misses++
            latencies.record('read', performance.now() - start)
            break
          case 'update':
          case 'insert':
            await db.put(keys[i], values[i])
            latencies.record(kinds[i], performance.now() - start)
            break
          case 'scan':
            if ((await db.iterator({ gte: keys[i], limit: scanLengths[i] }).all()).length === 0) misses++
            latencies.record('scan', performance.now() - start)
            break
          case 'read-modify-write': {
            if (await db.get(keys[i]) === undefined) misses++
            const read = performance.now()
            await db.put(keys[i], values[i])
            const end = performance.now()
            latencies.record('read', read - start)
            latencies.record('update', end - read)
            latencies.record('read-modify-write', end - start)
            break
          }
        }
      }
    })
    records += ops.inserts
    return {
      kind: 'ok',
      ops: kinds.length,
      timing,
      latencies: latencies.figures(),
      distinctKeys: distinct(ops.keynums),
      problem: missing('reads or scans that found nothing', misses, kinds.length)
    }
  }

  return {
    workloads: [
      { name: 'ycsb-load', run: load },
      { name: 'ycsb-a', run: () => run('ycsb-a') },
      { name: 'ycsb-b', run: () => run('ycsb-b') },
      { name: 'ycsb-c', run: () => run('ycsb-c') },
      { name: 'ycsb-f', run: () => run('ycsb-f') },
      { name: 'ycsb-d', run: () => run('ycsb-d') },
      { name: 'ycsb-e', run: () => run('ycsb-e') }
    ],
    close: async () => {
      if (db.status === 'open') await db.close()
      dirs.remove(dir)
    }
  }
}
