// Recovery as a classic-level user relies on it: whatever was acknowledged is there after close and
// reopen, after a crash (SIGKILL) of a process that wrote with sync, and after a process exit without close;
// a torn WAL tail loses only its last record; damage in the middle of a WAL fails open with LEVEL_CORRUPTION.
import test from 'tape'
import type { Test } from 'tape'
import crypto = require('node:crypto')
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { fork, spawn } from 'node:child_process'
import { RoughLevel } from '../../index'
import {
  applyInRuns, applyToModel, SYNC_OPS_MAX, syncDeletes, syncDelKey, syncValue, workload,
  type Model
} from '../fixtures/level-child'

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'level-child.js')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-recovery-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

type Db = RoughLevel<Buffer, Buffer>
type Entry = [Buffer, Buffer]

const openDb = async (dir: string): Promise<Db> => {
  const db: Db = new RoughLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  try {
    await db.open()
  } catch (err: any) {
    // Show the engine's reason (abstract-level's own message is only 'Database failed to open').
    throw new Error(`open failed: ${String(err.cause?.message ?? err.message)}`)
  }
  return db
}

function sorted (model: Model): Entry[] {
  return [...model.values()].sort((a, b) => Buffer.compare(a[0], b[0]))
}

const show = (b: Buffer | undefined): string =>
  b === undefined ? 'undefined' : b.length > 24 ? `${b.subarray(0, 24).toString('hex')}...(${b.length} bytes)` : `<${b.toString('hex')}>`

/** 'equal', or where two entry lists first differ (never a multi-megabyte diff). */
function diff (actual: Array<[Buffer | undefined, Buffer | undefined]>, expected: Entry[]): string {
  for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
    const a = actual[i]
    const e = expected[i]
    if (a === undefined || e === undefined) return `lengths differ: ${actual.length} vs expected ${expected.length} (first extra at ${i}: ${show((a ?? e)?.[0])})`
    if (a[0] === undefined || a[1] === undefined || !a[0].equals(e[0]) || !a[1].equals(e[1])) {
      return `entry ${i}: got ${show(a[0])}=${show(a[1])}, expected ${show(e[0])}=${show(e[1])}`
    }
  }
  return 'equal'
}

/** The database holds exactly the model: full iteration both ways, and a get of every key ever written. */
async function verify (t: Test, db: Db, model: Model, everWritten: Map<string, Buffer>, label: string): Promise<void> {
  const expected = sorted(model)
  t.equal(diff(await db.iterator().all(), expected), 'equal', `${label}: forward iteration matches the model (${expected.length} entries)`)
  t.equal(diff(await db.iterator({ reverse: true }).all(), expected.slice().reverse()), 'equal', `${label}: reverse iteration matches the model`)
  const keys = [...everWritten.values()]
  const values = await db.getMany(keys)
  let wrong = 0
  let first = ''
  keys.forEach((k, i) => {
    const want = model.get(k.toString('hex'))?.[1]
    const got = values[i]
    if (want === undefined ? got !== undefined : got === undefined || !got.equals(want)) {
      if (wrong++ === 0) first = `${show(k)}: got ${show(got)}, expected ${show(want)}`
    }
  })
  t.equal(first, '', `${label}: getMany of all ${keys.length} keys ever written (live and deleted) matches (${wrong} wrong)`)
}

function track (everWritten: Map<string, Buffer>, ops: ReturnType<typeof workload>): void {
  for (const op of ops) {
    for (const w of op.type === 'batch' ? op.ops : [op]) {
      const k = typeof w.key === 'string' ? Buffer.from(w.key) : w.key
      everWritten.set(k.toString('hex'), k)
    }
  }
}

const logFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => /^\d+\.log$/.test(f)).sort()
const newestLog = (dir: string): string => path.join(dir, logFiles(dir).at(-1)!)

/** The physical records of a log file (32 KiB blocks, 7-byte headers). */
function physicalRecords (data: Buffer): Array<{ offset: number, length: number, type: number }> {
  const out: Array<{ offset: number, length: number, type: number }> = []
  let pos = 0
  while (pos + 7 <= data.length) {
    const left = 32768 - (pos % 32768)
    if (left < 7) { pos += left; continue }
    const length = data.readUInt16LE(pos + 4)
    const type = data[pos + 6]
    if (type === 0 && length === 0) break
    out.push({ offset: pos, length, type })
    pos += 7 + length
  }
  return out
}

