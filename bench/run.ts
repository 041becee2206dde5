// `npm run bench`: drives rough-level, classic-level and memory-level through the same abstract-level calls, each
// engine and workload set in its own child process (bench/engine-runner.ts) so that peak RSS is the engine's own,
// one child at a time. Prints the machine, tables per set (ops/s and the ratios of rough to the others; the event
// loop, peak RSS and bytes written of every workload; YCSB's latencies) and a Markdown copy for the README; writes
// everything as JSON to .bench/results-<timestamp>.json and the ratios rough/classic as an SVG chart.
//
//   node dist/bench/run.js [--engines=rough,classic,memory] [--small] [--large] [--scale] [--ycsb] [--huge]
//                          [--sets=small,large,scale,ycsb,huge] [--scale=1m-random-100,...|all] [--only=put,get,...]
//                          [--n=30000] [--large-n=1000000] [--huge-n=10000000] [--reads=100000] [--sync-n=2000]
//                          [--ycsb-records=100000] [--ycsb-ops=100000] [--rounds=3] [--large-rounds=1]
//                          [--memory-max-keys=1000000] [--warm-up=2000] [--seed=N] [--timeout=300]
//                          [--out=FILE] [--svg=FILE]
//
// Not a test: nothing here passes or fails; see bench/README.md.

import { fork } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ratioChart } from './chart'
import { mulberry32, snappyRatio, streamSeed, ValuePool } from './data'
import { ENGINES, isChildMessage, type EngineName, type SetName, type WorkloadResult } from './protocol'
import { loadAverage, machine } from './machine'
import { type EngineRun, type Results, machineLine, markdown, setTitle, summarize, textTables } from './report'
import {
  DEFAULT_KINDS, entriesOf, parseSet, SCALE_ALL, SCALE_DEFAULT, SET_KINDS, scaleSetName, type SizeOptions, workloadsOf
} from './sets'

interface Options {
  engines: EngineName[]
  sets: SetName[]
  /** Arguments passed through to every child. */
  passThrough: string[]
  only: string[]
  /** Rounds of the small set, and of every other set. */
  rounds: { small: number, other: number }
  sizes: SizeOptions
  /** memory-level runs only on sets of at most this many entries (it holds them all in the JavaScript heap). */
  memoryMaxKeys: number
  /** Seconds a child may go without finishing a workload before it is killed (--timeout), if given. */
  timeout?: number
  seed: number
  /** Where the JSON goes (default .bench/results-<timestamp>.json). */
  out?: string
  /** Where the chart goes (default beside the JSON, and bench/results/ratios.svg after a default run). */
  svg?: string
  /** Nothing but --seed, --timeout, --out or --svg given: the run the README's chart comes from. */
  isDefaultRun: boolean
  recorded: Record<string, unknown>
}

const USAGE = `usage: node dist/bench/run.js [options]
  --engines=rough,classic,memory   engines to run, in this order (default all three)
  --small --large --scale --ycsb --huge
                                   run only these sets (default: all but --huge)
  --sets=small,large,scale,ycsb,huge
                                   the same, spelled out; a scale set can also be named: scale-200k-seq-100
  --scale=${SCALE_DEFAULT.join(',')}
                                   the scale sets to run (the default ones shown): <keys>-<random|seq>-<batch>,
                                   or 'all' (adds ${SCALE_ALL.filter((c) => !SCALE_DEFAULT.includes(c)).join(', ')})
  --only=put,get                   run only these workloads (names as printed; what they need still happens)
  --n=30000                        entries in the small set
  --large-n=1000000                entries in the large set
  --huge-n=10000000                entries in the huge set
  --reads=100000                   random keys per read workload (get, getSync, getMany, has)
  --sync-n=2000                    puts in each sync workload
  --ycsb-records=100000            records of the YCSB load phase
  --ycsb-ops=100000                operations of each YCSB workload
  --rounds=3                       rounds of the small set (every engine once per round; best round shown)
  --large-rounds=1                 rounds of every other set
  --memory-max-keys=1000000        memory-level runs only on sets of at most this many entries
  --warm-up=2000                   untimed calls of each kind before a child's first workload
  --seed=20241124                  seed of the PRNG that picks keys and orders
  --timeout=300                    seconds a child may go without finishing a workload before it is killed
                                   (default 300, and 120 per million entries on larger sets)
  --out=FILE                       the JSON results (default .bench/results-<timestamp>.json)
  --svg=FILE                       the chart (default beside the JSON; a default run also writes bench/results/ratios.svg)`

