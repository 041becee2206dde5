// One engine, one workload set, in its own process (started by bench/run.ts through child_process.fork), so that
// process.resourceUsage().maxRSS is this engine's alone. Every engine goes through the same abstract-level calls.
//
//   node dist/bench/engine-runner.js --engine=classic --set=small --n=30000 [--only=put,get] [--seed=1]
//   node dist/bench/engine-runner.js --engine=rough --set=scale-1m-random-100 --reads=100000
//
// Results go to the parent over IPC; run directly (no IPC channel) it prints them as JSON lines.
// Rules for every workload: all keys, values, batches and read orders are prepared before the clock starts; the
// clock covers only the calls the workload names (plus a loop and a cheap check of what came back); nothing is
// printed while it runs; a garbage collection (when --expose-gc is given) runs before each timed section. Beside
// the clock, each timed section records the event loop's gaps and delays, the process's peak RSS and the bytes
// it wrote (bench/measure.ts).

import { keyOf, mulberry32, permutation, streamSeed, ValuePool } from './data'
import { Dirs, type Engine, loadEngine, type PutOp, UTF8 } from './engines'
import { supportsGetSync } from './get-sync'
import { largeSet } from './large-set'
import { collect, Meter, type Outcome, type SetContext, window, type WorkloadSet } from './measure'
import {
  ENGINES, type ChildMessage, type EngineName, type RunnerOptions, type SetName, type WorkloadName, type WorkloadResult
} from './protocol'
import { scaleSet } from './scale-set'
import { parseSet, type SetSpec, workloadsOf } from './sets'
import { smallSet } from './small-set'
import { ycsbSet } from './ycsb-set'

// ---------------------------------------------------------------------------------------------------------------
// Options and messages

