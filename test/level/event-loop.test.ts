// The event loop's budget through the Level API: every loop of calls a user writes (awaited one at a time,
// in flight together, iterated, cleared, opened and closed) lets timers run. A 1 ms setInterval beside each
// loop records the longest gap between its callbacks; the bound is generous (a loaded CI machine) so that it
// catches a loop that never yields, which holds the loop for the whole run (each loop below runs for several
// times the bound), not the figure: bench/ measures that. The garbage collector's pauses inside a gap are not
// counted against the bound (they are reported beside it): tens of thousands of the caller's promises in
// flight make a scavenge long in any engine, and on a loaded machine its parallel phases wait for helper
// threads that are not running.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { PerformanceObserver } from 'node:perf_hooks'
import { RoughLevel } from '../../index'
import { prng } from '../fixtures/level-child'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-event-loop-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

/**
 * The longest the event loop may go without running a timer: 100 ms on a machine with a core to spare,
 * stretched in proportion where more threads want to run than there are cores (then every process waits its
 * turn for the CPU, whatever it does).
 */
function boundMs (): number {
  return 100 * Math.max(1, os.loadavg()[0] / os.availableParallelism())
}

const key = (i: number): string => `k${String(i).padStart(9, '0')}`
const value = (i: number): string => `value-${i}-`.padEnd(100, String.fromCharCode(97 + (i % 26)))

interface Watch {
  /** Longest gap between two ticks of the 1 ms interval, less the collector's pauses inside it, in ms. */
  gap: number
  /** The collector's pauses inside that gap, in ms. */
  gcInGap: number
  /** Wall time of the loop, in ms. */
  ms: number
  /** Ticks of the interval while the body ran. */
  ticks: number
  /** Most steps the body took between two ticks, and in all (loops count their steps). */
  stepsBetweenTicks: number
  steps: number
}

/**
 * Runs body with a 1 ms interval beside it. A loop calls step() once per call it makes, so that what it
 * did between two ticks can be judged without the clock: a machine too busy to run the process stretches
 * gaps, but never fits more work between two ticks.
 */
async function watch (body: (step: () => void, restart: () => void) => Promise<void>): Promise<Watch> {
  let last = performance.now()
  /** Every stretch between two ticks (and the last one, to the end), as [from, to]. */
  let stretches: Array<[number, number]> = []
  const pauses: Array<[number, number]> = []
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push([e.startTime, e.startTime + e.duration])
  })
  gc.observe({ entryTypes: ['gc'] })
  let ticks = 0
  let steps = 0
  let stepsAtTick = 0
  let stepsBetweenTicks = 0
  const step = (): void => { steps++ }
  const timer = setInterval(() => {
    const now = performance.now()
    stretches.push([last, now])
    last = now
    ticks++
    if (steps - stepsAtTick > stepsBetweenTicks) stepsBetweenTicks = steps - stepsAtTick
    stepsAtTick = steps
  }, 1)
  // Let the interval start before the body does, so that a body that never yields shows as one long gap.
  await new Promise((resolve) => setTimeout(resolve, 5))
  let start = 0
  /** Starts the measurement afresh: what the body did before is the caller's own work, not rough-level's. */
  const restart = (): void => {
    start = last = performance.now()
    stretches = []
    ticks = 0
  }
  restart()
  await body(step, restart)
  const end = performance.now()
  clearInterval(timer)
  stretches.push([last, end])
  if (steps - stepsAtTick > stepsBetweenTicks) stepsBetweenTicks = steps - stepsAtTick
  // The observer hears of a collection a little later: give it a turn.
  await new Promise((resolve) => setTimeout(resolve, 5))
  gc.disconnect()
  let gap = 0
  let gcInGap = 0
  for (const [from, to] of stretches) {
    let collecting = 0
    for (const [a, b] of pauses) collecting += Math.max(0, Math.min(b, to) - Math.max(a, from))
    if (to - from - collecting > gap) {
      gap = to - from - collecting
      gcInGap = collecting
    }
  }
  return { gap, gcInGap, ms: end - start, ticks, stepsBetweenTicks, steps }
}

/**
 * The event loop ran timers all along: no gap past the bound, and (robust to a busy machine) a loop did at
 * most a tenth of its calls between two ticks, a single long call saw the loop turn several times.
 */