function snapshotDir (dir: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const f of fs.readdirSync(dir).sort()) {
    out.set(f, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex'))
  }
  return out
}

async function openError (dir: string): Promise<any> {
  const db: Db = new RoughLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  try {
    await db.open()
  } catch (err: any) {
    return err
  }
  await db.close()
  return undefined
}

// ---------------------------------------------------------------------------------------------------------

test('recovery: puts, dels, batches of utf8 and buffer keys, values up to ~100 KB, over several reopen cycles', async (t) => {
  const dir = tempDir()
  const model: Model = new Map()
  const everWritten = new Map<string, Buffer>()
  const cycles = 4
  for (let cycle = 0; cycle < cycles; cycle++) {
    const db = await openDb(dir)
    if (cycle > 0) await verify(t, db, model, everWritten, `reopen ${cycle}`)
    const ops = workload(1000 + cycle, 500)
    track(everWritten, ops)
    await applyInRuns(db, ops, 2000 + cycle)
    for (const op of ops) applyToModel(model, op)
    if (cycle === 0) await verify(t, db, model, everWritten, 'before the first close')
    await db.close()
  }
  t.ok(sorted(model).some(([, v]) => v.length > 32768), 'some value spans log blocks')
  // A session that writes nothing, then one more reopen.
  const idle = await openDb(dir)
  await idle.close()
  const db = await openDb(dir)
  await verify(t, db, model, everWritten, 'after an idle session')
  await db.close()
})

