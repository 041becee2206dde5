// The pool of idle background threads (engine/background/thread-pool.ts): a BackgroundWorker that closes
// hands its thread back, the next one takes that same thread, a thread closed with a job in flight is
// stopped rather than handed on, the pool keeps at most MAX_PARKED, and a real database closed and opened
// again runs its flushes on the threads its first open started. The thread is the scripted stand-in
// (test/fixtures/scripted-worker.ts), whose `thread` job answers with the thread's id.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { spawnSync } from 'node:child_process'
import { BackgroundWorker, IDLE_RELEASE_MS } from '../../engine/background/background'
import type { JobResult } from '../../engine/background/job'
import { drain, IDLE_MS, MAX_PARKED, parkedCount, WORKER_YOUNG_GENERATION_MB } from '../../engine/background/thread-pool'
import { buildTableOptions } from '../../engine/table/build-table'
import { MemTable, memTableCapacity } from '../../engine/memtable/memtable'
import { sanitizeOptions } from '../../engine/options'
import { RoughLevel } from '../../index'

const ENTRY = path.join(__dirname, '..', 'fixtures', 'scripted-worker.js')
const options = buildTableOptions(sanitizeOptions())
const memtable = new MemTable(memTableCapacity(64 * 1024)).shape()

function job (script: string): Parameters<BackgroundWorker['run']>[0] {
  return { kind: 'flush', fs: { kind: 'posix' }, dir: script, fileNumber: 1, memtable, options }
}

/** The id of the thread that answered a `thread` job on worker. */
async function threadOf (worker: BackgroundWorker): Promise<number> {
  const r: JobResult = await worker.run(job('thread'))
  if (r.ok) throw new Error('the scripted thread answered ok to a thread job')
  return Number(r.message)
}

test('thread pool: a closed worker hands its thread to the next worker of the same entry', async (t) => {
  await drain()
  const first = new BackgroundWorker(undefined, ENTRY)
  const id = await threadOf(first)
  await first.close()
  t.is(parkedCount(), 1, 'the thread is parked after close')
  const second = new BackgroundWorker(undefined, ENTRY)
  t.is(await threadOf(second), id, 'the next worker runs its job on the same thread')
  t.is(parkedCount(), 0, 'and took it out of the pool')
  const third = new BackgroundWorker(undefined, ENTRY)
  t.not(await threadOf(third), id, 'a worker beside it gets a thread of its own')
  await second.close()
  await third.close()
  t.is(parkedCount(), 2, 'both are parked')
  await drain()
  t.is(parkedCount(), 0, 'drain stops them')
})

test('thread pool: a thread runs with a young generation of WORKER_YOUNG_GENERATION_MB, not the main thread\'s default', async (t) => {
  await drain()
  const worker = new BackgroundWorker(undefined, ENTRY)
  const r = await worker.run(job('limits'))
  await worker.close()
  await drain()
  if (r.ok) return t.fail('the scripted thread answered ok to a limits job')
  const limits = JSON.parse(r.message) as { maxYoungGenerationSizeMb: number }
  t.is(limits.maxYoungGenerationSizeMb, WORKER_YOUNG_GENERATION_MB, `the thread's young generation is ${WORKER_YOUNG_GENERATION_MB} MiB`)
})

test('thread pool: a thread closed with a job in flight is stopped, never handed on', async (t) => {
  await drain()
  const worker = new BackgroundWorker(undefined, ENTRY)
  const silent = worker.run(job('silent')).then(() => 'resolved', (err: Error & { code?: string }) => err.code)
  await threadOf(worker) // the thread is up, with the silent job in hand
  await worker.close()
  t.is(await silent, 'LEVEL_IO_ERROR', 'the job in flight fails')
  t.is(parkedCount(), 0, 'the thread is not parked')
})

test('thread pool: at most MAX_PARKED threads are kept; the rest stop', async (t) => {
  await drain()
  const workers = Array.from({ length: MAX_PARKED + 2 }, () => new BackgroundWorker(undefined, ENTRY))
  const ids = await Promise.all(workers.map(threadOf))
  t.is(new Set(ids).size, workers.length, `${workers.length} workers, ${workers.length} threads`)
  await Promise.all(workers.map((w) => w.close()))
  t.is(parkedCount(), MAX_PARKED, `${MAX_PARKED} parked`)
  await drain()
})

test('thread pool: a thread with no job for IDLE_RELEASE_MS goes back to the pool; the next job takes it again', async (t) => {
  await drain()
  const worker = new BackgroundWorker(undefined, ENTRY)
  const id = await threadOf(worker)
  await new Promise((resolve) => setTimeout(resolve, IDLE_RELEASE_MS / 2))
  t.is(parkedCount(), 0, `still the worker's after ${IDLE_RELEASE_MS / 2} ms`)
  t.is(await threadOf(worker), id, 'and a job then runs on it')
  await new Promise((resolve) => setTimeout(resolve, IDLE_RELEASE_MS + 300))
  t.is(parkedCount(), 1, `parked after ${IDLE_RELEASE_MS + 300} ms without a job`)
  t.is(await threadOf(worker), id, 'the next job takes it back')
  t.is(parkedCount(), 0, 'out of the pool again')
  await worker.close()
  await drain()
})