function check (t: test.Test, what: string, w: Watch): void {
  const bound = boundMs()
  const gc = w.gcInGap > 0 ? ` besides ${w.gcInGap.toFixed(1)} ms of garbage collection` : ''
  t.ok(w.gap <= bound, `${what}: longest gap ${w.gap.toFixed(1)} ms${gc} over ${w.ms.toFixed(0)} ms (bound ${bound.toFixed(0)} ms)`)
  if (w.steps > 0) {
    t.ok(w.stepsBetweenTicks <= w.steps / 10, `${what}: at most ${w.stepsBetweenTicks} of ${w.steps} calls between two ticks`)
  } else if (w.ms > 50) {
    t.ok(w.ticks >= 3, `${what}: the interval ticked ${w.ticks} times during the call`)
  }
}

async function filled (n: number, options = {}): Promise<RoughLevel> {
  const db = new RoughLevel(tempDir(), options)
  await db.open()
  for (let i = 0; i < n; i += 1000) {
    const ops = []
    for (let j = i; j < Math.min(n, i + 1000); j++) ops.push({ type: 'put' as const, key: key(j), value: value(j) })
    await db.batch(ops)
  }
  return db
}

test('event loop: awaited puts, gets and dels one at a time', async (t) => {
  const db = new RoughLevel(tempDir())
  await db.open()
  const n = 60000
  check(t, `${n} awaited put`, await watch(async (step) => {
    for (let i = 0; i < n; i++) { await db.put(key(i), value(i)); step() }
  }))
  const random = prng(11)
  check(t, `${n} awaited get`, await watch(async (step) => {
    for (let i = 0; i < n; i++) {
      if (await db.get(key(Math.floor(random() * n))) === undefined) throw new Error('missing')
      step()
    }
  }))
  check(t, `${n} awaited has`, await watch(async (step) => {
    for (let i = 0; i < n; i++) { await db.has(key(i)); step() }
  }))
  check(t, `${n} awaited del`, await watch(async (step) => {
    for (let i = 0; i < n; i++) { await db.del(key(i)); step() }
  }))
  t.same(await db.keys().all(), [], 'every key was deleted')
  await db.close()
})

test('event loop: awaited batches and writes in flight', async (t) => {
  // A write buffer that holds everything: no memtable switch (whose wait for its syncs would give the loop
  // turns of its own) breaks the commits up; only the budget does.
  const db = new RoughLevel(tempDir(), { writeBufferSize: 64 * 1024 * 1024 })
  await db.open()
  const random = prng(12)
  check(t, '2000 awaited batches of 100 random puts', await watch(async (step) => {
    for (let b = 0; b < 2000; b++) {
      const ops = []
      for (let j = 0; j < 100; j++) {
        const i = Math.floor(random() * 1e6)
        ops.push({ type: 'put' as const, key: key(i), value: value(i) })
      }
      await db.batch(ops)
      step()
    }
  }))
  // Fewer, larger writes: every write in flight is a pending promise in the young generation, and 100k of
  // them make each scavenge take tens of ms in any engine, which is the caller's cost, not rough-level's.
  const n = 40000
  const bigValue = (i: number): string => value(i).repeat(4)
  // The caller's own loop of put() calls holds the event loop (in any engine); what is measured is the work
  // rough-level does for them afterwards (committing them all: it begins when the loop ends) and close().
  let done = 0
  const count = (): void => { done++ }
  check(t, `${n} puts in flight, then close()`, await watch(async (_step, restart) => {
    for (let i = 0; i < n; i++) void db.put(key(i), bigValue(i)).then(count)
    restart()
    await db.close()
  }))
  t.equal(done, n, 'every put in flight was acknowledged before close() resolved')
  await db.open()
  t.equal(await db.get(key(n - 1)), bigValue(n - 1), 'the last put in flight was written')
  await db.close()
})

