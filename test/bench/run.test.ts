// A smoke run of `npm run bench` on a tiny database, so that the benchmark cannot rot unnoticed: the runner, its
// children and its reports run end to end for rough-level and memory-level, and the JSON holds every column for
// every workload (ops/s, event loop, peak RSS, bytes written; distinct keys for random reads; latencies for YCSB).
import test from 'tape'
import { execFile } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ratioChart } from '../../bench/chart'
import type { WorkloadResult } from '../../bench/protocol'
import type { Results } from '../../bench/report'

const RUNNER = path.join(__dirname, '..', '..', 'bench', 'run.js')
const N = 2000
const YCSB_OPS = 1000
/** What each set runs here: a couple of workloads of each kind. */
const SELECTED: Record<string, string[]> = {
  small: ['put', 'getSync'],
  'scale-2k-random-100': ['fill', 'get@fill', 'close', 'open', 'scan-forward@reopen'],
  ycsb: ['ycsb-a']
}

function runBench (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUNNER, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

/** Well-formed XML in the subset the chart writes: balanced elements, quoted attributes, escaped text. */
function xmlProblem (text: string): string | undefined {
  const stack: string[] = []
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<&]*")*)\s*(\/?)>/y
  let at = 0
  while (at < text.length) {
    const lt = text.indexOf('<', at)
    const chunk = text.slice(at, lt === -1 ? text.length : lt)
    if (/&(?!amp;|lt;|gt;|quot;)/.test(chunk) || chunk.includes('>')) return `unescaped text near ${at}: ${chunk.slice(0, 40)}`
    if (lt === -1) break
    tag.lastIndex = lt
    const m = tag.exec(text)
    if (m === null) return `malformed tag at ${lt}: ${text.slice(lt, lt + 60)}`
    if (m[1] === '/') {
      if (stack.pop() !== m[2]) return `</${m[2]}> closes nothing open at ${lt}`
    } else if (m[4] !== '/') stack.push(m[2])
    at = tag.lastIndex
  }
  return stack.length === 0 ? undefined : `unclosed <${stack.join('>, <')}>`
}

