// engine/fs/budgeted-file-system and descriptor-budget: one count of descriptors across file systems that
// share a budget (as the main thread and the workers do), readers that give up their descriptor for a
// newer open and reopen on their next read, writes that are never refused, and EMFILE met by closing idle
// readers and retrying. The expectation is the bytes written and a count of the descriptors the file
// system underneath really holds.
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import test from 'tape'
import { fromFsError } from '../../engine/errors'
import { BudgetedFileSystem } from '../../engine/fs/budgeted-file-system'
import { DescriptorBudget, descriptorLimit, isDescriptorShortage, MIN_OPEN_FILES, retryWhileShort, spareDescriptors } from '../../engine/fs/descriptor-budget'
import type { RandomAccessFile, WritableFile } from '../../engine/fs/file-system'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-budget-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

/**
 * The real file system, counting the descriptors it holds open; with `cap`, an open past it fails with
 * EMFILE, as the process's limit would.
 */
class CappedFileSystem extends PosixFileSystem {
  open = 0
  peak = 0
  cap = Infinity
  opens = 0

  override openRandomAccess (file: string): RandomAccessFile {
    const inner = this.#count(() => super.openRandomAccess(file))
    return {
      path: file,
      read: (buf, offset, length, position) => inner.read(buf, offset, length, position),
      size: () => inner.size(),
      close: () => { inner.close(); this.open-- }
    }
  }

  override openWritable (file: string): WritableFile {
    const inner = this.#count(() => super.openWritable(file))
    return {
      path: file,
      append: (buf, offset, length) => inner.append(buf, offset, length),
      sync: () => inner.sync(),
      syncAsync: () => inner.syncAsync(),
      close: () => { inner.close(); this.open-- }
    }
  }

  /** The next syncDirAsync calls that fail, each with the code given, before the rest succeed. */
  syncFailures: string[] = []
  syncDirCalls = 0

  override async syncDirAsync (dir: string): Promise<void> {
    this.syncDirCalls++
    const code = this.syncFailures.shift()
    if (code !== undefined) throw Object.assign(new Error(`${code}: fsync`), { code, syscall: 'open' })
    await super.syncDirAsync(dir)
  }

  override readFile (file: string): Uint8Array {
    this.#count(() => undefined)
    this.open--
    return super.readFile(file)
  }

  #count<T> (open: () => T): T {
    if (this.open >= this.cap) {
      throw Object.assign(new Error('EMFILE: too many open files, open'), { code: 'EMFILE', syscall: 'open' })
    }
    const result = open()
    this.opens++
    this.peak = Math.max(this.peak, ++this.open)
    return result
  }
}

/** What `run` returns, or undefined after failing the test with what it threw. */
function attempt<T> (t: test.Test, run: () => T): T | undefined {
  try {
    return run()
  } catch (err) {
    t.fail(`unexpected ${String(err)}`)
    return undefined
  }
}

/** Files f0..f(n-1) in a new directory, each holding its own name repeated. */
function files (label: string, n: number): string[] {
  const dir = fs.mkdtempSync(path.join(root, `${label}-`))
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `f${i}`)
    fs.writeFileSync(file, `f${i}:`.repeat(100))
    out.push(file)
  }
  return out
}

/** The 8 bytes at offset 40 of file: what any read must return, whether or not the file had to reopen. */
function readAt (file: RandomAccessFile): string {
  const buf = Buffer.alloc(8)
  const n = file.read(buf, 0, 8, 40)
  return buf.subarray(0, n).toString()
}
const expectedAt = (file: string): string => Buffer.from(`${path.basename(file)}:`.repeat(100)).subarray(40, 48).toString()

test('readers beyond the limit give up their descriptors, least recently read first, and reopen to read on', (t) => {
  const names = files('lru', 10)
  const inner = new CappedFileSystem()
  const budget = new DescriptorBudget(4)
  const bfs = new BudgetedFileSystem(inner, budget)
  const readers = names.map((name) => {
    const r = bfs.openRandomAccess(name)
    t.ok(inner.open <= 4, `after opening ${path.basename(name)}: ${inner.open} descriptors held`)
    return r
  })
  t.equal(budget.inUse, 4, 'the budget counts what is held')
  t.equal(inner.open, 4)
  let wrong = 0
  for (let round = 0; round < 3; round++) {
    readers.forEach((r, i) => { if (readAt(r) !== expectedAt(names[i])) wrong++ })
  }
  t.equal(wrong, 0, 'every read of every reader returns its own file\'s bytes')
  t.equal(inner.peak, 4, 'never more than the limit open')

  readAt(readers[2])
  readAt(readers[3])
  readAt(readers[0])
  readAt(readers[1])
  const opens = inner.opens
  readAt(readers[2])
  t.equal(inner.opens, opens, 'reading a reader that holds its descriptor opens nothing')
  readAt(readers[9])
  t.equal(inner.opens, opens + 1, 'one that gave its descriptor up reopens, once')
  readAt(readers[2])
  readAt(readers[0])
  readAt(readers[1])
  t.equal(inner.opens, opens + 1, 'which cost the least recently read reader (f3) its descriptor, not f2, opened before f3 but read since')
  readAt(readers[3])
  t.equal(inner.opens, opens + 2, 'f3 reopens')

  for (const r of readers) r.close()
  t.equal(inner.open, 0, 'closing the readers closes every descriptor')
  t.equal(budget.inUse, 0, 'and uncounts it')
  t.throws(() => readers[0].read(Buffer.alloc(1), 0, 1, 0), /read after close/, 'a closed reader does not reopen')
  t.end()
})