test('recovery: a child writing with sync and killed by SIGKILL keeps every acknowledged write', async (t) => {
  const dir = tempDir()
  const KILL_AFTER = 400
  const acked = new Set<number>()
  let stderr = ''
  const child = fork(FIXTURE, ['sync-writes', dir], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exit = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('message', (m: unknown) => {
      if (typeof m === 'number') acked.add(m)
      // Kill right after an acknowledgement arrives, while the next writes are in flight.
      if ((acked.size >= KILL_AFTER || m === 'done') && !child.killed) child.kill('SIGKILL')
    })
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  t.equal(stderr, '', 'the child reported no error')
  t.equal(exit.signal, 'SIGKILL', 'the child was killed by SIGKILL')
  t.ok(acked.size >= KILL_AFTER, `${acked.size} writes were acknowledged before the kill`)

  const db = await openDb(dir)
  const present: number[] = []
  let badValue = ''
  for await (const [k, v] of db.iterator({ gte: Buffer.from('p'), lt: Buffer.from('q') })) {
    const i = Number(k.toString().slice(1))
    present.push(i)
    if (badValue === '' && v.toString() !== syncValue(i)) badValue = `${k.toString()} has a wrong value`
  }
  const survived = present.length
  t.equal(badValue, '', 'every surviving write has its value')
  t.ok(present.every((i, n) => i === n), `the surviving writes are a prefix of the issued ones (${survived} of them)`)
  const lost = [...acked].filter((i) => i >= survived)
  t.same(lost, [], 'every acknowledged write survived the kill')
  let deleteMismatch = ''
  const dels: number[] = []
  for (let i = 0; i < SYNC_OPS_MAX; i++) if (syncDeletes(i)) dels.push(i)
  const got = await db.getMany(dels.map((i) => Buffer.from(syncDelKey(i))))
  dels.forEach((i, n) => {
    const shouldBeDeleted = i < survived
    if (deleteMismatch === '' && (got[n] === undefined) !== shouldBeDeleted) {
      deleteMismatch = `${syncDelKey(i)}: ${shouldBeDeleted ? 'present, but its delete survived' : 'deleted, but its delete did not survive'}`
    }
  })
  t.equal(deleteMismatch, '', 'each batch\'s delete survived exactly when its put did (batches are atomic)')
  await db.close()
})

test('recovery: a child that writes without sync and exits without close loses nothing', async (t) => {
  const dir = tempDir()
  const seed = 77
  const count = 1500
  const child = spawn(process.execPath, [FIXTURE, 'nosync-exit', dir, String(seed), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
  t.equal(stderr, '', 'the child reported no error')
  t.equal(code, 0, 'the child exited with code 0')
  t.equal(out.trim(), 'written', 'the child wrote everything before exiting')

  const ops = workload(seed, count)
  const model: Model = new Map()
  const everWritten = new Map<string, Buffer>()
  track(everWritten, ops)
  for (const op of ops) applyToModel(model, op)
  const db = await openDb(dir)
  await verify(t, db, model, everWritten, 'after exit without close')
  await db.close()
})

test('recovery: a torn WAL tail opens and loses only the last record', async (t) => {
  const dir = tempDir()
  let db = await openDb(dir)
  const model: Model = new Map()
  const everWritten = new Map<string, Buffer>()
  const put = async (k: string, v: string | Buffer): Promise<void> => {
    const key = Buffer.from(k)
    const value = typeof v === 'string' ? Buffer.from(v) : v
    everWritten.set(key.toString('hex'), key)
    await db.put(key, value)
    model.set(key.toString('hex'), [key, value])
  }
  for (let i = 0; i < 20; i++) await put(`key${i}`, `value${i}`)
  await put('big', Buffer.alloc(40000, 'b'))
  // The last record: a batch, which must vanish as a whole.
  everWritten.set(Buffer.from('torn1').toString('hex'), Buffer.from('torn1'))
  await db.batch([
    { type: 'put', key: Buffer.from('torn1'), value: Buffer.from('x') },
    { type: 'del', key: Buffer.from('key3') },
    { type: 'put', key: Buffer.from('key4'), value: Buffer.from('overwritten') }
  ])
  await db.close()

  const log = newestLog(dir)
  const size = fs.statSync(log).size
  fs.truncateSync(log, size - 3)
  db = await openDb(dir)
  await verify(t, db, model, everWritten, 'torn batch record')
  t.equal((await db.get(Buffer.from('key3')))?.toString(), 'value3', 'the torn batch\'s delete is not applied')

  // The next records are written after the torn one (in a new log); the torn log stays readable.
  await put('after', 'torn')
  await put('big2', Buffer.alloc(70000, 'c'))
  await db.close()

  // A torn fragmented record: its last fragment loses a few bytes.
  fs.truncateSync(newestLog(dir), fs.statSync(newestLog(dir)).size - 5)
  model.delete(Buffer.from('big2').toString('hex'))
  db = await openDb(dir)
  await verify(t, db, model, everWritten, 'torn fragmented record (and an older torn log)')
  await put('later', 'still fine')
  await db.close()

  // A fragmented record torn at a block boundary: its FIRST fragment is whole, the rest never written.
  db = await openDb(dir)
  await put('big3', Buffer.alloc(100000, 'd'))
  await db.close()
  const log3 = newestLog(dir)
  const first = physicalRecords(fs.readFileSync(log3)).find((r) => r.type === 2) // FIRST
  t.ok(first !== undefined && (first.offset + 7 + first.length) % 32768 === 0, 'the big record starts with a FIRST fragment that ends a block')
  fs.truncateSync(log3, first!.offset + 7 + first!.length)
  model.delete(Buffer.from('big3').toString('hex'))
  db = await openDb(dir)
  await verify(t, db, model, everWritten, 'record torn after its FIRST fragment')
  await put('later2', 'fine too')
  await db.close()

  // A zero-filled tail (space allocated, bytes never written) is a torn write too.
  fs.appendFileSync(newestLog(dir), Buffer.alloc(5000))
  db = await openDb(dir)
  await verify(t, db, model, everWritten, 'zero-filled tail')
  await db.close()
  db = await openDb(dir)
  await verify(t, db, model, everWritten, 'one more reopen')
  await db.close()
})

test('recovery: a record after a block trailer of 0..7 bytes reads back', async (t) => {
  // A put of key 'a' with an n-byte value (16384 <= n < 2^21) is a log record of 25 + n bytes: the
  // 7-byte header, the 12-byte batch header, tag, key length, key, a 3-byte value length.
  // With trailer bytes left in the first block (< 7), the writer pads them with zeros and the next record
  // starts in the second block; with 7, the next record starts with an empty FIRST fragment.
  for (let trailer = 0; trailer <= 7; trailer++) {
    const dir = tempDir()
    let db = await openDb(dir)
    const big = Buffer.alloc(32768 - trailer - 25, 'x')
    await db.put(Buffer.from('a'), big)
    await db.put(Buffer.from('b'), Buffer.from('y'))
    await db.put(Buffer.from('c'), Buffer.alloc(40000, 'z'))
    await db.close()
    t.ok(physicalRecords(fs.readFileSync(newestLog(dir)))[0].length === big.length + 18, `trailer ${trailer}: the first record is ${32768 - trailer} bytes`)
    let entries: Array<[Buffer, Buffer]> = []
    try {
      db = await openDb(dir)
      entries = await db.iterator().all()
      await db.close()
    } catch (err: any) {
      t.fail(`trailer ${trailer}: ${String(err.message)}`)
    }
    t.same(entries.map(([k, v]) => `${k.toString()}:${v.length}`), ['a:' + big.length, 'b:1', 'c:40000'], `trailer ${trailer}: every record reads back`)
  }
})

/**
 * Writes `count` records of `size`-byte values (each its own record), closes, flips a byte in the middle of
 * record `victim` of the log written, and returns that log's path.
 */
async function writeRecords (dir: string, prefix: string, count: number, size: number): Promise<string> {
  const db = await openDb(dir)
  for (let i = 0; i < count; i++) await db.put(Buffer.from(`${prefix}${String(i).padStart(4, '0')}`), Buffer.alloc(size, 'v'))
  await db.close()
  return newestLog(dir)
}

function corruptRecord (log: string, victim: number): void {
  const data = fs.readFileSync(log)
  const records = physicalRecords(data)
  const r = records[victim]
  data[r.offset + 7 + (r.length >> 1)] ^= 0x55
  fs.writeFileSync(log, data)
}

async function expectCorruption (t: Test, dir: string, log: string, label: string): Promise<void> {
  const before = snapshotDir(dir)
  const err = await openError(dir)
  t.equal(err?.code, 'LEVEL_DATABASE_NOT_OPEN', `${label}: open fails with LEVEL_DATABASE_NOT_OPEN`)
  t.equal(err?.cause?.code, 'LEVEL_CORRUPTION', `${label}: its cause is LEVEL_CORRUPTION`)
  t.ok(String(err?.cause?.message).includes(path.basename(log)), `${label}: the error names the file (${String(err?.cause?.message)})`)
  t.same(snapshotDir(dir), before, `${label}: the failed open changed nothing on disk`)
}

test('recovery: a corrupted byte in a WAL record followed by valid records in later blocks fails open with LEVEL_CORRUPTION', async (t) => {
  const dir = tempDir()
  const log = await writeRecords(dir, 'k', 100, 1000) // ~100 KB: four blocks
  t.ok(physicalRecords(fs.readFileSync(log)).length >= 100, 'one record per put')
  corruptRecord(log, 10)
  await expectCorruption(t, dir, log, 'newest log')
})

test('recovery: a corrupted byte in an older WAL file (followed by valid records) fails open with LEVEL_CORRUPTION', async (t) => {
  const dir = tempDir()
  // A process that exits between a memtable switch and the end of its flush leaves two live logs.
  const child = spawn(process.execPath, [FIXTURE, 'switch-exit', dir, '100'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  await new Promise((resolve) => child.on('close', resolve))
  t.equal(out.trim(), 'written', 'the child wrote 100 KB into a 64 KiB memtable and exited')
  const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort()
  t.equal(logs.length, 2, 'two logs: the switched-away one is still live')
  const older = path.join(dir, logs[0])
  corruptRecord(older, 40)
  await expectCorruption(t, dir, older, 'older log')
})

test('recovery: a corrupted byte in a WAL record followed by valid records in the same block fails open with LEVEL_CORRUPTION', async (t) => {
  const dir = tempDir()
  const log = await writeRecords(dir, 'k', 10, 20) // all in the first block
  t.ok(fs.statSync(log).size < 32768, 'the log is a single block')
  corruptRecord(log, 3)
  await expectCorruption(t, dir, log, 'same block')
})

test('recovery: the open resolves before the last replayed memtable is in a table; reads serve it at once, and its table follows', async (t) => {
  const dir = tempDir()
  let db = new RoughLevel(dir)
  await db.open()
  await db.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(5, '0')}`, value: `v${i}` })))
  await db.close()
  const logBefore = fs.readdirSync(dir).filter((n) => n.endsWith('.log'))
  db = new RoughLevel(dir)
  await db.open()
  // The table is written on the flush worker and recorded with fsyncs on the thread pool: none of that can
  // have finished within the microtasks since the open resolved.
  t.is(db.getProperty('leveldb.num-files-at-level0'), '0', 'no table yet when the open resolves')
  t.is(await db.get('k01999'), 'v1999', 'and the replayed writes are read')
  t.ok(await db.approximateSize('k', 'l') > 0, 'approximateSize counts them (it waits for their table)')
  t.is(db.getProperty('leveldb.num-files-at-level0'), '1', 'which is at level 0, as LevelDB\'s recovery places it')
  t.ok(logBefore.every((n) => !fs.existsSync(path.join(dir, n))), `and the replayed log (${logBefore.join(', ')}) is gone`)
  await db.close()
})
