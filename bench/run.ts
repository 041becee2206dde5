// `npm run bench`: drives rough-level, classic-level and memory-level through the same abstract-level calls, each
// engine and workload set in its own child process (bench/engine-runner.ts) so that peak RSS is the engine's own,
// one child at a time. Prints the machine, a table per set with ops/s and the ratios of rough to the others, and a
// Markdown copy of it for the README; writes everything as JSON to .bench/results-<timestamp>.json.
//
//   node dist/bench/run.js [--engines=rough,classic,memory] [--small | --large | --sets=small,large]
//                          [--n=30000] [--large-n=1000000] [--reads=100000] [--sync-n=2000]
//                          [--only=put,get,...] [--rounds=3] [--large-rounds=1] [--seed=N] [--timeout=300]
//
// Not a test: nothing here passes or fails; see bench/README.md.

import { fork } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  ENGINES, SETS, WORKLOADS, isChildMessage, type EngineName, type SetName, type WorkloadResult
} from './protocol'
import { type EngineRun, type Machine, type Results, machineLine, markdown, setTitle, summarize, textTables } from './report'

interface Options {
  engines: EngineName[]
  sets: SetName[]
  /** Arguments passed through to every child. */
  passThrough: string[]
  only: string[]
  rounds: Record<SetName, number>
  /** Seconds a child may go without finishing a workload before it is killed. */
  timeout: number
  recorded: Record<string, unknown>
}

const USAGE = `usage: node dist/bench/run.js [options]
  --engines=rough,classic,memory   engines to run, in this order (default all three)
  --small | --large                only the small (memtable) or the large (tables) set; default both
  --sets=small,large               the same, spelled out
  --n=30000                        entries in the small set
  --large-n=1000000                entries in the large set
  --reads=100000                   random lookups per read workload (get, getSync, getMany, has; both sets)
  --sync-n=2000                    puts in each sync workload
  --only=put,get                   run only these workloads (names as printed)
  --rounds=3                       rounds of the small set (every engine once per round; best round shown)
  --large-rounds=1                 rounds of the large set
  --seed=20241124                  seed of the PRNG that picks keys and orders
  --timeout=300                    seconds a child may go without finishing a workload before it is killed`

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
  for (const flag of flags) if (flag !== 'small' && flag !== 'large') throw new Error(`unknown flag --${flag}\n${USAGE}`)
  const known = ['engines', 'sets', 'n', 'large-n', 'reads', 'sync-n', 'only', 'rounds', 'large-rounds', 'seed', 'timeout']
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
  let sets = list(values.get('sets')) ?? [...SETS]
  if (flags.has('small') && !flags.has('large')) sets = ['small']
  if (flags.has('large') && !flags.has('small')) sets = ['large']
  for (const s of sets) if (!SETS.some((k) => k === s)) throw new Error(`unknown set ${s}; sets: ${SETS.join(', ')}`)
  const only = list(values.get('only')) ?? []
  const allWorkloads: string[] = [...WORKLOADS.small, ...WORKLOADS.large]
  for (const w of only) if (!allWorkloads.includes(w)) throw new Error(`unknown workload ${w}; workloads: ${allWorkloads.join(', ')}`)

  const recorded = {
    n: int('n', 30_000),
    largeN: int('large-n', 1_000_000),
    reads: int('reads', 100_000),
    syncN: int('sync-n', 2_000),
    seed: int('seed', 20241124),
    rounds: int('rounds', 3),
    largeRounds: int('large-rounds', 1),
    only,
    sets
  }
  return {
    engines: engines as EngineName[],
    sets: sets as SetName[],
    only,
    rounds: { small: recorded.rounds, large: recorded.largeRounds },
    timeout: int('timeout', 300),
    passThrough: [
      `--n=${recorded.n}`, `--large-n=${recorded.largeN}`, `--reads=${recorded.reads}`,
      `--sync-n=${recorded.syncN}`, `--seed=${recorded.seed}`, `--only=${only.join(',')}`
    ],
    recorded
  }
}

function machine (): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100)
  }
}

function progress (engine: EngineName, result: WorkloadResult): string {
  const figure = result.status !== 'ok'
    ? `${result.status}${result.note === undefined ? '' : ` (${result.note})`}`
    : result.unit === 'ms'
      ? `${result.ms.toFixed(1)} ms`
      : `${Math.round(result.opsPerSec).toLocaleString('en-US')} ops/s (${result.ops.toLocaleString('en-US')} in ${result.ms.toFixed(0)} ms)`
  return `  ${engine.padEnd(8)} ${result.name.padEnd(24)} ${figure}`
}

/** Runs one engine on one set in a child; resolves with whatever it reported, however it ended. */
function runChild (engine: EngineName, set: SetName, round: number, options: Options): Promise<EngineRun> {
  const runner = path.join(__dirname, 'engine-runner.js')
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
      run.error = `killed after ${options.timeout} s without progress${current === undefined ? '' : ` in ${current}`} (--timeout)`
      console.log(`  ${engine.padEnd(8)} ${run.error}`)
      child.kill('SIGKILL')
    }
    let deadline = setTimeout(stalled, options.timeout * 1000)
    let linger: NodeJS.Timeout | undefined
    child.on('message', (message: unknown) => {
      if (!isChildMessage(message)) return
      clearTimeout(deadline)
      deadline = setTimeout(stalled, options.timeout * 1000)
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

async function main (): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const results: Results = {
    startedAt: new Date().toISOString(),
    machine: machine(),
    options: options.recorded,
    engines: options.engines,
    runs: [],
    summary: []
  }
  console.log(`machine: ${machineLine(results.machine)}; load average ${results.machine.loadAverage.join(' ')}`)
  console.log('')

  for (const set of options.sets) {
    const selected = WORKLOADS[set].filter((w) => options.only.length === 0 || options.only.includes(w))
    if (selected.length === 0) continue
    console.log(`${setTitle(results, set)}`)
    const unavailable = new Set<EngineName>()
    const rounds = options.rounds[set]
    for (let round = 1; round <= rounds; round++) {
      if (rounds > 1) console.log(` round ${round} of ${rounds}`)
      for (const engine of options.engines) {
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

  const root = path.resolve(__dirname, '..', '..')
  const outDir = path.join(root, '.bench')
  fs.mkdirSync(outDir, { recursive: true })
  const file = path.join(outDir, `results-${results.startedAt.replace(/[:.]/g, '-')}.json`)
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n')

  console.log(`machine: ${machineLine(results.machine)}`)
  console.log('')
  console.log(textTables(results))
  console.log('Markdown (for the README):')
  console.log('')
  console.log(markdown(results))
  console.log(`results written to ${path.relative(process.cwd(), file) || file}`)
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