test('hold: a held reader keeps its descriptor while the others close to make room, and reads its file after it is deleted; release and close give it back', (t) => {
  const names = files('hold', 6)
  const inner = new CappedFileSystem()
  const budget = new DescriptorBudget(3)
  const bfs = new BudgetedFileSystem(inner, budget)
  const readers = names.map((name) => bfs.openRandomAccess(name))
  t.equal(inner.open, 3, 'three of six readers hold a descriptor')
  bfs.hold(readers[0])
  t.equal(inner.open, 3, 'holding the first (which had given its descriptor up) reopens it in place of another')
  bfs.hold(readers[1])
  t.equal(budget.inUse, inner.open, 'held descriptors are counted')
  fs.unlinkSync(names[0])
  fs.unlinkSync(names[1])
  for (let round = 0; round < 3; round++) for (let i = 2; i < 6; i++) readAt(readers[i])
  t.ok(inner.open <= 3, `the others take turns with what is left (${inner.open} open)`)
  t.equal(attempt(t, () => readAt(readers[0])), expectedAt(names[0]), 'the held readers read their deleted files')
  t.equal(attempt(t, () => readAt(readers[1])), expectedAt(names[1]))
  bfs.release(readers[1])
  for (let i = 2; i < 6; i++) readAt(readers[i])
  t.throws(() => readAt(readers[1]), /ENOENT/, 'once released it closed to make room, and its deleted file cannot reopen')
  const before = budget.inUse
  readers[0].close()
  t.equal(budget.inUse, before - 1, 'closing a held reader gives its descriptor back')
  for (const r of readers) r.close()
  t.equal(budget.inUse, 0, 'and nothing stays counted')
  t.equal(inner.open, 0)
  t.end()
})

test('file systems sharing a budget count together; each closes only its own readers', (t) => {
  const names = files('shared', 12)
  const innerA = new CappedFileSystem()
  const innerB = new CappedFileSystem()
  const budget = new DescriptorBudget(6)
  const a = new BudgetedFileSystem(innerA, budget)
  // The other thread's side: the same count, through the shared buffer.
  const b = new BudgetedFileSystem(innerB, new DescriptorBudget(budget.shared))
  const readersA = names.slice(0, 6).map((n) => a.openRandomAccess(n))
  t.equal(budget.inUse, 6, 'A holds the whole budget')
  const readersB = names.slice(6).map((n) => b.openRandomAccess(n))
  t.equal(innerA.open, 6, 'B never closes A\'s readers')
  t.equal(innerB.open, 1, 'B, with nothing of its own to give up, keeps one descriptor past the limit at a time')
  t.equal(budget.inUse, 7)
  readersB.forEach((r, i) => t.equal(readAt(r), expectedAt(names[6 + i]), `B reads ${path.basename(names[6 + i])} all the same`))
  t.equal(innerB.peak, 1, 'one at a time')

  // A's next open finds the count over the limit and closes its own oldest readers until it is not.
  const extra = a.openRandomAccess(names[0])
  t.equal(budget.inUse, 6, 'back within the limit')
  t.equal(innerA.open + innerB.open, 6)
  a.closeIdle()
  t.equal(innerA.open, 0, 'closeIdle() closes every reader of A')
  t.equal(budget.inUse, innerB.open, 'leaving only B\'s descriptors counted')
  readersA.forEach((r, i) => t.equal(readAt(r), expectedAt(names[i]), `A's ${path.basename(names[i])} reopens to read`))
  for (const r of [...readersA, ...readersB, extra]) r.close()
  t.equal(budget.inUse, 0, 'nothing left counted')
  t.end()
})

