// The info log (engine/info-log.ts): LevelDB's line format (util/posix_logger.h), the rotation of LOG to
// LOG.old, lines held until start(), and nothing written when it is disabled or before it starts.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { threadId } from 'node:worker_threads'
import { Db } from '../../engine/db/db'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { formatLine, InfoLog, infoLine } from '../../engine/info-log'
import { CrashFileSystem } from './helpers/crash-file-system'
import { FaultFileSystem } from './helpers/fault-file-system'
import { Random } from './helpers/random'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-info-log-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))
let dirs = 0
function newDir (): string {
  const dir = path.join(root, String(++dirs))
  fs.mkdirSync(dir)
  return dir
}

/** PosixLogger's header: `%04d/%02d/%02d-%02d:%02d:%02d.%06d <thread> `, then the message. */
const LINE = /^(\d{4})\/(\d{2})\/(\d{2})-(\d{2}):(\d{2}):(\d{2})\.(\d{6}) (\S+) (.*)$/

const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

test('info log: a line is LevelDB\'s local timestamp with microseconds, the thread, then the message and one newline', (t) => {
  // 2021-03-04 05:06:07.089012 local time, from its parts (an expectation built apart from formatLine).
  const when = new Date(2021, 2, 4, 5, 6, 7, 89).getTime() + 0.012
  t.is(formatLine({ time: when, thread: 7, message: 'Recovering log #12' }), '2021/03/04-05:06:07.089012 7 Recovering log #12\n')
  t.is(formatLine({ time: when, thread: 0, message: 'Too many L0 files; waiting...\n' }), '2021/03/04-05:06:07.089012 0 Too many L0 files; waiting...\n',
    'a message ending in a newline gets no second one (as PosixLogger)')
  const midnight = new Date(1999, 11, 31, 23, 59, 59, 999).getTime() + 0.999
  t.is(formatLine({ time: midnight, thread: 3, message: 'x' }).slice(0, 26), '1999/12/31-23:59:59.999999', 'the largest microsecond value')

  const before = Date.now()
  const line = infoLine('now')
  const after = Date.now()
  t.is(line.thread, threadId, 'stamped with this thread')
  const m = LINE.exec(formatLine(line).trimEnd())
  t.ok(m !== null, 'infoLine formats to the pattern')
  if (m !== null) {
    const parsed = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], Math.floor(+m[7] / 1000)).getTime()
    t.ok(parsed >= before - 1 && parsed <= after + 1, `the timestamp reads back as the wall-clock time (${parsed} in [${before}, ${after}])`)
    t.is(m[9], 'now')
  }
  t.end()
})

test('info log: nothing is written before start(); start() renames LOG to LOG.old and writes the lines held', async (t) => {
  const dir = newDir()
  fs.writeFileSync(path.join(dir, 'LOG'), 'previous run\n')
  fs.writeFileSync(path.join(dir, 'LOG.old'), 'the run before\n')
  const log = new InfoLog(new PosixFileSystem(), dir)
  log.log('first')
  await flushed()
  t.is(fs.readFileSync(path.join(dir, 'LOG'), 'utf8'), 'previous run\n', 'LOG is untouched before start()')
  t.is(fs.readFileSync(path.join(dir, 'LOG.old'), 'utf8'), 'the run before\n', 'and LOG.old too')
  log.start()
  t.is(fs.readFileSync(path.join(dir, 'LOG.old'), 'utf8'), 'previous run\n', 'the previous LOG is now LOG.old')
  log.log('second')
  log.write([{ time: Date.now(), thread: 5, message: 'from a worker' }])
  t.same(messages(dir), ['first'], 'lines after start() wait for a turn of the event loop')
  await flushed()
  t.same(messages(dir), ['first', 'second', 'from a worker'], 'then they are in LOG, in order')
  t.is(threads(dir)[2], '5', 'a worker\'s line keeps its thread')
  log.log('last')
  log.close()
  t.same(messages(dir), ['first', 'second', 'from a worker', 'last'], 'close() writes what is buffered')
  log.log('after close')
  await flushed()
  t.same(messages(dir), ['first', 'second', 'from a worker', 'last'], 'nothing is written after close()')
})

test('info log: closed before start(), or disabled, it writes no file', async (t) => {
  const dir = newDir()
  const log = new InfoLog(new PosixFileSystem(), dir)
  log.log('held')
  log.close()
  log.start()
  InfoLog.disabled.start()
  InfoLog.disabled.log('nowhere')
  await flushed()
  t.same(fs.readdirSync(dir), [], 'no LOG, no LOG.old')
})

