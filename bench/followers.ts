// Issue 15's "the writer's throughput is not affected by readers": a writer child fills a database (random
// 16-byte keys, db_bench's 100-byte values; a fifth as awaited puts, the rest as awaited batches of 1000, enough
// to flush and compact many times) alone, then beside follower children (read-only opens of the same
// directory) that loop on refresh(), a binary search of the writer's history with awaited gets, and a short
// iterator. Rounds alternate (alone, with followers, alone...) so that a busy spell on the shared machine hits
// both; each figure is its best round, and the result is the ratio.
//
// The followers' lag: the writer writes each key once, in a known order, and notes when each 100 (puts) or
// 1000 (batches) writes were acknowledged. After each refresh a follower finds how long a prefix of that order
// it sees (a binary search by get: it sees a prefix, never a gap) and notes the time; the lag of that view is
// how long ago the first write it misses had been acknowledged (0 if none had).
//
//   npm run build && node dist/bench/followers.js [--n=300000] [--rounds=3] [--followers=2] [--pause=0] [--read-every=1]
//     [--refresh-interval=0] [--read-interval=0]
//
// --pause=ms: each follower waits that long between catch-ups (0: back to back, a core's worth of work each).
// --read-every=k: a follower reads (the binary search and the iterator) after every k-th catch-up only, as one
// that refreshes on a timer and serves fewer reads than refreshes.
// --refresh-interval=ms: followers open with refreshInterval (the database catches up by itself on that timer)
// and never call refresh() while the writer writes: followers as users run them. --pause and --read-every
// then do not apply.
// --read-interval=ms: a follower reads at that interval (from the end of one read to the start of the next)
// instead of after its catch-ups. With --refresh-interval and no --read-interval, it reads at the refresh
// interval.
//
// The followers' CPU is split between their refreshes and their reads (process.cpuUsage around each; a
// follower runs no other thread), per catch-up and per 1000 writes followed: figures that a busy machine
// changes little, unlike the ratios. With --refresh-interval the catch-ups run on the database's timer, between
// and inside the reads' awaits, so only the total is printed: the follower's CPU per 1000 writes followed.
// Not a test: it prints figures and ratios, nothing passes or fails.
import { type ChildProcess, fork } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../index'
import { numberArg } from './args'
import { keyOf, mulberry32, permutation, ValuePool } from './data'

/** Wall-clock ms, comparable between processes. */
const now = (): number => performance.timeOrigin + performance.now()

/**
 * The main thread's time on a CPU and waiting in a run queue for one, ms (Linux's /proc/self/schedstat; zeros
 * elsewhere). What the wall clock adds beyond both is time blocked: the disk, a lock, the flush worker.
 */
function schedstat (): { cpuMs: number, queuedMs: number } {
  try {
    const [cpu, queued] = fs.readFileSync('/proc/self/schedstat', 'latin1').split(' ').map(Number)
    return { cpuMs: cpu / 1e6, queuedMs: queued / 1e6 }
  } catch {
    return { cpuMs: 0, queuedMs: 0 }
  }
}

interface WriterResult {
  putsPerSec: number
  batchPerSec: number
  /** Pairs (writes acknowledged, when), in order. */
  acked: Array<[number, number]>
  start: number
  end: number
  /** CPU time of the writer's process (its worker threads included) per 1000 writes, ms. */
  cpuPer1000: number
  /** The writer's main thread during the fill: on a CPU, waiting for one, and neither (blocked), ms. */
  main: { cpuMs: number, queuedMs: number, blockedMs: number }
}

interface FollowerResult {
  /** Pairs (when, length of the writer's order it saw) after each catch-up it read. */
  views: Array<[number, number]>
  /** CPU time the follower used while it looped, ms. */
  cpuMs: number
  loopMs: number
  /**
   * Catch-ups (refresh calls, the last one after the writer stopped included), and the CPU they took, ms;
   * those the database's refreshInterval ran are not counted.
   */
  catchUps: number
  refreshCpuMs: number
  /** Reads (binary search and iterator), and the CPU they took, ms. */
  reads: number
  readCpuMs: number
}

type ToChild = 'go' | 'stop'
type FromChild = 'open' | 'ready' | WriterResult | FollowerResult

