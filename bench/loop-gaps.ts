// Where the event loop's gaps come from (issue 11): a workload runs beside a 1 ms timer while V8's CPU profiler
// samples the main thread, and each gap between the timer's callbacks is charged with the main thread's own
// run time inside it: the profile's sample intervals that are short (the thread ran) and not idle. Time on the
// run queue (another process, or our own threads, had the core) shows as long sample intervals and drops out,
// so the figures hold on a loaded machine, where wall-clock gaps mostly measure the load. The report ranks the
// gaps by run time and names the functions that ran in those over the threshold.
//
//   node dist/bench/loop-gaps.js fill|puts|nextv|gets|open [--n=1000000] [--reads=100000] [--over=2] [--show=4]
//
// fill: n random 16-byte keys with 100-byte db_bench values, in awaited batches of 100 (the scale set's fill).
// puts: n awaited puts of those keys and values into the memtable (the small set's put, n=30000).
// nextv: n such puts, then three full passes of nextv(1000) (the small set's nextv-1000-forward, n=30000).
// gets: that fill, then `reads` awaited random gets at once, while its compactions run (the scale set's get@fill).
// open: that fill, a close that leaves a log to replay, and the open timed (the scale set's open).
import { Session } from 'node:inspector'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../index'
import { keyOf, mulberry32, ValuePool } from './data'

const SAMPLING_US = 100

interface Gap { start: number, end: number }
interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, samples: number[], timeDeltas: number[] }

function arg (name: string, fallback: number): number {
  const m = process.argv.find((a) => a.startsWith(`--${name}=`))
  return m === undefined ? fallback : Number(m.slice(name.length + 3))
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

/** Records the gaps over 1.5 ms between a 1 ms timer's callbacks, in the profiler's clock (us). */
function watchGaps (): { gaps: Gap[], stop: () => void } {
  const gaps: Gap[] = []
  let last = nowUs()
  const timer = setInterval(() => {
    const now = nowUs()
    if (now - last > 1500) gaps.push({ start: last, end: now })
    last = now
  }, 1)
  return { gaps, stop: () => clearInterval(timer) }
}

function post<T> (session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (err, result) => err !== null ? reject(err) : resolve(result as T)))
}

/** The fill's randomness and values, made before anything is timed (the pool takes tens of ms). */
const random = mulberry32(20241130)
const values = new ValuePool(random)

async function fill (db: RoughLevel<string, string>, n: number): Promise<string[]> {
  const drawn: string[] = []
  for (let i = 0; i < n; i += 100) {
    const ops = []
    for (let j = 0; j < 100; j++) {
      const key = keyOf(Math.floor(random() * n * 10))
      if ((i + j) % 10 === 0) drawn.push(key)
      ops.push({ type: 'put' as const, key, value: values.value(i + j) })
    }
    await db.batch(ops)
  }
  return drawn
}

/** Runs the workload and returns the gaps seen while its timed part ran. */
async function run (workload: string, dir: string, session: Session): Promise<{ gaps: Gap[], ms: number }> {
  const n = arg('n', 1_000_000)
  let db = new RoughLevel<string, string>(dir)
  await db.open()
  const profile = async <T>(work: () => Promise<T>): Promise<{ gaps: Gap[], ms: number }> => {
    await post(session, 'Profiler.start')
    const watch = watchGaps()
    const t0 = performance.now()
    await work()
    const ms = performance.now() - t0
    watch.stop()
    return { gaps: watch.gaps, ms }
  }
  try {
    if (workload === 'fill') return await profile(async () => await fill(db, n))
    if (workload === 'nextv') {
      // The small set's nextv-1000-forward: n entries in the memtable, read three times by nextv(1000).
      for (let i = 0; i < n; i++) await db.put(keyOf(Math.floor(random() * n * 10)), values.value(i))
      return await profile(async () => {
        for (let pass = 0; pass < 3; pass++) {
          const it = db.iterator()
          while ((await it.nextv(1000)).length > 0);
          await it.close()
        }
      })
    }
    if (workload === 'puts') {
      // The small set's put: awaited puts into the memtable, after the bench's warm-up of 2,000 calls.
      const value = values.value(0)
      for (let i = 0; i < 2000; i++) await db.put(`warm-${i}`, value)
      const keys = Array.from({ length: n }, () => keyOf(Math.floor(random() * n * 10)))
      return await profile(async () => { for (let i = 0; i < n; i++) await db.put(keys[i], values.value(i)) })
    }
    const drawn = await fill(db, n)
    if (workload === 'gets') {
      const reads = arg('reads', 100_000)
      return await profile(async () => { for (let i = 0; i < reads; i++) await db.get(drawn[(i * 7919) % drawn.length]) })
    }
    if (workload !== 'open') throw new Error(`unknown workload ${workload}: fill, puts, nextv, gets or open`)
    await db.close()
    db = new RoughLevel<string, string>(dir)
    return await profile(async () => await db.open())
  } finally {
    await db.close()
  }
}

