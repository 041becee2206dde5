// `npm run bench:browser` (bench/README.md): rough-level on OPFS beside browser-level on IndexedDB, in one
// headless Chromium with its profile on disk, each engine in a dedicated worker of its own (worker.ts), one
// after the other, round after round (so that a slow spell on a shared machine hits both engines; each figure
// is its best round). Prints ops/s per engine and the ratios, and writes a Markdown record into bench/results/.
//
//   node dist/bench/browser/run.js [--entries=200000] [--puts=5000] [--reads=20000] [--rounds=3] [--seed=20241124] [--out=FILE]
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { bundleWorker, CHROMIUM, openSession, type WorkerMessage } from '../../test/browser/harness'
import { numberArg } from '../args'
import { mulberry32, snappyRatio, streamSeed, ValuePool } from '../data'
import { loadAverage, machine } from '../machine'
import type { Machine } from '../report'
import { browserMarkdown, browserTable } from './report'
import { BROWSER_ENGINES, type BrowserBenchMessage, type BrowserBenchOptions, type BrowserEngine, type RoundFigure, type RunRequest } from './protocol'

/** An engine that reports nothing for this long has hung: the run fails rather than waiting for ever. */
const STALL_MS = 600_000

/** The bytes under the profile's Default/File System (OPFS) and Default/IndexedDB (browser-level). */
export interface StorageBytes {
  opfs: number
  indexedDb: number
}

/** The profile's storage before and after one engine's round: the proof that it wrote to disk. */
export interface DiskUse {
  engine: BrowserEngine
  round: number
  before: StorageBytes
  after: StorageBytes
}

export interface BrowserBenchResults {
  options: BrowserBenchOptions
  machine: Machine & { loadAverageAtEnd: number[] }
  chromium: string
  userAgent: string
  /** Compressed over raw size of a block of values (bench/data.ts): about 0.55, not 0. */
  valueSnappyRatio: number
  /** Every round's. */
  figures: RoundFigure[]
  disk: DiskUse[]
  startedAt: string
  durationMs: number
}

/** The bytes of every file under dir (0 if it does not exist). */
function treeBytes (dir: string): number {
  if (!fs.existsSync(dir)) return 0
  let bytes = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size
  }
  return bytes
}

function storageBytes (profileDir: string): StorageBytes {
  return { opfs: treeBytes(path.join(profileDir, 'Default', 'File System')), indexedDb: treeBytes(path.join(profileDir, 'Default', 'IndexedDB')) }
}

/** Runs both engines; `log` sees a progress line per figure. */
export async function runBrowserBench (options: BrowserBenchOptions, log: (line: string) => void = () => {}): Promise<BrowserBenchResults> {
  const startedAt = new Date()
  const startMachine = machine()
  const script = await bundleWorker(path.join(__dirname, 'worker.js'))
  const figures: RoundFigure[] = []
  let round = 0
  const disk: DiskUse[] = []
  let userAgent = ''
  let settle: ((error?: Error) => void) | undefined
  const session = await openSession(script, (message: WorkerMessage) => {
    if (message.type === 'error') {
      settle?.(new Error(`worker ${String(message.worker)}: ${String(message.message)}`))
      return
    }
    const m = message as unknown as BrowserBenchMessage
    if (m.type === 'figure') {
      const f = { ...m.figure, round }
      figures.push(f)
      log(`  ${round + 1}  ${f.engine.padEnd(14)} ${f.workload.padEnd(11)} ${f.workload === 'reopen' ? `${f.ms.toFixed(1)} ms` : `${Math.round(f.ops / f.ms * 1000).toLocaleString('en-US')} ops/s`}` +
        `${f.mismatches > 0 ? `  ${f.mismatches} WRONG ANSWERS` : ''}`)
    } else if (m.type === 'finished') {
      userAgent = m.userAgent
      settle?.()
    }
  }, { onDisk: true })
  try {
    const profileDir = session.profileDir
    if (profileDir === undefined) throw new Error('the session has no profile on disk')
    for (; round < options.rounds; round++) for (const engine of BROWSER_ENGINES) {
      const id = `${engine}-${round}`
      const request: RunRequest = { engine, options, round }
      const before = storageBytes(profileDir)
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${engine}: nothing reported for ${STALL_MS / 1000} s`)), STALL_MS)
        let reported = figures.length
        const stall = setInterval(() => {
          if (figures.length === reported) return
          reported = figures.length
          timer.refresh()
        }, 1000)
        settle = (error) => {
          clearTimeout(timer)
          clearInterval(stall)
          if (error === undefined) resolve()
          else reject(error)
        }
        session.startWorker(id)
          .then(() => session.postToWorker(id, request))
          .catch(reject)
      })
      await session.terminateWorker(id)
      disk.push({ engine, round, before, after: storageBytes(profileDir) })
    }
  } finally {
    await session.close()
  }
  return {
    options,
    machine: { ...startMachine, loadAverageAtEnd: loadAverage() },
    // Debian's wrapper script complains on stderr about this machine's memory size: noise.
    chromium: execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    userAgent,
    valueSnappyRatio: snappyRatio(new ValuePool(mulberry32(streamSeed(options.seed, 'values')))),
    figures,
    disk,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime()
  }
}

function stringArg (name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}

async function main (): Promise<void> {
  const options: BrowserBenchOptions = {
    entries: numberArg('entries', 200_000),
    puts: numberArg('puts', 5000),
    reads: numberArg('reads', 20_000),
    seed: numberArg('seed', 20241124),
    rounds: numberArg('rounds', 3)
  }
  console.log(`rough-level (OPFS) and browser-level (IndexedDB) in ${path.basename(CHROMIUM)}, profile on disk; ` +
    `${options.entries.toLocaleString('en-US')} entries, ${options.puts.toLocaleString('en-US')} puts, ${options.reads.toLocaleString('en-US')} reads, ` +
    `${options.rounds} rounds, seed ${options.seed}`)
  const results = await runBrowserBench(options, console.log)
  console.log('')
  console.log(browserTable(results))
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { encoding: 'utf8' }).trim()
  const out = stringArg('out') ?? path.join('bench', 'results', `${results.startedAt.slice(0, 10)}-${commit}-browser.md`)
  fs.writeFileSync(out, browserMarkdown(results, `${branch} at ${commit}`))
  console.log(`record written to ${out}`)
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  })
}