test('event loop: one batch of 100,000 puts goes into the memtable a part per turn, seen whole or not at all', async (t) => {
  const db = new RoughLevel(tempDir(), { writeBufferSize: 64 * 1024 * 1024 })
  await db.open()
  // Large enough that committing it in one piece holds the loop for 100s of ms (it did: 593 ms at 200,000),
  // small enough that the garbage collector's work on the caller's 100,000 operation objects (not
  // rough-level's) stays well within the bound; one value string for all keeps that heap small.
  const n = 100000
  const shared = value(7)
  const ops: Array<{ type: 'put', key: string, value: string }> = []
  for (let i = 0; i < n; i++) ops.push({ type: 'put' as const, key: key(i), value: shared })
  // Timers that run while the batch commits look at its first, middle and last keys: all or none.
  let committing = false
  let looks = 0
  let torn = 0
  const look = setInterval(() => {
    if (!committing) return
    looks++
    const seen = [0, n >> 1, n - 1].map((i) => db.getSync(key(i)) !== undefined)
    if (seen.some((s) => s !== seen[0])) torn++
  }, 1)
  check(t, `one batch of ${n} puts`, await watch(async (_step, restart) => {
    // abstract-level's batch() walks the operations synchronously (in any engine): what is measured is
    // the commit, which begins after it returns.
    const written = db.batch(ops)
    committing = true
    restart()
    await written
    committing = false
  }))
  clearInterval(look)
  t.ok(looks > 0, `timers looked at the keys ${looks} times while the batch was being committed`)
  t.equal(torn, 0, 'no look saw part of the batch')
  t.equal(db.getSync(key(n - 1)), shared, 'the whole batch is there once it resolved')
  await db.close()
})

test('event loop: getMany, iterators and clear over many entries', async (t) => {
  const n = 100000
  const db = await filled(n)
  const random = prng(13)
  check(t, '1000 awaited getMany of 100 keys', await watch(async (step) => {
    for (let b = 0; b < 1000; b++) {
      const keys = []
      for (let j = 0; j < 100; j++) keys.push(key(Math.floor(random() * n)))
      const values = await db.getMany(keys)
      if (values.includes(undefined)) throw new Error('missing')
      step()
    }
  }))
  const all: string[] = []
  for (let i = 0; i < n; i++) all.push(key(i))
  let many: Array<string | undefined> = []
  check(t, `one getMany of ${n} keys`, await watch(async () => { many = await db.getMany(all) }))
  t.equal(many.filter((v, i) => v === value(i)).length, n, 'getMany of every key returned every value')
  for (const reverse of [false, true]) {
    let count = 0
    check(t, `3 full for-await iterations${reverse ? ' in reverse' : ''}`, await watch(async (step) => {
      for (let r = 0; r < 3; r++) {
        for await (const entry of db.iterator({ reverse })) {
          if (entry[0] !== undefined) count++
          step()
        }
      }
    }))
    t.equal(count, 3 * n, 'every entry was iterated')
  }
  let entries = 0
  check(t, '5 full nextv(1000) iterations', await watch(async (step) => {
    for (let r = 0; r < 5; r++) {
      const it = db.iterator()
      for (let batch = await it.nextv(1000); batch.length > 0; batch = await it.nextv(1000)) {
        entries += batch.length
        for (let i = 0; i < batch.length; i++) step()
      }
      await it.close()
    }
  }))
  t.equal(entries, 5 * n, 'nextv saw every entry')
  let everything: Array<[string, string]> = []
  check(t, `iterator().all() of ${n} entries`, await watch(async () => { everything = await db.iterator().all() }))
  t.equal(everything.length, n, 'all() returned every entry')
  check(t, `clear() of ${n} entries`, await watch(() => db.clear()))
  t.same(await db.keys().all(), [], 'clear() deleted everything')
  await db.close()
})

test('event loop: a fill of many write buffers, with flushes and compactions, then compactRange', async (t) => {
  const db = new RoughLevel(tempDir(), { writeBufferSize: 256 * 1024 })
  await db.open()
  const random = prng(14)
  const n = 300000
  check(t, `${n} random keys in awaited batches of 100 (256 KiB write buffer)`, await watch(async (step) => {
    for (let b = 0; b < n / 100; b++) {
      const ops = []
      for (let j = 0; j < 100; j++) {
        const i = Math.floor(random() * 1e7)
        ops.push({ type: 'put' as const, key: key(i), value: value(i) })
      }
      await db.batch(ops)
      step()
    }
  }))
  t.ok(Number(db.getProperty('leveldb.num-files-at-level1')) + Number(db.getProperty('leveldb.num-files-at-level2')) > 0,
    'the fill was compacted into deeper levels')
  let reads = 0
  let compacting = true
  check(t, 'compactRange of everything while a reader awaits gets', await watch(async (step) => {
    const reader = (async () => {
      // Bounded: without turns of the event loop, the compaction's end could never be delivered.
      while (compacting && reads < 1000000) {
        await db.get(key(Math.floor(random() * 1e7)))
        reads++
        step()
      }
    })()
    await db.compactRange(key(0), key(1e7))
    compacting = false
    await reader
  }))
  t.ok(reads > 0, `the reader read ${reads} times during compactRange`)
  await db.close()
})