const SET_FLAGS: readonly string[] = SET_KINDS

function parseArgs (argv: readonly string[]): Options {
  const values = new Map<string, string>()
  const flags = new Set<string>()
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg)
    if (m === null) throw new Error(`unexpected argument ${arg}\n${USAGE}`)
    if (m[2] === undefined) flags.add(m[1])
    else values.set(m[1], m[2])
  }
  if (flags.has('help')) {
    console.log(USAGE)
    process.exit(0)
  }
  for (const flag of flags) if (!SET_FLAGS.includes(flag)) throw new Error(`unknown flag --${flag}\n${USAGE}`)
  const known = [
    'engines', 'sets', 'scale', 'only', 'n', 'large-n', 'huge-n', 'reads', 'sync-n', 'ycsb-records', 'ycsb-ops',
    'rounds', 'large-rounds', 'memory-max-keys', 'warm-up', 'seed', 'timeout', 'out', 'svg'
  ]
  for (const key of values.keys()) if (!known.includes(key)) throw new Error(`unknown option --${key}\n${USAGE}`)

  const list = (raw: string | undefined): string[] | undefined =>
    raw === undefined ? undefined : raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const int = (name: string, fallback: number): number => {
    const raw = values.get(name)
    if (raw === undefined) return fallback
    const value = Number(raw.replace(/_/g, ''))
    if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, not ${raw}`)
    return value
  }

  const engines = list(values.get('engines')) ?? [...ENGINES]
  for (const e of engines) if (!ENGINES.some((k) => k === e)) throw new Error(`unknown engine ${e}; engines: ${ENGINES.join(', ')}`)
  // Set kinds (and named scale sets) in the order given; flags in the order of SET_KINDS.
  // --scale=<list> picks the scale combinations and, like --scale, selects the scale sets.
  if (values.has('scale')) flags.add('scale')
  const chosen = list(values.get('sets')) ?? SET_KINDS.filter((k) => flags.has(k))
  const kinds = chosen.length > 0 ? chosen : [...DEFAULT_KINDS]
  const scaleRaw = list(values.get('scale'))
  const combinations = scaleRaw === undefined ? SCALE_DEFAULT : scaleRaw.length === 1 && scaleRaw[0] === 'all' ? SCALE_ALL : scaleRaw
  const sets: SetName[] = []
  for (const kind of kinds) {
    if (kind === 'scale') sets.push(...combinations.map(scaleSetName))
    else {
      parseSet(kind) // throws, naming the sets there are
      sets.push(kind)
    }
  }
  const only = list(values.get('only')) ?? []
  const allWorkloads = new Set<string>(sets.flatMap((s) => workloadsOf(parseSet(s))))
  for (const w of only) if (!allWorkloads.has(w)) throw new Error(`unknown workload ${w}; workloads: ${[...allWorkloads].join(', ')}`)

  const sizes: SizeOptions = {
    n: int('n', 30_000),
    largeN: int('large-n', 1_000_000),
    hugeN: int('huge-n', 10_000_000),
    ycsbRecords: int('ycsb-records', 100_000)
  }
  const recorded = {
    ...sizes,
    reads: int('reads', 100_000),
    syncN: int('sync-n', 2_000),
    ycsbOps: int('ycsb-ops', 100_000),
    seed: int('seed', 20241124),
    warmUp: int('warm-up', 2000),
    rounds: int('rounds', 3),
    largeRounds: int('large-rounds', 1),
    memoryMaxKeys: int('memory-max-keys', 1_000_000),
    only,
    sets
  }
  const incidental = ['seed', 'timeout', 'out', 'svg']
  return {
    engines: engines as EngineName[],
    sets,
    only,
    rounds: { small: recorded.rounds, other: recorded.largeRounds },
    sizes,
    memoryMaxKeys: recorded.memoryMaxKeys,
    timeout: values.has('timeout') ? int('timeout', 0) : undefined,
    seed: recorded.seed,
    out: values.get('out'),
    svg: values.get('svg'),
    isDefaultRun: flags.size === 0 && [...values.keys()].every((k) => incidental.includes(k)),
    passThrough: [
      `--n=${sizes.n}`, `--large-n=${sizes.largeN}`, `--huge-n=${sizes.hugeN}`, `--reads=${recorded.reads}`,
      `--sync-n=${recorded.syncN}`, `--ycsb-records=${sizes.ycsbRecords}`, `--ycsb-ops=${recorded.ycsbOps}`,
      `--seed=${recorded.seed}`, `--warm-up=${recorded.warmUp}`, `--only=${only.join(',')}`
    ],
    recorded
  }
}

function progress (engine: EngineName, result: WorkloadResult): string {
  const figure = result.status !== 'ok'
    ? `${result.status}${result.note === undefined ? '' : ` (${result.note})`}`
    : result.unit === 'ms'
      ? `${result.ms.toFixed(1)} ms`
      : `${Math.round(result.opsPerSec).toLocaleString('en-US')} ops/s (${result.ops.toLocaleString('en-US')} in ${result.ms.toFixed(0)} ms)`
  const loop = result.loop === undefined ? '' : `; loop max ${result.loop.maxGapMs.toFixed(1)} ms, p99 ${result.loop.p99Ms.toFixed(1)} ms`
  const keys = result.distinctKeys === undefined ? '' : `; ${result.distinctKeys.toLocaleString('en-US')} distinct keys`
  return `  ${engine.padEnd(8)} ${result.name.padEnd(24)} ${figure}${loop}${keys}`
}

/** Runs one engine on one set in a child; resolves with whatever it reported, however it ended. */
function runChild (engine: EngineName, set: SetName, round: number, options: Options): Promise<EngineRun> {
  const runner = path.join(__dirname, 'engine-runner.js')
  // A 10M-entry fill can wait minutes on compaction without being stuck.
  const timeout = options.timeout ?? Math.max(300, Math.ceil(entriesOf(parseSet(set), options.sizes) / 1e6 * 120))
  const run: EngineRun = { engine, set, round, available: true, workloads: [] }
  return new Promise((resolve) => {
    const child = fork(runner, [`--engine=${engine}`, `--set=${set}`, ...options.passThrough], {
      execArgv: [...process.execArgv, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    let done = false
    let settled = false
    const finish = (): void => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      clearTimeout(linger)
      resolve(run)
    }
    // What the child is doing, so that a crash or a stall can be charged to the workload that caused it.
    let current: string | undefined
    let scratch: string | undefined
    const stalled = (): void => {
      run.error = `killed after ${timeout} s without progress${current === undefined ? '' : ` in ${current}`} (--timeout)`
      console.log(`  ${engine.padEnd(8)} ${run.error}`)
      child.kill('SIGKILL')
    }
    let deadline = setTimeout(stalled, timeout * 1000)
    let linger: NodeJS.Timeout | undefined
    child.on('message', (message: unknown) => {
      if (!isChildMessage(message)) return
      clearTimeout(deadline)
      deadline = setTimeout(stalled, timeout * 1000)
      switch (message.type) {
        case 'scratch':
          scratch = message.dir
          break
        case 'begin':
          current = message.name
          break
        case 'start':
          run.version = message.version
          run.rssBeforeOpenMB = message.rssBeforeOpenMB
          if (message.warning !== undefined) {
            run.warning = message.warning
            console.log(`  ${engine}: ${message.warning}`)
          }
          break
        case 'unavailable':
          run.available = false
          run.error = message.error
          console.log(`  ${engine}: not available (${message.error})`)
          break
        case 'workload':
          current = undefined
          run.workloads.push(message.result)
          console.log(progress(engine, message.result))
          break
        case 'done':
          clearTimeout(deadline)
          done = true
          run.maxRssMB = message.maxRssMB
          // An engine that leaves a handle open would keep its child alive: give it a moment, then end it.
          linger = setTimeout(() => child.kill('SIGKILL'), 10_000)
          break
        case 'fatal':
          run.error = `failed: ${message.error.split('\n')[0]}`
          console.log(`  ${engine}: ${message.error}`)
          break
      }
    })
    child.on('error', (err) => {
      run.error = `could not start: ${err.message}`
      finish()
    })
    child.on('exit', (code, signal) => {
      if (!done && run.available && run.error === undefined) {
        const where = current === undefined ? '' : ` during ${current}`
        run.error = signal !== null
          ? `child ended by ${signal}${where}`
          : code === 0
            ? `child exited${where} with work pending: a promise that never settled`
            : `child exited with code ${code ?? '?'}${where}`
        console.log(`  ${engine}: ${run.error}`)
      }
      // A child that ends normally has removed its databases; one that was killed or crashed has not.
      if (scratch !== undefined && scratch.startsWith(os.tmpdir())) fs.rmSync(scratch, { recursive: true, force: true })
      if (current !== undefined && current !== 'warm-up' && !run.workloads.some((w) => w.name === current)) {
        run.workloads.push({ name: current, unit: 'ops/s', status: 'error', ops: 0, ms: 0, opsPerSec: 0, note: run.error ?? 'child ended' })
      }
      finish()
    })
  })
}

function duration (ms: number): string {
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}

async function main (): Promise<void> {
  const started = Date.now()
  const options = parseArgs(process.argv.slice(2))
  const valueSnappyRatio = snappyRatio(new ValuePool(mulberry32(streamSeed(options.seed, 'values'))))
  const results: Results = {
    startedAt: new Date(started).toISOString(),
    machine: machine(),
    options: options.recorded,
    engines: options.engines,
    sets: [],
    skipped: [],
    valueSnappyRatio,
    runs: [],
    summary: []
  }
  console.log(`machine: ${machineLine(results.machine)}; load average ${results.machine.loadAverage.join(' ')}`)
  console.log(`values: 100 bytes (YCSB: 1,000), half random as db_bench's; snappy keeps ${(valueSnappyRatio * 100).toFixed(0)}% of a block of them`)
  console.log('')

  const unavailable = new Set<EngineName>()
  for (const set of options.sets) {
    const spec = parseSet(set)
    const selected = workloadsOf(spec).filter((w) => options.only.length === 0 || options.only.includes(w))
    if (selected.length === 0) continue
    results.sets.push(set)
    console.log(`${setTitle(results, set)}`)
    const entries = entriesOf(spec, options.sizes)
    const engines = options.engines.filter((engine) => {
      if (engine !== 'memory' || entries <= options.memoryMaxKeys) return true
      const reason = `skipped: ${entries.toLocaleString('en-US')} entries is more than --memory-max-keys=${options.memoryMaxKeys}`
      results.skipped.push({ engine, set, reason })
      console.log(`  ${engine}: ${reason}`)
      return false
    })
    const rounds = spec.kind === 'small' ? options.rounds.small : options.rounds.other
    for (let round = 1; round <= rounds; round++) {
      if (rounds > 1) console.log(` round ${round} of ${rounds}`)
      for (const engine of engines) {
        if (unavailable.has(engine)) continue
        const run = await runChild(engine, set, round, options)
        results.runs.push(run)
        if (!run.available) unavailable.add(engine)
      }
    }
    for (const engine of options.engines) {
      const summary = summarize(results.runs, engine, set)
      if (summary !== undefined) results.summary.push(summary)
    }
    console.log('')
  }
  results.durationMs = Date.now() - started
  results.machine.loadAverageAtEnd = loadAverage()

  const root = path.resolve(__dirname, '..', '..')
  const stamp = results.startedAt.replace(/[:.]/g, '-')
  const file = options.out ?? path.join(root, '.bench', `results-${stamp}.json`)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n')
  const charts: string[] = []
  const svg = ratioChart(results)
  if (svg !== undefined) {
    charts.push(options.svg ?? path.join(path.dirname(file), `ratios-${stamp}.svg`))
    if (options.isDefaultRun && options.svg === undefined) charts.push(path.join(root, 'bench', 'results', 'ratios.svg'))
    for (const chart of charts) {
      fs.mkdirSync(path.dirname(chart), { recursive: true })
      fs.writeFileSync(chart, svg)
    }
  }

  console.log(`machine: ${machineLine(results.machine)}`)
  console.log('')
  console.log(textTables(results))
  console.log('Markdown (for the README):')
  console.log('')
  console.log(markdown(results))
  const shown = (f: string): string => {
    const relative = path.relative(process.cwd(), f)
    return relative === '' || relative.startsWith('..') ? f : relative
  }
  console.log(`results written to ${shown(file)}`)
  for (const chart of charts) console.log(`chart of the ratios rough/classic written to ${shown(chart)}`)
  console.log(`the run took ${duration(results.durationMs)}; load average ${results.machine.loadAverage.join(' ')} ` +
    `at the start, ${results.machine.loadAverageAtEnd.join(' ')} at the end`)
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