function parseArgs (argv: readonly string[]): RunnerOptions {
  const get = (name: string): string | undefined => {
    const prefix = `--${name}=`
    const arg = argv.find((a) => a.startsWith(prefix))
    return arg === undefined ? undefined : arg.slice(prefix.length)
  }
  const int = (name: string, fallback: number): number => {
    const raw = get(name)
    if (raw === undefined) return fallback
    const value = Number(raw.replace(/_/g, ''))
    if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, not ${raw}`)
    return value
  }
  const engine = get('engine')
  if (!ENGINES.some((e) => e === engine)) throw new Error(`--engine must be one of ${ENGINES.join(', ')}`)
  const set = get('set') ?? 'small'
  parseSet(set)
  const only = get('only')
  return {
    engine: engine as EngineName,
    set,
    n: int('n', 30_000),
    largeN: int('large-n', 1_000_000),
    hugeN: int('huge-n', 10_000_000),
    reads: int('reads', 100_000),
    syncN: int('sync-n', 2_000),
    ycsbRecords: int('ycsb-records', 100_000),
    ycsbOps: int('ycsb-ops', 100_000),
    seed: int('seed', 20241124),
    warmUp: int('warm-up', 2000),
    only: only === undefined || only === '' ? [] : only.split(',').map((s) => s.trim()).filter((s) => s !== '')
  }
}

function send (message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) {
      process.stdout.write(JSON.stringify(message) + '\n')
      resolve()
    } else {
      process.send(message, undefined, {}, () => resolve())
    }
  })
}

function mb (bytes: number): number {
  return Math.round(bytes / 1024 / 1024 * 10) / 10
}

// ---------------------------------------------------------------------------------------------------------------
// Warm-up

/**
 * A short untimed pass through every call the workloads make, on a throwaway database, so that the first timed
 * workload of each process does not pay for compiling abstract-level's and the engine's JavaScript.
 */
async function warmUp (engine: Engine, dirs: Dirs, seed: number, calls: number): Promise<void> {
  const count = Math.max(2, calls - (calls % 2))
  const some = Math.min(1000, count)
  const keys = Array.from(permutation(count, mulberry32(streamSeed(seed, 'warm-up'))), keyOf)
  const value = new ValuePool(mulberry32(streamSeed(seed, 'warm-up-values'))).value(0)
  const dir = dirs.next('warm-up')
  const db = engine.create(dir, UTF8)
  await db.open()
  try {
    for (let i = 0; i < count / 2; i++) await db.put(keys[i], value)
    await window(count / 2, 100, (i) => db.put(keys[count / 2 + i], value))
    await db.batch(keys.slice(0, some).map((key): PutOp<string, string> => ({ type: 'put', key, value })))
    for (let i = 0; i < count; i++) await db.get(keys[i])
    if (supportsGetSync(db)) for (let i = 0; i < count; i++) db.getSync(keys[i])
    await db.getMany(keys.slice(0, some))
    if (db.supports.has) for (let i = 0; i < count; i++) await db.has(keys[i])
    for (const reverse of [false, true]) {
      const it = db.iterator({ reverse })
      while ((await it.nextv(1000)).length > 0);
      await it.close()
      for await (const entry of db.iterator({ reverse })) if (entry === undefined) break
    }
  } finally {
    await db.close()
    dirs.remove(dir)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Main

function toResult (name: string, outcome: Outcome): WorkloadResult {
  if (outcome.kind === 'n/a') return { name, unit: 'ops/s', status: 'n/a', ops: 0, ms: 0, opsPerSec: 0, note: outcome.reason }
  const { ms, loop, usage } = outcome.timing
  const opsPerSec = ms > 0 ? outcome.ops / (ms / 1000) : 0
  const result: WorkloadResult = { name, unit: outcome.unit ?? 'ops/s', status: 'ok', ops: outcome.ops, ms, opsPerSec, loop, usage }
  if (outcome.distinctKeys !== undefined) result.distinctKeys = outcome.distinctKeys
  if (outcome.latencies !== undefined) result.latencies = outcome.latencies
  if (outcome.facts !== undefined) result.facts = outcome.facts
  if (outcome.problem !== undefined) {
    result.status = 'error'
    result.note = outcome.problem
  }
  return result
}

/** The set's data and workloads (all data is prepared here, before the warm-up and the first clock). */
function prepareSet (spec: SetSpec, context: SetContext): WorkloadSet<WorkloadName> {
  switch (spec.kind) {
    case 'small': return smallSet(context)
    case 'large': return largeSet(context)
    case 'ycsb': return ycsbSet(context)
    case 'scale': return scaleSet(context, { ...spec, huge: false })
    case 'huge': return scaleSet(context, { keys: context.opts.hugeN, order: 'random', batch: 1000, huge: true })
  }
}

async function main (): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const { engine: name, set } = opts
  const engine = loadEngine(name)
  if ('unavailable' in engine) {
    await send({ type: 'unavailable', engine: name, set, error: engine.unavailable })
    return
  }
  const dirs = new Dirs()
  try {
    // So that the parent can remove the databases of a child it had to kill.
    await send({ type: 'scratch', engine: name, set, dir: dirs.base })
    const meter = new Meter(dirs.base)
    const spec = parseSet(set)
    const context: SetContext = { engine, opts, dirs, meter }
    const { workloads, close } = prepareSet(spec, context)
    if (workloads.map((w) => w.name).join() !== workloadsOf(spec).join()) throw new Error('workload list out of step with protocol.ts')
    collect()
    const rssBeforeOpenMB = mb(process.memoryUsage().rss)
    let warning: string | undefined
    await send({ type: 'begin', engine: name, set, name: 'warm-up' })
    try {
      await warmUp(engine, dirs, opts.seed, opts.warmUp)
    } catch (err) {
      warning = `warm-up failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`
    }
    await send({ type: 'start', engine: name, set, version: engine.version, rssBeforeOpenMB, warning })
    try {
      for (const workload of workloads) {
        if (opts.only.length > 0 && !opts.only.includes(workload.name)) continue
        let result: WorkloadResult
        await send({ type: 'begin', engine: name, set, name: workload.name })
        try {
          result = toResult(workload.name, await workload.run())
        } catch (err) {
          const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
          result = { name: workload.name, unit: 'ops/s', status: 'error', ops: 0, ms: 0, opsPerSec: 0, note: message.split('\n')[0] }
        }
        await send({ type: 'workload', engine: name, set, result })
      }
    } finally {
      await close()
    }
    await send({ type: 'done', engine: name, set, maxRssMB: meter.processPeakRssMB() })
  } finally {
    dirs.removeAll()
  }
}

main().then(() => {
  // Let the IPC channel go so the process can exit even if an engine left a handle behind (the parent also
  // kills a child that lingers after 'done').
  if (process.connected) process.disconnect()
}, async (err: unknown) => {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
  let engine: EngineName = 'rough'
  let set: SetName = 'small'
  try {
    ({ engine, set } = parseArgs(process.argv.slice(2)))
  } catch {}
  await send({ type: 'fatal', engine, set, error: message })
  process.exitCode = 1
  if (process.connected) process.disconnect()
})