test('thread pool: a parked thread stops by itself after IDLE_MS', async (t) => {
  await drain()
  const worker = new BackgroundWorker(undefined, ENTRY)
  await threadOf(worker)
  await worker.close()
  t.is(parkedCount(), 1, 'parked')
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS + 500))
  t.is(parkedCount(), 0, `gone ${IDLE_MS + 500} ms later`)
})

test('thread pool: a database closed and opened again flushes on the threads it had, and reads every entry', async (t) => {
  await drain()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-thread-pool-'))
  const value = 'v'.repeat(100)
  const key = (i: number): string => String(i).padStart(10, '0')
  const n = 3000
  try {
    for (let round = 0; round < 3; round++) {
      const parkedBefore = parkedCount()
      const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
      await db.open()
      for (let i = round * n; i < (round + 1) * n; i++) await db.put(key(i), value)
      if (round > 0) t.ok(parkedCount() < parkedBefore, `round ${round}: the database took parked threads (${parkedBefore} parked before, ${parkedCount()} after)`)
      const tables = Number(db.getProperty('leveldb.num-files-at-level0')) + Number(db.getProperty('leveldb.num-files-at-level1')) +
        Number(db.getProperty('leveldb.num-files-at-level2'))
      t.ok(tables > 0, `round ${round}: ${tables} tables written by the background threads`)
      await db.close()
      t.ok(parkedCount() >= 1 && parkedCount() <= MAX_PARKED, `round ${round}: close parked its threads (${parkedCount()})`)
    }
    const db = new RoughLevel(dir)
    await db.open()
    const keys = await db.keys().all()
    t.is(keys.length, 3 * n, 'every entry of the three rounds is there')
    t.ok(keys.every((k, i) => k === key(i)), 'in order')
    await db.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await drain()
  }
})

test('thread pool: a database starts its flush thread once its memtable is half full, not at open or for a few writes', async (t) => {
  await drain()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-thread-pool-'))
  const writeBufferSize = 256 * 1024
  try {
    const db = new RoughLevel(dir, { writeBufferSize })
    await db.open()
    for (let i = 0; i < 100; i++) await db.put(`k${i}`, 'v'.repeat(100))
    await new Promise((resolve) => setImmediate(resolve))
    await db.close()
    t.is(parkedCount(), 0, 'a few writes: no thread was started, none to park at close')
    // A new database: reopening the first would replay its log, and a replay starts the thread itself.
    const again = new RoughLevel(path.join(dir, 'second'), { writeBufferSize })
    await again.open()
    // About 60% of the write buffer: past half, short of the switch that would flush.
    for (let i = 0; i < 1200; i++) await again.put(`k${String(i).padStart(6, '0')}`, 'v'.repeat(100))
    t.is(again.getProperty('leveldb.num-files-at-level0'), '0', 'nothing flushed yet')
    await new Promise((resolve) => setImmediate(resolve))
    await again.close()
    t.is(parkedCount(), 1, 'past half a memtable: the flush thread was started, and its close parked it')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await drain()
  }
})

test('thread pool: a process\'s first thread starts over turns: prepareStart\'s steps, then the Worker; none after one is made', async (t) => {
  // Fresh processes: this one has made Workers already (prepareStart would say false at once here).
  const pool = JSON.stringify(path.join(__dirname, '..', '..', 'engine', 'background', 'thread-pool.js'))
  const entry = JSON.stringify(ENTRY)
  const run = (script: string): { out: string, status: number | null } => {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 })
    return { out: r.stdout.trim() + r.stderr.trim(), status: r.status }
  }
  // The steps, one per turn, then a Worker that runs a job; the process must then end by itself (the
  // steps' MessageChannel is closed, the thread parked unref'ed).
  const stepped = run(`
    const pool = require(${pool})
    const { BackgroundWorker } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'engine', 'background', 'background.js'))})
    let steps = 0
    const next = () => {
      if (pool.prepareStart()) { steps++; setImmediate(next); return }
      const w = new BackgroundWorker(undefined, ${entry})
      w.run({ kind: 'flush', fs: { kind: 'posix' }, dir: 'ok' }).then((r) => {
        console.log(JSON.stringify({ steps, ok: r.ok, after: pool.prepareStart() }))
        return w.close()
      })
    }
    next()`)
  t.is(stepped.status, 0, 'the process ended by itself')
  t.same(JSON.parse(stepped.out), { steps: 3, ok: true, after: false }, 'three steps, then the thread ran a job; no step after it')
  // A Worker made first (a pool thread started directly): the steps are moot and none runs.
  const direct = run(`
    const pool = require(${pool})
    const w = pool.acquire(${entry})
    console.log(JSON.stringify({ first: pool.prepareStart() }))
    w.terminate()`)
  t.same(JSON.parse(direct.out), { first: false }, 'prepareStart says false once a Worker was made')
})