function report (profile: Profile, gaps: Gap[], ms: number, overMs: number, show: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const name = (node: ProfileNode): string => `${node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`
  const times: number[] = []
  let t = profile.startTime
  for (const delta of profile.timeDeltas) times.push(t += delta)
  // Each sample charged with the interval since the previous one, when the thread ran all of it.
  const ran = (i: number): number => {
    const dt = times[i] - times[i - 1]
    return dt <= 3 * SAMPLING_US && byId.get(profile.samples[i])!.callFrame.functionName !== '(idle)' ? dt : 0
  }
  const rows = gaps.map((gap) => {
    let run = 0
    const samples: number[] = []
    for (let i = 1; i < times.length; i++) {
      if (times[i] < gap.start || times[i] > gap.end) continue
      const dt = ran(i)
      if (dt > 0) { run += dt; samples.push(i) }
    }
    return { gap, run: run / 1000, samples }
  }).sort((a, b) => b.run - a.run)
  const over = rows.filter((r) => r.run > overMs)
  const timerTicks = Math.round(ms)
  console.log(`${ms.toFixed(0)} ms; timer gaps over 1.5 ms: ${rows.length}; the main thread's own run time in a gap: max ${(rows[0]?.run ?? 0).toFixed(1)} ms, over ${overMs} ms in ${over.length} (${(over.length / timerTicks * 100).toFixed(2)}% of ~${timerTicks} timer periods)`)
  const inclusive = new Map<string, number>()
  let total = 0
  for (const row of over) {
    for (const i of row.samples) {
      const dt = ran(i)
      total += dt
      const seen = new Set<string>()
      for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
        const frame = name(byId.get(id)!)
        if (!seen.has(frame)) inclusive.set(frame, (inclusive.get(frame) ?? 0) + dt)
        seen.add(frame)
      }
    }
  }
  if (total > 0) {
    console.log(`run time in the gaps over ${overMs} ms, by function (inclusive):`)
    for (const [frame, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(1, 31)) console.log(`  ${(us / total * 100).toFixed(1).padStart(5)}%  ${frame}`)
  }
  for (const row of rows.slice(0, show)) {
    const self = new Map<string, number>()
    for (const i of row.samples) { const frame = name(byId.get(profile.samples[i])!); self.set(frame, (self.get(frame) ?? 0) + ran(i)) }
    console.log(`gap of ${((row.gap.end - row.gap.start) / 1000).toFixed(1)} ms, ${row.run.toFixed(1)} ms of it run: ${[...self].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([f, us]) => `${f} ${(us / 1000).toFixed(1)}`).join('; ')}`)
  }
}

async function main (): Promise<void> {
  const workload = process.argv[2] ?? 'fill'
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-loop-gaps-'))
  const session = new Session()
  session.connect()
  try {
    await post(session, 'Profiler.enable')
    await post(session, 'Profiler.setSamplingInterval', { interval: SAMPLING_US })
    const { gaps, ms } = await run(workload, dir, session)
    const { profile } = await post<{ profile: Profile }>(session, 'Profiler.stop')
    report(profile, gaps, ms, arg('over', 2), arg('show', 4))
  } finally {
    session.disconnect()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