test('files being written and brief opens are never refused: idle readers close to make room', (t) => {
  const names = files('writers', 4)
  const inner = new CappedFileSystem()
  const budget = new DescriptorBudget(4)
  const bfs = new BudgetedFileSystem(inner, budget)
  const readers = names.map((n) => bfs.openRandomAccess(n))
  const dir = path.dirname(names[0])
  const writers: WritableFile[] = []
  for (let i = 0; i < 6; i++) writers.push(bfs.openWritable(path.join(dir, `w${i}`)))
  t.equal(inner.open, 6, 'six files being written, past a limit of four, and no reader left holding a descriptor')
  t.equal(bfs.holding, 0)
  t.equal(bfs.readFile(names[1]).toString(), `f1:`.repeat(100), 'readFile still works')
  t.deepEqual(bfs.readdir(dir).filter((n) => n.startsWith('w')).sort(), ['w0', 'w1', 'w2', 'w3', 'w4', 'w5'], 'so does readdir')
  bfs.syncDir(dir)
  t.equal(budget.inUse, 6, 'brief opens are uncounted when they end')
  writers.forEach((w, i) => {
    w.append(Buffer.from(`written ${i}`), 0, 9)
    w.close()
    w.close()
  })
  t.equal(budget.inUse, 0, 'a closed writer is uncounted once, however often it is closed')
  t.equal(fs.readFileSync(path.join(dir, 'w5'), 'latin1'), 'written 5')
  readers.forEach((r, i) => t.equal(readAt(r), expectedAt(names[i]), 'the readers reopen to read'))
  for (const r of readers) r.close()
  t.end()
})

test('EMFILE from elsewhere in the process: idle readers close and the open is retried; with none to close, the error is the caller\'s', (t) => {
  const names = files('emfile', 8)
  const inner = new CappedFileSystem()
  const budget = new DescriptorBudget(100)
  const bfs = new BudgetedFileSystem(inner, budget)
  const readers = names.map((n) => bfs.openRandomAccess(n))
  // The process runs out: whatever else holds descriptors, only 8 are left to us.
  inner.cap = 8
  const w = attempt(t, () => bfs.openWritable(path.join(path.dirname(names[0]), 'out')))
  t.equal(inner.open, 5, 'the write got its descriptor after half the idle readers (4) closed')
  t.equal(budget.inUse, 5, 'and the count follows')
  t.equal(attempt(t, () => bfs.readFile(names[7]))?.toString().slice(0, 3), 'f7:', 'a brief open at the cap also succeeds')
  inner.cap = 5
  readers.forEach((r, i) => t.equal(attempt(t, () => readAt(r)), expectedAt(names[i]), `reader ${i} reads at the cap`))
  t.ok(inner.open <= 5, 'never past the cap')

  bfs.closeIdle()
  inner.cap = 1 // the writer's descriptor is all there is
  let caught: unknown
  try {
    bfs.openWritable(path.join(path.dirname(names[0]), 'out2'))
  } catch (err) {
    caught = err
  }
  t.ok(isDescriptorShortage(caught), 'with no reader to close, EMFILE reaches the caller')
  t.equal(budget.inUse, 1, 'and the failed open is not counted')
  w?.close()
  for (const r of readers) r.close()
  t.equal(budget.inUse, 0)
  t.end()
})

test('descriptorLimit: maxOpenFiles, lowered to four fifths of what the process can spare beyond its workers', (t) => {
  t.equal(descriptorLimit(1000, undefined), 1000, 'a limit that cannot be read leaves maxOpenFiles')
  t.equal(descriptorLimit(1000, 100000), 1000, 'an ample limit leaves maxOpenFiles')
  t.equal(descriptorLimit(20, 100000), 20)
  // ulimit -n 64 with 20 descriptors open: 44 spare, 8 for the workers' event loops, a fifth of 36 left.
  t.equal(descriptorLimit(1000, 44), 29)
  t.equal(descriptorLimit(1000, 10), MIN_OPEN_FILES, 'never below the minimum a database needs')
  const spare = spareDescriptors()
  if (process.platform === 'linux') {
    const limit = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'))?.[1]
    const open = fs.readdirSync('/proc/self/fd').length - 1
    t.equal(spare, limit === undefined ? undefined : Number(limit) - open, 'Linux: the soft limit less the descriptors open now')
  } else {
    t.equal(spare, undefined, 'elsewhere: unknown')
  }
  t.end()
})

test('isDescriptorShortage: EMFILE and ENFILE, through the causes errors are wrapped in', (t) => {
  const emfile = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' })
  t.ok(isDescriptorShortage(emfile))
  t.ok(isDescriptorShortage(fromFsError('opening x', emfile)), 'wrapped as LEVEL_IO_ERROR')
  t.ok(isDescriptorShortage(fromFsError('outer', fromFsError('inner', Object.assign(new Error('ENFILE'), { code: 'ENFILE' })))))
  t.notOk(isDescriptorShortage(fromFsError('opening x', Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }))))
  t.notOk(isDescriptorShortage(new Error('plain')))
  t.notOk(isDescriptorShortage(undefined))
  t.end()
})

