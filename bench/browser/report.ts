// The browser benchmark's table (ops/s per engine, rough/browser-level, the issue's goals) as padded text for
// the terminal and as the Markdown record that run.ts writes into bench/results/ (named for the date and commit).
import { amount, count, machineLine, markdownLines, paddedLines, rate } from '../report'
import type { BrowserBenchResults, StorageBytes } from './run'
import { BROWSER_ENGINES, BROWSER_WORKLOADS, type BrowserEngine, type BrowserFigure, type BrowserWorkload } from './protocol'

/** Issue 16's goals: how many times browser-level's figure rough-level's should reach. */
const GOALS: Partial<Record<BrowserWorkload, number>> = { put: 10, 'batch-1000': 10, get: 5, getSync: 5, 'nextv-1000': 3 }

function opsPerSec (f: BrowserFigure): number {
  return f.ops / f.ms * 1000
}

function roundsOf (results: BrowserBenchResults, engine: BrowserEngine, workload: BrowserWorkload): BrowserFigure[] {
  return results.figures.filter((f) => f.engine === engine && f.workload === workload)
}

/** The best round: interference on a shared machine only ever slows one down. */
function figureOf (results: BrowserBenchResults, engine: BrowserEngine, workload: BrowserWorkload): BrowserFigure | undefined {
  const speed = (f: BrowserFigure): number => (workload === 'reopen' ? -f.ms : opsPerSec(f))
  return roundsOf(results, engine, workload).reduce<BrowserFigure | undefined>((best, f) => (best === undefined || speed(f) > speed(best) ? f : best), undefined)
}

function cell (f: BrowserFigure | undefined): string {
  if (f === undefined) return 'n/a'
  return f.workload === 'reopen' ? `${amount(f.ms)} ms` : rate(opsPerSec(f))
}

/** rough-level's speed over browser-level's; getSync is set against browser-level's get (it has no getSync). */
function ratio (results: BrowserBenchResults, workload: BrowserWorkload): number | undefined {
  const rough = figureOf(results, 'rough', workload)
  const other = figureOf(results, 'browser-level', workload === 'getSync' ? 'get' : workload)
  if (rough === undefined || other === undefined) return undefined
  return workload === 'reopen' ? other.ms / rough.ms : opsPerSec(rough) / opsPerSec(other)
}

function rows (results: BrowserBenchResults): string[][] {
  const head = ['workload', 'rough ops/s', 'browser-level ops/s', 'rough/browser-level', 'goal']
  return [head, ...BROWSER_WORKLOADS.map((w) => {
    const r = ratio(results, w)
    const goal = GOALS[w]
    return [
      w,
      cell(figureOf(results, 'rough', w)),
      w === 'getSync' ? 'n/a (ratio: its get)' : cell(figureOf(results, 'browser-level', w)),
      r === undefined ? '—' : r >= 1 ? r.toFixed(1) : r.toPrecision(2),
      goal === undefined ? '' : `>= ${goal}${r === undefined ? '' : r >= goal ? ' met' : ' NOT MET'}`
    ]
  })]
}

function notes (results: BrowserBenchResults): string[] {
  const { options } = results
  const lines: string[] = []
  const get = results.figures.find((f) => f.workload === 'get')
  if (get?.distinctKeys !== undefined) {
    // Draws with replacement: n(1 - (1 - 1/n)^r) distinct keys expected.
    const expected = options.entries * (1 - Math.pow(1 - 1 / options.entries, options.reads))
    lines.push(`random reads (get, getSync): ${count(options.reads)} keys drawn, ${count(get.distinctKeys)} distinct (${count(Math.round(expected))} expected of a uniform draw)`)
  }
  const wrong = results.figures.filter((f) => f.mismatches > 0)
  lines.push(wrong.length === 0
    ? 'every answer checked against the data written (each get\'s value; every scan in order, complete, with its values; the puts read back): none wrong'
    : `WRONG ANSWERS: ${wrong.map((f) => `${f.engine} ${f.workload}: ${count(f.mismatches)}`).join(', ')}`)
  for (const engine of BROWSER_ENGINES) {
    const growth = results.disk.filter((d) => d.engine === engine)
    const mb = (of: (s: StorageBytes) => number): string => growth.map((d) => amount((of(d.after) - of(d.before)) / 1e6)).join(', ')
    lines.push(`on disk while ${engine} ran (each round): the profile's OPFS grew by ${mb((s) => s.opfs)} MB, its IndexedDB by ${mb((s) => s.indexedDb)} MB`)
  }
  // Rounds that disagree by more than half: the best is shown, but the reader should know it moved.
  const unsteady: string[] = []
  for (const engine of BROWSER_ENGINES) {
    for (const workload of BROWSER_WORKLOADS) {
      const speeds = roundsOf(results, engine, workload).map((f) => (workload === 'reopen' ? 1 / f.ms : opsPerSec(f)))
      if (speeds.length > 1 && Math.max(...speeds) / Math.min(...speeds) > 1.5) {
        unsteady.push(`${engine} ${workload} ${roundsOf(results, engine, workload).map((f) => cell(f)).join(' / ')}`)
      }
    }
  }
  if (unsteady.length > 0) lines.push(`rounds more than 1.5x apart (in round order): ${unsteady.join('; ')}`)
  lines.push(`values: 100 bytes as db_bench makes them; snappy keeps ${Math.round(results.valueSnappyRatio * 100)}% of a block`)
  return lines
}

function title (results: BrowserBenchResults): string {
  const { options } = results
  return `${count(options.entries)} entries (16-byte keys, 100-byte values) filled in random order by batch-1000, then reopened and ` +
    `read; put: ${count(options.puts)} awaited puts into a database of their own; get, getSync: ${count(options.reads)} random keys; ` +
    `seed ${options.seed}. Each engine in a dedicated worker, after an untimed warm-up; ` +
    `${options.rounds === 1 ? 'one round' : `best of ${options.rounds} rounds, the engines alternating`}.`
}

function machineText (results: BrowserBenchResults): string {
  return `Machine: ${machineLine(results.machine)}. Browser: ${results.chromium}, headless (${results.userAgent}). ` +
    `Load average ${results.machine.loadAverage.join(' ')} at the start, ${results.machine.loadAverageAtEnd.join(' ')} at the end; ` +
    `the run took ${(results.durationMs / 1000).toFixed(0)} s. Only the ratios within one run mean anything.`
}

export function browserTable (results: BrowserBenchResults): string {
  const [head, ...body] = rows(results)
  const out = [machineText(results), title(results), '', ...paddedLines(head, body)]
  for (const line of notes(results)) out.push(`  * ${line}`)
  return out.join('\n')
}

export function browserMarkdown (results: BrowserBenchResults, revision: string): string {
  const [head, ...body] = rows(results)
  return [
    `# \`npm run bench:browser\`, ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC (${revision})`,
    '',
    'rough-level on OPFS beside browser-level 3 on IndexedDB in the same headless Chromium, its profile on disk.',
    '',
    machineText(results),
    '',
    `**${title(results)}**`,
    '',
    ...markdownLines(head, body),
    '',
    ...notes(results).map((line) => `- ${line}`),
    ''
  ].join('\n')
}