const order = (n: number): Uint32Array => permutation(n, mulberry32(3))

function nextMessage<T extends FromChild> (proc: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`child exited with ${String(code)}`))
    proc.once('exit', onExit)
    proc.once('message', (m) => { proc.off('exit', onExit); resolve(m as T) })
  })
}

async function writer (dir: string, n: number): Promise<void> {
  const db = new RoughLevel(dir)
  await db.open()
  const values = new ValuePool(mulberry32(1))
  const keys = order(n)
  process.send?.('open')
  await new Promise((resolve) => process.once('message', resolve))
  const acked: Array<[number, number]> = []
  const singles = Math.floor(n / 5)
  const cpu = process.cpuUsage()
  const sched = schedstat()
  const start = now()
  for (let i = 0; i < singles; i++) {
    await db.put(keyOf(keys[i]), values.value(i))
    if ((i + 1) % 100 === 0) acked.push([i + 1, now()])
  }
  const mid = now()
  for (let i = singles; i < n; i += 1000) {
    const ops = []
    for (let j = i; j < Math.min(n, i + 1000); j++) ops.push({ type: 'put' as const, key: keyOf(keys[j]), value: values.value(j) })
    await db.batch(ops)
    acked.push([Math.min(n, i + 1000), now()])
  }
  const end = now()
  const used = process.cpuUsage(cpu)
  const after = schedstat()
  const cpuMs = after.cpuMs - sched.cpuMs
  const queuedMs = after.queuedMs - sched.queuedMs
  const result: WriterResult = {
    putsPerSec: singles / (mid - start) * 1000,
    batchPerSec: (n - singles) / (end - mid) * 1000,
    acked,
    start,
    end,
    cpuPer1000: (used.user + used.system) / n,
    main: { cpuMs, queuedMs, blockedMs: end - start - cpuMs - queuedMs }
  }
  process.send?.(result)
  await db.close()
}

/** CPU time (user and system) since `from`, ms. */
const cpuSince = (from: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1000
}