test('retryWhileShort: a shortage is retried with pauses doubling from 10 ms, at once after relieve() freed some; any other outcome ends it', async (t) => {
  const outcomes = ['EMFILE', 'ENFILE', 'EMFILE', 'done']
  const times: number[] = []
  const started = Date.now()
  const result = await retryWhileShort(async () => { times.push(Date.now() - started); return outcomes.shift()! }, (o) => o === 'EMFILE' || o === 'ENFILE')
  t.is(result, 'done', 'the first outcome that is no shortage is returned')
  t.is(times.length, 4, 'after three retries')
  // Less 1 ms each: a timer runs by libuv's loop time, cached at the start of the loop's turn, so measured with
  // Date.now() a 10 ms timer can fire after 9 ms (it did: attempts at 0, 9, 29, 69 ms).
  t.ok(times[1] >= 9 && times[2] - times[1] >= 19 && times[3] - times[2] >= 39, `pauses of about 10, 20, 40 ms (attempts at ${times.join(', ')} ms)`)

  let relieved = 0
  const quick: number[] = []
  const s0 = Date.now()
  const again = ['EMFILE', 'EMFILE', 'ENOSPC']
  t.is(await retryWhileShort(async () => { quick.push(Date.now() - s0); return again.shift()! }, (o) => o === 'EMFILE', { relieve: () => ++relieved > 0 }), 'ENOSPC',
    'ENOSPC is no shortage: returned, not retried')
  t.is(relieved, 2, 'relieve ran after each shortage')
  t.ok(quick[2] < 10, `and freed descriptors, so no pause was taken (${quick.join(', ')} ms)`)
  t.end()
})

test('retryWhileShort: a shortage that lasts is the caller\'s after waitMs; stop() ends the wait after a pause', async (t) => {
  let attempts = 0
  const s0 = Date.now()
  t.is(await retryWhileShort(async () => { attempts++; return 'EMFILE' }, () => true, { waitMs: 200 }), 'EMFILE', 'the shortage itself is returned')
  const took = Date.now() - s0
  // It stops when the next pause (10 ms doubling: 10 * 2^(attempts - 1) after the last attempt) would end past
  // waitMs: so never early, whatever the machine's load does to timers (it did once stop at 133 ms, after
  // attempts at late timers, when the next pause of 80 ms would have ended at 213).
  const nextPause = 10 * 2 ** (attempts - 1)
  t.ok(took + nextPause > 200 && took < 2000 && attempts >= 3, `after about waitMs (${took} ms, ${attempts} attempts, the next pause ${nextPause} ms)`)
  let stopAsked = 0
  attempts = 0
  t.is(await retryWhileShort(async () => { attempts++; return 'EMFILE' }, () => true, { stop: () => ++stopAsked > 0 }), 'EMFILE')
  t.is(attempts, 1, 'stop() is asked after the first pause and ends the wait')
  t.end()
})

test('syncDirAsync waits out EMFILE: idle readers close first, then it pauses; ENOSPC is thrown at once; the count is given back', async (t) => {
  const names = files('syncdir', 4)
  const dir = path.dirname(names[0])
  const inner = new CappedFileSystem()
  const budget = new DescriptorBudget(100)
  const bfs = new BudgetedFileSystem(inner, budget)
  const readers = names.map((n) => bfs.openRandomAccess(n))
  inner.syncFailures = ['EMFILE', 'EMFILE', 'EMFILE', 'EMFILE']
  const s0 = Date.now()
  await bfs.syncDirAsync(dir)
  t.is(inner.syncDirCalls, 5, 'the fsync ran again after each EMFILE, and succeeded')
  t.is(bfs.holding, 0, 'the idle readers were closed to make room (2, then 1, then 1)')
  t.ok(Date.now() - s0 >= 10, 'and with none left to close, it paused before the last attempt')
  t.is(budget.inUse, 0, 'nothing stays counted')
  inner.syncFailures = ['ENOSPC']
  inner.syncDirCalls = 0
  const err = await bfs.syncDirAsync(dir).then(() => undefined, (e: unknown) => e)
  t.is((err as { code?: string } | undefined)?.code, 'ENOSPC', 'another error is the caller\'s at once')
  t.is(inner.syncDirCalls, 1, 'with no retry')
  t.is(budget.inUse, 0, 'nothing stays counted')
  t.equal(readAt(readers[0]), expectedAt(names[0]), 'a closed reader reopens to read')
  for (const r of readers) r.close()
  t.end()
})