test('info log: the Db logs its first background error once, with what failed', async (t) => {
  const dir = newDir()
  const fsys = new FaultFileSystem()
  const db = await Db.open(dir, { fs: fsys })
  fsys.failSyncs = true
  const results = await Promise.allSettled([db.put('s', '1', true), db.put('t', '1', true)])
  t.ok(results.every((r) => r.status === 'rejected'), 'the sync writes fail')
  t.throws(() => db.put('after', '1'), /IO error/, 'the database is in its error state')
  await db.close()
  const errors = messages(dir).filter((m) => m.startsWith('Background error: '))
  t.is(errors.length, 1, 'one line for the error')
  t.ok(errors[0]?.includes('syncing') && errors[0]?.includes('EIO'), `naming what failed (${errors[0]})`)
})

/**
 * A database whose reopen (writeBufferSize `buffer`) replays its log into `tables` level-0 tables that all
 * overlap: the log holds `tables` memtables' worth of 1000-byte random values under keys in a scattered order.
 */
async function deepLevel0 (dir: string, buffer: number, tables: number): Promise<void> {
  const writer = await Db.open(dir, { writeBufferSize: 64 * 1024 * 1024 })
  const rnd = new Random(17)
  const n = Math.ceil((tables + 0.5) * buffer / 1050)
  for (let i = 0; i < n; i++) await writer.put('k' + String((i * 7919) % n).padStart(8, '0'), rnd.bytes(1000))
  await writer.close() // the memtable stays in the log: close writes no table
}

