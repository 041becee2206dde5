// The browser benchmark's worker (bundled by run.ts for Chromium, one worker per engine): runs every workload
// of protocol.ts on rough-level over OPFS or on browser-level over IndexedDB, through the same abstract-level
// calls, and checks every answer against the data it wrote (bench/data.ts: the Node bench's keys, values and
// seeded randomness).
import { openOpfs, RoughLevel } from '../../browser'
import { BrowserLevel } from 'browser-level'
import { catchEverything, reportError, scope } from '../../test/browser/worker-scope'
import { supportsGetSync } from '../get-sync'
import { distinct, keyOf, mulberry32, permutation, sample, streamSeed, ValuePool } from '../data'
import type { BrowserBenchMessage, BrowserBenchOptions, BrowserEngine, BrowserFigure, BrowserWorkload, RunRequest } from './protocol'

catchEverything()

/** Either engine, with utf8 keys and values. */
type BenchDb = RoughLevel<string, string> | BrowserLevel<string, string>

const BATCH = 1000

function post (message: BrowserBenchMessage): void {
  scope.postMessage(message)
}

function database (engine: BrowserEngine, name: string): BenchDb {
  return engine === 'rough' ? new RoughLevel<string, string>(`/${name}`) : new BrowserLevel<string, string>(name)
}

/** Reads the whole database in order with nextv(1000): entries must be keyOf(0), keyOf(1), ... with their values. */
async function scan (db: BenchDb, expected: number, values: ValuePool): Promise<{ count: number, mismatches: number }> {
  const it = db.iterator()
  let count = 0
  let mismatches = 0
  for (let entries = await it.nextv(BATCH); entries.length > 0; entries = await it.nextv(BATCH)) {
    for (const [key, value] of entries) {
      if (key !== keyOf(count) || value !== values.value(count)) mismatches++
      count++
    }
  }
  await it.close()
  return { count, mismatches: mismatches + Math.abs(count - expected) }
}

/** Runs the workloads on one engine; `report` receives each figure as it is taken. */
async function runEngine (engine: BrowserEngine, options: BrowserBenchOptions, prefix: string, report: (figure: BrowserFigure) => void): Promise<void> {
  const { entries, puts, reads, seed } = options
  const values = new ValuePool(mulberry32(streamSeed(seed, 'values')))
  const figure = (workload: BrowserWorkload, ops: number, ms: number, mismatches: number, distinctKeys?: number): void =>
    report({ engine, workload, ops, ms, mismatches, distinctKeys })

  // put: awaited puts, one at a time, in a random order, into a database of their own.
  const putDb = database(engine, `${prefix}put`)
  await putDb.open()
  const putOrder = permutation(puts, mulberry32(streamSeed(seed, 'put')))
  let start = performance.now()
  for (let i = 0; i < puts; i++) await putDb.put(keyOf(putOrder[i]), values.value(putOrder[i]))
  let ms = performance.now() - start
  figure('put', puts, ms, (await scan(putDb, puts, values)).mismatches)
  await putDb.close()

  // batch-1000: the main database, filled in a random order.
  const db = database(engine, `${prefix}main`)
  await db.open()
  const fillOrder = permutation(entries, mulberry32(streamSeed(seed, 'fill')))
  const batches: Array<Array<{ type: 'put', key: string, value: string }>> = []
  for (let i = 0; i < entries; i += BATCH) {
    const ops: Array<{ type: 'put', key: string, value: string }> = []
    for (let j = i; j < Math.min(entries, i + BATCH); j++) ops.push({ type: 'put', key: keyOf(fillOrder[j]), value: values.value(fillOrder[j]) })
    batches.push(ops)
  }
  start = performance.now()
  for (const ops of batches) await db.batch(ops)
  ms = performance.now() - start
  batches.length = 0
  figure('batch-1000', entries, ms, 0)

  start = performance.now()
  await db.close()
  await db.open()
  figure('reopen', 1, performance.now() - start, 0)

  // get and getSync read the same random keys; every answer is compared with the value written.
  const keys = sample(entries, reads, mulberry32(streamSeed(seed, 'reads')))
  const distinctKeys = distinct(keys)
  let wrong = 0
  start = performance.now()
  for (let i = 0; i < reads; i++) if (await db.get(keyOf(keys[i])) !== values.value(keys[i])) wrong++
  figure('get', reads, performance.now() - start, wrong, distinctKeys)

  if (supportsGetSync(db)) {
    wrong = 0
    start = performance.now()
    for (let i = 0; i < reads; i++) if (db.getSync(keyOf(keys[i])) !== values.value(keys[i])) wrong++
    figure('getSync', reads, performance.now() - start, wrong, distinctKeys)
  }

  start = performance.now()
  const scanned = await scan(db, entries, values)
  figure('nextv-1000', scanned.count, performance.now() - start, scanned.mismatches)
  await db.close()
}

/** A small run on databases of their own first, untimed, so that the timed one does not pay for compiling JavaScript. */
async function warmUp (engine: BrowserEngine, seed: number, prefix: string): Promise<void> {
  await runEngine(engine, { entries: 3000, puts: 500, reads: 2000, seed, rounds: 1 }, `${prefix}warm-up-`, () => {})
}

async function run ({ engine, options, round }: RunRequest): Promise<void> {
  // A pool per round: the last round's worker, terminated, may hold its handles for a while yet.
  if (engine === 'rough') await openOpfs({ pool: `bench-${round}` })
  const prefix = `r${round}-`
  await warmUp(engine, options.seed, prefix)
  await runEngine(engine, options, prefix, (figure) => post({ type: 'figure', figure }))
  post({ type: 'finished', engine, userAgent: (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent })
}

scope.addEventListener('message', (event) => {
  run(event.data as RunRequest).catch(reportError)
})