function finite (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

test('npm run bench on 2,000 keys reports every column of every workload for rough and memory', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-bench-smoke-'))
  const out = path.join(dir, 'results.json')
  const svg = path.join(dir, 'ratios.svg')
  try {
    const run = await runBench([
      '--engines=rough,memory', `--sets=${Object.keys(SELECTED).join(',')}`, `--only=${Object.values(SELECTED).flat().join(',')}`,
      `--n=${N}`, `--reads=${N}`, '--sync-n=20', `--ycsb-records=${N}`, `--ycsb-ops=${YCSB_OPS}`, '--rounds=1', '--warm-up=200',
      `--out=${out}`, `--svg=${svg}`
    ])
    t.is(run.code, 0, `the runner exits cleanly${run.stderr === '' ? '' : `: ${run.stderr.slice(0, 500)}`}`)
    const results = JSON.parse(fs.readFileSync(out, 'utf8')) as Results
    t.deepEqual(results.sets, Object.keys(SELECTED), 'every set ran, in order')
    t.ok(results.valueSnappyRatio > 0.4 && results.valueSnappyRatio < 0.65, `values compress to about half (${results.valueSnappyRatio.toFixed(2)})`)
    for (const text of ['loop max / p99 ms', 'written MB', 'p50 / p99 / p99.9']) t.ok(run.stdout.includes(text), `the tables show ${text}`)

    for (const engine of ['rough', 'memory'] as const) {
      for (const [set, names] of Object.entries(SELECTED)) {
        const summary = results.summary.find((s) => s.engine === engine && s.set === set)
        if (summary === undefined) {
          t.fail(`${engine} ${set}: no summary`)
          continue
        }
        t.is(summary.error, undefined, `${engine} ${set}: the child ran to its end`)
        t.ok(finite(summary.maxRssMB) && summary.maxRssMB > 0 && finite(summary.rssBeforeOpenMB), `${engine} ${set}: peak RSS and harness RSS`)
        t.deepEqual(summary.workloads.map((w) => w.name), names, `${engine} ${set}: exactly the selected workloads`)
        for (const w of summary.workloads) checkWorkload(t, `${engine} ${set} ${w.name}`, w)
      }
    }

    const of = (engine: string, set: string, name: string): WorkloadResult | undefined =>
      results.summary.find((s) => s.engine === engine && s.set === set)?.workloads.find((w) => w.name === name)
    // 2,000 uniform draws among 2,000 keys hit 2000 * (1 - (1 - 1/2000)^2000) = 1,264 distinct keys on average
    // (standard deviation about 15); a generator that cycles early would hit far fewer.
    const distinct = of('rough', 'scale-2k-random-100', 'get@fill')?.distinctKeys ?? 0
    t.ok(distinct > 1180 && distinct < 1350, `random reads draw ${distinct} distinct keys of ${N}, as a uniform draw does`)
    const fillWritten = of('rough', 'scale-2k-random-100', 'fill')?.usage?.writtenBytes ?? 0
    t.ok(fillWritten >= N * 116, `rough-level's fill wrote its log (${fillWritten} bytes for ${N} entries of 116 bytes)`)
    const open = of('rough', 'scale-2k-random-100', 'open')
    t.ok((open?.facts?.logBytes ?? 0) >= N * 116, 'the open found the fill\'s log to replay')
    t.is(of('memory', 'scale-2k-random-100', 'scan-forward@reopen')?.ops, N, 'the scan after the reopen saw every entry')

    for (const engine of ['rough', 'memory']) {
      const a = of(engine, 'ycsb', 'ycsb-a')
      const read = a?.latencies?.read
      const update = a?.latencies?.update
      t.is((read?.count ?? 0) + (update?.count ?? 0), YCSB_OPS, `${engine} ycsb-a: every operation is a read or an update`)
      t.ok((read?.count ?? 0) > 400 && (read?.count ?? 0) < 600, `${engine} ycsb-a: about half of them reads (${read?.count ?? 0})`)
      for (const f of [read, update]) {
        t.ok(f !== undefined && f.p50Us <= f.p99Us && f.p99Us <= f.p999Us && f.p999Us <= f.maxUs, `${engine} ycsb-a: percentiles in order`)
      }
      // Zipfian requests repeat the popular records: far fewer distinct keys than 1,000 uniform draws (~780).
      t.ok((a?.distinctKeys ?? YCSB_OPS) < 700, `${engine} ycsb-a: zipfian requests touch ${a?.distinctKeys ?? '?'} distinct records`)
    }

    const chart = ratioChart(results, 'memory')
    t.is(xmlProblem(chart ?? ''), undefined, 'the chart of rough over memory is well-formed SVG')
    const bars = (chart ?? '').match(/<rect [^>]*fill="#(2e7d32|c62828)"/g)?.length ?? 0
    const both = Object.values(SELECTED).flat().length
    t.is(bars, both, 'one bar per workload both engines ran')
    t.notOk(fs.existsSync(svg), 'no rough/classic chart without classic-level')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

function checkWorkload (t: test.Test, label: string, w: WorkloadResult): void {
  t.is(w.status, 'ok', `${label}: ok${w.note === undefined ? '' : ` (${w.note})`}`)
  t.ok(w.ops > 0 && w.ms > 0 && w.opsPerSec > 0, `${label}: ops, ms, ops/s`)
  const loop = w.loop
  t.ok(loop !== undefined && finite(loop.maxGapMs) && loop.maxGapMs > 0 && finite(loop.p99Ms) && loop.p99Ms >= 0 &&
    Number.isInteger(loop.samples), `${label}: event-loop max gap and p99`)
  const usage = w.usage
  t.ok(usage !== undefined && finite(usage.peakRssMB) && usage.peakRssMB > 0 && Number.isInteger(usage.writtenBytes) &&
    usage.writtenBytes >= 0, `${label}: peak RSS and bytes written`)
  if (/^(get|getSync|getMany|has)\b/.test(w.name)) t.ok(finite(w.distinctKeys), `${label}: distinct keys read`)
  if (w.name.startsWith('ycsb-')) t.ok(w.latencies !== undefined && Object.keys(w.latencies).length > 0, `${label}: latencies`)
}