test('info log: the compaction a flush calls for starts when its edit is applied, before that flush\'s obsolete files go', async (t) => {
  // Until the compaction starts, writes meet the deeper level 0 with none running, so that neither the slowdown
  // nor the stop applies (both wait for a compaction). The obsolete files' removal after a flush takes turns
  // of the event loop (the unlinks run on the thread pool); the compaction must not wait for it.
  const dir = newDir()
  const db = await Db.open(dir, { writeBufferSize: 64 * 1024 })
  // Scattered keys: every memtable's table overlaps the others, so each stays at level 0 until the fourth.
  for (let i = 0; i < 5000; i++) await db.put('k' + String((i * 7919) % 100000).padStart(6, '0'), 'v'.repeat(100))
  await db.close()
  const log = messages(dir)
  const compacting = log.findIndex((m) => /^Compacting \d+@0 \+ \d+@1 files$/.test(m))
  t.ok(compacting > 0, `level 0's fourth table started a compaction (${log[compacting] ?? log.join(' | ')})`)
  let flush = compacting - 1
  while (flush >= 0 && !/^Level-0 table #\d+: \d+ bytes OK/.test(log[flush])) flush--
  t.ok(flush >= 0, `after a flush (${log[flush]})`)
  const between = log.slice(flush + 1, compacting)
  t.notOk(between.some((m) => m.startsWith('Delete ')), `with no deletion between them (${between.join(' | ') || 'nothing'})`)
  t.ok(log.slice(compacting + 1).some((m) => m.startsWith('Delete type=0 ')), 'the flushed memtable\'s log is deleted after it')
})

test('info log: writes at level 0\'s slowdown trigger (8 files) and stop trigger (12) log both, once, and wait for the compaction', async (t) => {
  const dir = newDir()
  const buffer = 256 * 1024
  await deepLevel0(dir, buffer, 13)
  const db = await Db.open(dir, { writeBufferSize: buffer })
  const level0 = db.numFilesAtLevel(0)
  t.ok(level0 >= 12, `the reopen left ${level0} tables at level 0, and their compaction is running`)
  // Written before the event loop turns: the compaction (on its worker) cannot have ended yet.
  const writes = [db.put('a', '1'), db.put('b', '2')]
  await Promise.all(writes)
  t.ok(db.numFilesAtLevel(0) < 8, `the writes were acknowledged once the compaction had emptied level 0 (${db.numFilesAtLevel(0)} left)`)
  await db.close()
  const log = messages(dir)
  const slowdown = log.findIndex((m) => m === `Too many L0 files (${level0}); delaying each write group by 1 ms...`)
  const stop = log.findIndex((m) => m === 'Too many L0 files; waiting...')
  const compacted = log.findIndex((m) => m.startsWith(`Compacted ${level0}@0 + 0@1 files => `))
  t.ok(slowdown >= 0, 'the slowdown is logged')
  t.ok(stop > slowdown, 'then the stop')
  t.ok(compacted > stop, `both before the compaction's end (${log.slice(Math.max(0, slowdown), compacted + 1).join(' | ')})`)
  t.is(log.filter((m) => m.startsWith('Too many L0 files')).length, 2, 'each once')

  // The compaction's own lines are made on its worker and written when its job returns: they carry the
  // worker's thread and the time each was made (LevelDB's lines start with the time they were made), so
  // that LOG reads as what happened when, though its lines are not in time order across threads.
  const timed = lines(dir).map(parseLine)
  const start = timed.find((l) => l.message.startsWith(`Compacting ${level0}@0 + 0@1 files`))
  const end = timed.find((l) => l.message.startsWith(`Compacted ${level0}@0 + 0@1 files`))
  const generated = timed.filter((l) => /^Generated table #\d+@0: /.test(l.message))
  t.ok(generated.length >= 2 && start !== undefined && end !== undefined, `the compaction wrote ${generated.length} tables`)
  if (start === undefined || end === undefined || generated.length < 2) return
  t.ok(generated.every((l) => l.thread !== start.thread), 'its table lines carry the worker\'s thread id, not the main thread\'s')
  t.ok(generated.every((l) => l.time >= start.time && l.time <= end.time), 'and times between the compaction\'s start and end')
  const spread = generated[generated.length - 1].time - generated[0].time
  t.ok(spread >= 5, `each stamped when its table was done, not when the job returned (${spread.toFixed(3)} ms between the first and the last)`)
  const main = timed.filter((l) => l.thread === start.thread)
  t.ok(main.every((l, i) => i === 0 || l.time >= main[i - 1].time), 'the main thread\'s lines are in time order')
})

test('info log: a write that finds the memtable full while the previous one is still being flushed logs the stall once, and waits for the flush', async (t) => {
  // The flush's MANIFEST edit cannot be synced while the MANIFEST's fdatasyncs are held: the flush stays
  // in flight, and the writes after it fill the next memtable.
  const dir = newDir()
  const fsys = new CrashFileSystem()
  const db = await Db.open(dir, { fs: fsys, writeBufferSize: 64 * 1024 })
  const release = fsys.holdSyncs('manifest')
  const value = 'v'.repeat(1000)
  const writes: Array<Promise<void>> = []
  let settled = 0
  for (let i = 0; i < 200; i++) {
    const w = db.put(`k${String(i).padStart(4, '0')}`, value)
    void w.then(() => { settled++ })
    writes.push(w)
    if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve))
  }
  for (let n = 0; n < 20; n++) await new Promise((resolve) => setImmediate(resolve))
  t.ok(settled < writes.length, `writes wait while the flush cannot finish (${settled} of ${writes.length} acknowledged)`)
  release()
  await Promise.all(writes)
  await db.close()
  const log = messages(dir)
  const stalls = log.filter((m) => m === 'Current memtable full; waiting...')
  t.is(stalls.length, 1, 'the stall is logged, once')
  const stall = log.indexOf('Current memtable full; waiting...')
  const started = log.findIndex((m) => /^Level-0 table #\d+: started$/.test(m))
  // The flushed log is deleted once the flush is installed.
  const installed = log.findIndex((m) => /^Delete type=0 #\d+$/.test(m))
  t.ok(started >= 0 && started < stall && stall < installed,
    `after the flush started and before it was installed (${log.slice(Math.max(0, stall - 1), stall + 2).join(' | ')})`)
})

function lines (dir: string): string[] {
  return fs.readFileSync(path.join(dir, 'LOG'), 'utf8').split('\n').filter((l) => l !== '')
}

/** A line's local time (ms since the epoch, with microseconds), thread and message. */
function parseLine (line: string): { time: number, thread: string, message: string } {
  const m = LINE.exec(line)
  if (m === null) return { time: NaN, thread: '', message: `(unparsed: ${line})` }
  return { time: new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]).getTime() + +m[7] / 1000, thread: m[8], message: m[9] }
}

function messages (dir: string): string[] {
  return lines(dir).map((l) => LINE.exec(l)?.[9] ?? `(unparsed: ${l})`)
}

function threads (dir: string): string[] {
  return lines(dir).map((l) => LINE.exec(l)?.[8] ?? '')
}