test('event loop: opening a database whose logs hold 12 MiB', async (t) => {
  const dir = tempDir()
  // A write buffer larger than the logs keeps everything in them: close() does not flush the memtable.
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 * 1024 })
  await db.open()
  const n = 120000
  for (let i = 0; i < n; i += 1000) {
    const ops = []
    for (let j = i; j < i + 1000; j++) ops.push({ type: 'put' as const, key: key(j), value: value(j) })
    await db.batch(ops)
  }
  await db.close()
  const logBytes = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0)
  t.ok(logBytes > 12 * 1024 * 1024, `the logs hold ${(logBytes / 1048576).toFixed(1)} MiB`)
  // The default write buffer (4 MiB): replay fills several memtables, written as tables during the open.
  const reopened = new RoughLevel(dir)
  check(t, 'open', await watch(() => reopened.open()))
  t.equal(await reopened.get(key(n - 1)), value(n - 1), 'the last write is there after the open')
  t.equal((await reopened.keys().all()).length, n, 'every entry is there')
  check(t, 'close after the open', await watch(() => reopened.close()))
})

test('event loop: a follower\'s refresh that catches up with 12 MiB of new log records', async (t) => {
  const dir = tempDir()
  // A write buffer larger than the log keeps everything in it: the refresh reads it all into memtables.
  const writer = new RoughLevel(dir, { writeBufferSize: 64 * 1024 * 1024 })
  await writer.open()
  const reader = new RoughLevel(dir, { readOnly: true })
  await reader.open()
  const n = 120000
  for (let i = 0; i < n; i += 1000) {
    const ops = []
    for (let j = i; j < i + 1000; j++) ops.push({ type: 'put' as const, key: key(j), value: value(j) })
    await writer.batch(ops)
  }
  check(t, 'refresh', await watch(async () => { await reader.refresh() }))
  t.equal(await reader.get(key(n - 1)), value(n - 1), 'the last write is there after the refresh')
  await reader.close()
  await writer.close()
})

test('event loop: a checkpoint of a 16 MiB memtable', async (t) => {
  // A write buffer larger than the fill keeps everything in the memtable: the checkpoint writes it all as a table.
  const db = await filled(120000, { writeBufferSize: 64 * 1024 * 1024 })
  const dest = tempDir()
  check(t, 'checkpoint', await watch(async () => { await db.checkpoint(dest) }))
  await db.close()
  const copy = new RoughLevel(dest, { createIfMissing: false })
  await copy.open()
  t.equal((await copy.keys().all()).length, 120000, 'the checkpoint holds every entry')
  t.equal(await copy.get(key(119999)), value(119999), 'and the last write')
  await copy.close()
})

test('event loop: repair, then destroy, of a database of 100+ tables', async (t) => {
  // A small write buffer: many tables, each flushed (and some compacted) while writing.
  const n = 120000
  const db = await filled(n, { writeBufferSize: 64 * 1024 })
  const dir = db.location
  await db.close()
  const tables = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb')).length
  t.ok(tables >= 100, `${tables} tables`)
  // What repair salvages when the MANIFEST is lost: every table read through, a new MANIFEST written.
  for (const f of fs.readdirSync(dir)) if (f.startsWith('MANIFEST-') || f === 'CURRENT') fs.rmSync(path.join(dir, f))
  check(t, 'repair', await watch(async () => { await RoughLevel.repair(dir) }))
  const repaired = new RoughLevel(dir)
  await repaired.open()
  t.equal((await repaired.keys().all()).length, n, 'every entry is there after the repair')
  await repaired.close()
  check(t, 'destroy', await watch(async () => { await RoughLevel.destroy(dir) }))
  // What repair set aside (lost/) is not the database's: destroy leaves it, as LevelDB's DestroyDB does.
  t.same(fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f !== 'lost') : [], [], 'every file of the database is gone')
})