/** How a follower catches up and reads while the writer writes (the options of the same names, in ms). */
interface FollowerPlan {
  pauseMs: number
  readEvery: number
  /** 0: the follower calls refresh() itself, back to back (with pauseMs between). */
  refreshInterval: number
  /** 0: it reads after every readEvery-th of its catch-ups. */
  readInterval: number
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

async function follower (dir: string, n: number, plan: FollowerPlan, seed: number): Promise<void> {
  const { pauseMs, readEvery, refreshInterval, readInterval } = plan
  const db = new RoughLevel(dir, { readOnly: true, refreshInterval: refreshInterval > 0 ? refreshInterval : undefined })
  await db.open()
  const keys = order(n)
  const random = mulberry32(seed)
  let stopped = false
  process.once('message', () => { stopped = true })
  process.send?.('ready')
  const views: Array<[number, number]> = []
  const cpu = process.cpuUsage()
  const start = now()
  let seen = 0
  let catchUps = 0
  let refreshCpuMs = 0
  let reads = 0
  let readCpuMs = 0
  const refresh = async (): Promise<void> => {
    const before = process.cpuUsage()
    await db.refresh()
    refreshCpuMs += cpuSince(before)
    catchUps++
  }
  const read = async (): Promise<void> => {
    const before = process.cpuUsage()
    // The longest prefix of the writer's order present: seen only grows.
    let hi = n
    while (seen < hi) {
      const mid = Math.ceil((seen + hi) / 2)
      if (await db.get(keyOf(keys[mid - 1])) !== undefined) seen = mid
      else hi = mid - 1
    }
    views.push([now(), seen])
    await db.iterator({ gte: keyOf(Math.floor(random() * n)), limit: 10 }).all()
    readCpuMs += cpuSince(before)
    reads++
  }
  let lastRead = now()
  while (!stopped) {
    if (refreshInterval > 0) {
      // The database catches up on its timer; the follower only reads.
      await sleep(readInterval)
      await read()
      continue
    }
    await refresh()
    if (readInterval > 0 ? now() - lastRead >= readInterval : catchUps % readEvery === 0) {
      await read()
      lastRead = now()
    }
    // A turn of the event loop at least, so that 'stop' is heard.
    await sleep(pauseMs)
  }
  // The writer has stopped: one more catch-up and read, so that every follower has followed all n writes.
  await refresh()
  await read()
  if (seen !== n) throw new Error(`a follower saw ${seen} of the writer's ${n} writes after it stopped`)
  const used = process.cpuUsage(cpu)
  const result: FollowerResult = { views, cpuMs: (used.user + used.system) / 1000, loopMs: now() - start, catchUps, refreshCpuMs, reads, readCpuMs }
  process.send?.(result)
  await db.close()
}

interface Round {
  writer: WriterResult
  followers: FollowerResult[]
}

async function round (dir: string, n: number, followers: number, plan: FollowerPlan): Promise<Round> {
  const script = __filename
  const w = fork(script, ['writer', dir, String(n)])
  await nextMessage<'open'>(w)
  const readers = Array.from({ length: followers }, (_, i) => fork(script, ['follower', dir, String(n), JSON.stringify(plan), String(i + 7)]))
  await Promise.all(readers.map(async (f) => await nextMessage<'ready'>(f)))
  const done = nextMessage<WriterResult>(w)
  w.send('go' satisfies ToChild)
  const result = await done
  const followerResults = await Promise.all(readers.map(async (f) => {
    const r = nextMessage<FollowerResult>(f)
    f.send('stop' satisfies ToChild)
    return await r
  }))
  await Promise.all([w, ...readers].map(async (p) => await new Promise((resolve) => p.exitCode !== null ? resolve(p.exitCode) : p.once('exit', resolve))))
  return { writer: result, followers: followerResults }
}

/** Lags (ms) of the views taken while the writer wrote: how long ago the first write each missed was acknowledged. */
function lags (writer: WriterResult, views: Array<[number, number]>): number[] {
  const out: number[] = []
  for (const [t, seen] of views) {
    if (t < writer.start || t > writer.end) continue
    const missed = writer.acked.find(([count]) => count > seen)
    out.push(missed === undefined || missed[1] > t ? 0 : t - missed[1])
  }
  return out
}

const percentile = (sorted: number[], p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]

async function main (): Promise<void> {
  const [role, dir, nArg, planArg, seedArg] = process.argv.slice(2)
  if (role === 'writer') return await writer(dir, Number(nArg))
  if (role === 'follower') return await follower(dir, Number(nArg), JSON.parse(planArg) as FollowerPlan, Number(seedArg))
  const n = numberArg('n', 300000)
  const rounds = numberArg('rounds', 3)
  const followers = numberArg('followers', 2)
  const refreshInterval = numberArg('refresh-interval', 0)
  const plan: FollowerPlan = {
    pauseMs: numberArg('pause', 0),
    readEvery: Math.max(1, numberArg('read-every', 1)),
    refreshInterval,
    readInterval: numberArg('read-interval', refreshInterval)
  }
  const loadBefore = os.loadavg()
  console.log(`${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-bench-followers-'))
  try {
    const best = { alone: { putsPerSec: 0, batchPerSec: 0, cpuPer1000: Infinity }, with: { putsPerSec: 0, batchPerSec: 0, cpuPer1000: Infinity } }
    const allLags: number[] = []
    let followerMs = 0
    let followerCpuMs = 0
    const cpu = { catchUps: 0, refreshMs: 0, reads: 0, readMs: 0, totalMs: 0, followed: 0, loopMs: 0 }
    for (let r = 0; r < rounds; r++) {
      for (const count of r % 2 === 0 ? [0, followers] : [followers, 0]) {
        const dir = path.join(root, `${r}-${count}`)
        const res = await round(dir, n, count, plan)
        fs.rmSync(dir, { recursive: true, force: true })
        const b = count === 0 ? best.alone : best.with
        b.putsPerSec = Math.max(b.putsPerSec, res.writer.putsPerSec)
        b.batchPerSec = Math.max(b.batchPerSec, res.writer.batchPerSec)
        b.cpuPer1000 = Math.min(b.cpuPer1000, res.writer.cpuPer1000)
        for (const f of res.followers) {
          const l = lags(res.writer, f.views)
          allLags.push(...l)
          followerMs += res.writer.end - res.writer.start
          followerCpuMs += f.cpuMs * Math.min(1, (res.writer.end - res.writer.start) / f.loopMs)
          cpu.catchUps += f.catchUps
          cpu.refreshMs += f.refreshCpuMs
          cpu.reads += f.reads
          cpu.readMs += f.readCpuMs
          cpu.totalMs += f.cpuMs
          cpu.followed += n
          cpu.loopMs += f.loopMs
        }
        const m = res.writer.main
        console.log(`round ${r + 1}, ${count} followers: awaited put ${Math.round(res.writer.putsPerSec).toLocaleString('en')}/s, ` +
          `batches of 1000 ${Math.round(res.writer.batchPerSec).toLocaleString('en')}/s, writer CPU ${res.writer.cpuPer1000.toFixed(1)} ms per 1000 writes; ` +
          `its main thread ${m.cpuMs.toFixed(0)} ms on a CPU, ${m.queuedMs.toFixed(0)} ms waiting for one, ${m.blockedMs.toFixed(0)} ms blocked; load ${os.loadavg()[0].toFixed(2)}`)
      }
    }
    allLags.sort((a, b) => a - b)
    const line = (name: string, alone: number, withF: number): string =>
      `${name}: alone ${Math.round(alone).toLocaleString('en')}/s, beside ${followers} followers ${Math.round(withF).toLocaleString('en')}/s (with/alone ${(withF / alone).toFixed(3)})`
    const { pauseMs, readEvery, readInterval } = plan
    const reading = readInterval > 0 ? `reading every ${readInterval} ms` : `reading after every ${readEvery}`
    const how = refreshInterval > 0
      ? `followers catching up on a ${refreshInterval} ms refreshInterval, ${reading}`
      : `followers refreshing back to back, pausing ${pauseMs} ms between catch-ups, ${reading}`
    console.log(`${n.toLocaleString('en')} random puts (16-byte keys, 100-byte values), best of ${rounds}, ${how}:`)
    console.log(line('awaited put', best.alone.putsPerSec, best.with.putsPerSec))
    console.log(line('batches of 1000', best.alone.batchPerSec, best.with.batchPerSec))
    console.log(`writer CPU (its threads included) per 1000 writes: alone ${best.alone.cpuPer1000.toFixed(1)} ms, beside ${followers} followers ${best.with.cpuPer1000.toFixed(1)} ms (with/alone ${(best.with.cpuPer1000 / best.alone.cpuPer1000).toFixed(3)})`)
    const per1000 = (ms: number): string => (ms / cpu.followed * 1000).toFixed(1)
    const writerOwn = `the writer's own, alone: ${best.alone.cpuPer1000.toFixed(1)} ms`
    if (refreshInterval > 0) {
      console.log(`followers' CPU per 1000 writes followed: ${per1000(cpu.totalMs)} ms, catch-ups on the timer and ${cpu.reads} reads together (${writerOwn})`)
    } else {
      console.log(`followers' CPU: ${(cpu.refreshMs / cpu.catchUps).toFixed(2)} ms per catch-up (${cpu.catchUps} catch-ups), ${(cpu.readMs / cpu.reads).toFixed(2)} ms per read ` +
        `(${cpu.reads} reads, ${reading}); per 1000 writes followed: refreshes ${per1000(cpu.refreshMs)} ms + reads ${per1000(cpu.readMs)} ms = ` +
        `${per1000(cpu.refreshMs + cpu.readMs)} ms; the whole process ${per1000(cpu.totalMs)} ms (${writerOwn})`)
    }
    const catchUps = refreshInterval > 0 ? `catching up every ${refreshInterval} ms` : `${(cpu.catchUps / cpu.loopMs * 1000).toFixed(0)} catch-ups/s each`
    console.log(`followers: ${catchUps}, ${(cpu.reads / cpu.loopMs * 1000).toFixed(1)} reads/s each (~${Math.ceil(Math.log2(n))} gets at most and a 10-entry iterator), ` +
      `${(followerCpuMs / followerMs * 100).toFixed(0)}% of a core each; lag behind the writer's acknowledgements: ` +
      `median ${percentile(allLags, 0.5).toFixed(1)} ms, p99 ${percentile(allLags, 0.99).toFixed(1)} ms, max ${(allLags[allLags.length - 1] ?? NaN).toFixed(1)} ms`)
    console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
