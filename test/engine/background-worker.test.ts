// The background worker's handle (engine/background/background.ts): every job's promise settles, whatever
// the thread does (answers, fails, exits with the job in hand, exits while idle, is closed under it), and a
// job that found no descriptor is retried while the shortage lasts, and only then. The thread is a scripted
// stand-in (test/fixtures/scripted-worker.ts) told by each job what to do.
import test from 'tape'
import path = require('node:path')
import { BackgroundWorker } from '../../engine/background/background'
import { drain } from '../../engine/background/thread-pool'
import { buildTableOptions } from '../../engine/table/build-table'
import type { JobResult } from '../../engine/background/job'
import { MemTable, memTableCapacity } from '../../engine/memtable/memtable'
import { sanitizeOptions } from '../../engine/options'

const ENTRY = path.join(__dirname, '..', 'fixtures', 'scripted-worker.js')

const options = buildTableOptions(sanitizeOptions())
const memtable = new MemTable(memTableCapacity(64 * 1024)).shape()

/** A flush job whose dir tells the scripted thread what to do. */
function job (script: string): Parameters<BackgroundWorker['run']>[0] {
  return { kind: 'flush', fs: { kind: 'posix' }, dir: script, fileNumber: 1, memtable, options }
}

type Outcome = { settled: 'resolved', result: JobResult } | { settled: 'rejected', error: Error & { code?: string } } | { settled: 'pending' }

/** How p settles within ms (a promise that never settles is the hang this file is about). */
function within (p: Promise<JobResult>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<Outcome>((resolve) => { timer = setTimeout(() => resolve({ settled: 'pending' }), ms) })
  const settled = p.then(
    (result): Outcome => ({ settled: 'resolved', result }),
    (error: Error & { code?: string }): Outcome => ({ settled: 'rejected', error }))
  return Promise.race([settled, late]).finally(() => clearTimeout(timer))
}

const WAIT_MS = 10_000

test('background worker: a job the thread answers resolves with the answer', async (t) => {
  const worker = new BackgroundWorker(undefined, ENTRY)
  const ok = await within(worker.run(job('ok')), WAIT_MS)
  t.ok(ok.settled === 'resolved' && ok.result.ok, 'ok')
  const enospc = await within(worker.run(job('enospc')), WAIT_MS)
  t.ok(enospc.settled === 'resolved' && !enospc.result.ok && enospc.result.errno === 'ENOSPC', 'a failure other than a shortage is answered at once, not retried')
  await worker.close()
})

test('background worker: a thread that exits or throws with a job in hand fails that job (LEVEL_IO_ERROR), and the next job gets a new thread', async (t) => {
  const worker = new BackgroundWorker(undefined, ENTRY)
  const exited = await within(worker.run(job('exit:3')), WAIT_MS)
  t.ok(exited.settled === 'rejected' && exited.error.code === 'LEVEL_IO_ERROR' && /exited with code 3/.test(exited.error.message),
    `an exit rejects the job (${exited.settled === 'rejected' ? exited.error.message : exited.settled})`)
  const thrown = await within(worker.run(job('throw')), WAIT_MS)
  t.ok(thrown.settled === 'rejected' && thrown.error.code === 'LEVEL_IO_ERROR' && /scripted failure/.test(thrown.error.message),
    `an uncaught error rejects the job (${thrown.settled === 'rejected' ? thrown.error.message : thrown.settled})`)
  const after = await within(worker.run(job('ok')), WAIT_MS)
  t.ok(after.settled === 'resolved' && after.result.ok, 'a job after either runs on a new thread')
  await worker.close()
})

test('background worker: a thread that exits while idle is not posted to; the next job starts a new one', async (t) => {
  await drain() // a parked thread would not exit: this test needs a thread that starts now
  const worker = new BackgroundWorker(undefined, ENTRY)
  process.env.SCRIPTED_WORKER_EXIT_AT_START = '1'
  worker.warmUp()
  // The thread takes its environment when it starts: from here on new threads serve jobs.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  delete process.env.SCRIPTED_WORKER_EXIT_AT_START
  const after = await within(worker.run(job('ok')), WAIT_MS)
  t.ok(after.settled === 'resolved' && after.result.ok, `the job is answered (${after.settled})`)
  await worker.close()
})

test('background worker: close fails the jobs in flight and refuses later ones', async (t) => {
  const worker = new BackgroundWorker(undefined, ENTRY)
  const running = worker.run(job('silent'))
  await within(worker.run(job('ok')), WAIT_MS) // the thread is up and has the silent job
  await worker.close()
  const closed = await within(running, WAIT_MS)
  t.ok(closed.settled === 'rejected' && closed.error.code === 'LEVEL_IO_ERROR', `the job in flight is rejected (${closed.settled})`)
  const later = await within(worker.run(job('ok')), WAIT_MS)
  t.ok(later.settled === 'rejected' && later.error.code === 'LEVEL_IO_ERROR', `a job after close is rejected (${later.settled})`)
})

test('background worker: a job that found no descriptor is run again after onShortage and a pause, until it gets one', async (t) => {
  let shortages = 0
  const worker = new BackgroundWorker(() => { shortages++ }, ENTRY)
  const started = Date.now()
  const r = await within(worker.run(job('short:3')), WAIT_MS)
  t.ok(r.settled === 'resolved' && r.result.ok, 'the fourth run succeeds')
  t.is(shortages, 3, 'onShortage ran before each retry')
  t.ok(Date.now() - started >= 10 + 20 + 40, 'after pauses of 10, 20 and 40 ms')
  await worker.close()
})

test('background worker: a cancelled compaction is not retried for a shortage', async (t) => {
  const worker = new BackgroundWorker(undefined, ENTRY)
  const cancel = new Int32Array(new SharedArrayBuffer(4))
  Atomics.store(cancel, 0, 1)
  const r = await within(worker.run({
    kind: 'compaction', fs: { kind: 'posix' }, dir: 'short:1000', compaction: { level: 0, inputs: [[], []], grandparents: [], deeperFiles: [], maxFileSize: 2 * 1024 * 1024, compactPointer: new Uint8Array(0), manual: false },
    options: { ...options, maxFileSize: 2 * 1024 * 1024 },
    smallestSnapshot: 0, fileNumbers: [], cancel: cancel.buffer as SharedArrayBuffer
  }), WAIT_MS)
  t.ok(r.settled === 'resolved' && !r.result.ok && r.result.errno === 'EMFILE', `the shortage is the answer after one pause (${r.settled})`)
  await worker.close()
})
