// Snapshot and iterator consistency while the memtable flushes to tables underneath (writeBufferSize 64 KiB):
// iterators and snapshots taken before (and between) several flushes keep reading their state, in both
// directions and after seeks; writes issued while a flush runs are all acknowledged and readable; a reopen
// after many flushes sees everything; approximateSize follows the data into tables; getProperty as
// classic-level's getproperty-test checks it; and a child killed by SIGKILL while a flush is in flight loses
// no acknowledged write.
import test from 'tape'
import type { Test } from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { fork } from 'node:child_process'
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'
import {
  copyDir, diff, type Entry, expectRange, filesPerLevel, LogWatcher, Model, prng, randomBytes, show, sum, tableFiles, verify, Writer
} from '../fixtures/tables-model'
import {
  markerPath, WRITER_MIN_ACKS, WRITER_MIN_TABLES, writerDeletes, writerDelKey, type WriterMarker, writerValue
} from '../fixtures/tables-writer'

const WRITER = path.join(__dirname, '..', 'fixtures', 'tables-writer.js')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-flush-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

const KiB = 1024
type Db = RoughLevel<Buffer, Buffer>
const OPTIONS = { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 64 * KiB } as const

async function openDb (dir: string, extra: { compression?: boolean } = {}): Promise<Db> {
  const db: Db = new RoughLevel(dir, { ...OPTIONS, ...extra })
  try {
    await db.open()
  } catch (err: any) {
    throw new Error(`open failed: ${String(err.cause?.message ?? err.message)}`)
  }
  return db
}

/** The live tables and their levels, from leveldb.sstables. */
function liveTables (db: Db): Array<{ number: number, level: number }> {
  const out: Array<{ number: number, level: number }> = []
  let level = -1
  for (const line of db.getProperty('leveldb.sstables').split('\n')) {
    if (line.startsWith('--- level ')) level = Number(line.slice(10, -4))
    const m = /^ (\d+):/.exec(line)
    if (m !== null) out.push({ number: Number(m[1]), level })
  }
  return out
}

const key = (i: number, suffix = ''): Buffer => Buffer.from(`k${String(i).padStart(5, '0')}${suffix}`)
const logFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => /^\d+\.log$/.test(f))

/** A state to check later: a model of what it must see, and the readers that must see it. */
interface Pinned {
  label: string
  sorted: Entry[]
  model: Model
  snapshot: ReturnType<Db['snapshot']>
}

/** Everything a snapshot must show: iteration both ways, a seek in each direction, ranges, get, getMany. */
async function checkSnapshot (t: Test, db: Db, p: Pinned, seed: number): Promise<void> {
  const snapshot = p.snapshot
  t.equal(diff(await db.iterator({ snapshot }).all(), p.sorted), 'equal', `${p.label}: iterator({ snapshot }) reads the old state (${p.sorted.length} entries)`)
  t.equal(diff(await db.iterator({ snapshot, reverse: true }).all(), p.sorted.slice().reverse()), 'equal', `${p.label}: reverse iterator({ snapshot }) reads the old state`)
  const rnd = prng(seed)
  let bad = ''
  for (let q = 0; q < 10 && bad === ''; q++) {
    const a = key(Math.floor(rnd() * 3200))
    const b = key(Math.floor(rnd() * 3200))
    const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a]
    const range = { gte: lo, lt: hi, reverse: rnd() < 0.5, limit: rnd() < 0.5 ? 25 : -1 }
    const d = diff(await db.iterator({ ...range, snapshot }).all(), expectRange(p.sorted, range))
    if (d !== 'equal') bad = `range ${show(lo)}..${show(hi)}${range.reverse ? ' reverse' : ''}: ${d}`
  }
  t.equal(bad, '', `${p.label}: range iterations with { snapshot } read the old state`)
  const it = db.iterator({ snapshot })
  const target = key(1000, '5')
  it.seek(target)
  const after = p.sorted.filter(([k]) => Buffer.compare(k, target) >= 0).slice(0, 30)
  t.equal(diff(await it.nextv(30), after), 'equal', `${p.label}: seek on an iterator with { snapshot } reads the old state`)
  await it.close()

  const keys = [...p.model.everWritten.values()]
  const values = await db.getMany(keys, { snapshot })
  let wrong = 0
  let first = ''
  for (let i = 0; i < keys.length; i++) {
    const want = p.model.get(keys[i])
    const got = values[i]
    if (want === undefined ? got !== undefined : got === undefined || !got.equals(want)) {
      if (wrong++ === 0) first = `${show(keys[i])}: got ${show(got)}, expected ${show(want)}`
    }
  }
  t.equal(first, '', `${p.label}: getMany({ snapshot }) of ${keys.length} keys reads the old values (${wrong} wrong)`)
  wrong = 0
  first = ''
  for (let i = 0; i < keys.length; i += 7) {
    const want = p.model.get(keys[i])
    const got = await db.get(keys[i], { snapshot })
    if (want === undefined ? got !== undefined : got === undefined || !got.equals(want)) {
      if (wrong++ === 0) first = `${show(keys[i])}: got ${show(got)}, expected ${show(want)}`
    }
  }
  t.equal(first, '', `${p.label}: get({ snapshot }) reads the old values (${wrong} wrong)`)
}

// ---------------------------------------------------------------------------------------------------------

test('flush: iterators and snapshots taken before several flushes keep reading their state', async (t) => {
  const dir = tempDir()
  const db = await openDb(dir)
  const model = new Model()
  const logs = new LogWatcher(dir)
  const w = new Writer(db, model, 'a', () => logs.observe())
  const rnd = prng(1)
  // About 300 KB: a few flushes already, and the last part still in the memtable.
  for (let i = 0; i < 2000; i++) {
    await w.put(key(i), randomBytes(rnd, 50 + Math.floor(rnd() * 200)))
    if (i % 5 === 4) await w.del(key(i - 2))
    if (i % 100 === 99) await w.settle()
  }
  await w.settle()
  const before = model.sorted()
  const switchesBefore = logs.switches
  const tablesBefore = liveTables(db)

  // Readers of the state now: whole iterations each way, a range, a partly read iterator, one to seek.
  const forward = db.iterator()
  const reverse = db.iterator({ reverse: true })
  const keysIt = db.keys({ gt: key(500), lte: key(1500) })
  const valuesIt = db.values({ reverse: true, lt: key(1800) })
  const partial = db.iterator()
  const partialRead: Entry[] = await partial.nextv(200)
  const seeker = db.iterator()
  const reverseSeeker = db.iterator({ reverse: true })
  const pinned: Pinned[] = [{ label: 'snapshot before the writes', sorted: before, model: model.clone(), snapshot: db.snapshot() }]

  // Writes over all of it: overwrites, deletes, new keys in between, ~1.5 MB; the partial iterator and
  // new snapshots are taken while the flushes go on.
  for (let i = 0; i < 3000; i++) {
    const n = Math.floor(rnd() * 2000)
    const r = rnd()
    if (r < 0.4) await w.put(key(n), randomBytes(rnd, 200 + Math.floor(rnd() * 400)))
    else if (r < 0.6) await w.del(key(n))
    else await w.put(key(n, '5'), randomBytes(rnd, 200 + Math.floor(rnd() * 400)))
    if (i % 50 === 49) {
      await w.settle()
      partialRead.push(...await partial.nextv(5))
    }
    if (i === 1000 || i === 2200) {
      await w.settle()
      pinned.push({ label: `snapshot after ${i} writes`, sorted: model.sorted(), model: model.clone(), snapshot: db.snapshot() })
    }
  }
  await w.settle()
  const flushes = logs.switches - switchesBefore
  const files = filesPerLevel(db)
  t.ok(flushes >= 5, `the writes flushed ${flushes} memtables underneath (${sum(files)} tables now, per level ${files.join(',')})`)
  // Compactions ran too: tables the early iterators read were replaced; those at levels >= 1 are opened
  // only when an iterator reaches them, so they must still be on disk (the iterators pin their version).
  const tablesAfter = new Set(liveTables(db).map((f) => f.number))
  const gone = tablesBefore.filter((f) => !tablesAfter.has(f.number))
  t.ok(gone.some((f) => f.level >= 1), `of the ${tablesBefore.length} tables before the writes (levels ${tablesBefore.map((f) => f.level).join(',')}), ${gone.length} were compacted away underneath the iterators (${gone.filter((f) => f.level >= 1).length} at levels >= 1)`)

  t.equal(diff(await forward.all(), before), 'equal', `an iterator created before the writes yields exactly the old state (${before.length} entries)`)
  t.equal(diff(await reverse.all(), before.slice().reverse()), 'equal', 'a reverse iterator created before the writes yields the old state')
  const keysExpected = expectRange(before, { gt: key(500), lte: key(1500) }).map(([k]) => k.toString('hex'))
  t.same((await keysIt.all()).map((k) => k.toString('hex')), keysExpected, 'a keys iterator over a range created before the writes yields the old keys')
  const valuesExpected = expectRange(before, { lt: key(1800), reverse: true }).map(([, v]) => v.toString('hex'))
  t.same((await valuesIt.all()).map((v) => v.toString('hex')), valuesExpected, 'a reverse values iterator created before the writes yields the old values')
  partialRead.push(...await partial.all())
  t.equal(diff(partialRead, before), 'equal', 'an iterator read a little between flushes yields exactly the old state')

  const seekRnd = prng(2)
  let bad = ''
  for (let s = 0; s < 20 && bad === ''; s++) {
    const target = key(Math.floor(seekRnd() * 2100), seekRnd() < 0.5 ? '' : '5')
    seeker.seek(target)
    const want = before.filter(([k]) => Buffer.compare(k, target) >= 0).slice(0, 10)
    const d = diff(await seeker.nextv(10), want)
    if (d !== 'equal') bad = `forward seek ${show(target)}: ${d}`
    reverseSeeker.seek(target)
    const wantR = before.filter(([k]) => Buffer.compare(k, target) <= 0).reverse().slice(0, 10)
    const dR = diff(await reverseSeeker.nextv(10), wantR)
    if (bad === '' && dR !== 'equal') bad = `reverse seek ${show(target)}: ${dR}`
  }
  t.equal(bad, '', 'seeks (forward and reverse) on iterators created before the writes read the old state')
  for (const it of [forward, reverse, keysIt, valuesIt, partial, seeker, reverseSeeker]) await it.close()

  for (const [i, p] of pinned.entries()) await checkSnapshot(t, db, p, 10 + i)
  await verify(t, db, model, 'the current state', 3)

  // A full compaction while the snapshots are held (and an iterator not yet read): the versions they
  // see must survive it, though newer ones overwrite or delete them.
  const unread = db.iterator({ snapshot: pinned[0].snapshot, reverse: true })
  await db.compactRange(Buffer.from('a'), Buffer.from('z'))
  const compacted = filesPerLevel(db)
  t.equal(compacted[0], 0, `compactRange compacted everything below level 0 (per level ${compacted.join(',')})`)
  t.equal(diff(await unread.all(), before.slice().reverse()), 'equal', 'an iterator created before compactRange yields the old state')
  for (const [i, p] of pinned.entries()) await checkSnapshot(t, db, { ...p, label: `${p.label}, after compactRange` }, 20 + i)
  await verify(t, db, model, 'the current state after compactRange', 7, 10)
  for (const p of pinned) await p.snapshot.close()
  await db.close()

  const again = await openDb(dir)
  await verify(t, again, model, 'after reopen', 4)
  await again.close()
})

test('flush: writes issued while a flush runs are all acknowledged and readable; a reopen sees them', async (t) => {
  const dir = tempDir()
  const db = await openDb(dir)
  const model = new Model()
  const rnd = prng(3)
  const pending: Array<Promise<void>> = []
  const logs = new LogWatcher(dir)
  let issuedDuringFlush = 0
  let roundsDuringFlush = 0
  let n = 0
  // Writes in call order (RoughLevel commits them in that order), so the model can follow overwrites.
  const write = (): Promise<void> => {
    const i = n++
    const r = rnd()
    const k = r < 0.15 && i > 0 ? key(Math.floor(rnd() * i)) : key(i)
    let p: Promise<void>
    if (r < 0.05 && i > 0) {
      model.set(k, undefined, 'w')
      p = db.del(k)
    } else if (r > 0.95) {
      const v = randomBytes(rnd, 300)
      model.set(k, v, 'w')
      model.set(key(i, 'b'), v, 'w')
      p = db.batch([{ type: 'put', key: k, value: v }, { type: 'put', key: key(i, 'b'), value: v }])
    } else {
      const v = randomBytes(rnd, 200 + Math.floor(rnd() * 600))
      model.set(k, v, 'w')
      p = db.put(k, v, { sync: i % 25 === 0 })
    }
    pending.push(p)
    return p
  }
  while (n < 8000) {
    let last: Promise<void> = Promise.resolve()
    for (let j = 0; j < 40; j++) last = write()
    // After this await only promise callbacks have run since the commit: a flush it started cannot have
    // been installed yet (that takes the worker's reply, a macrotask). Two logs mean one is running.
    await last
    logs.observe()
    if (logFiles(dir).length >= 2) {
      roundsDuringFlush++
      for (let j = 0; j < 150; j++) write()
      issuedDuringFlush += 150
    }
    if (rnd() < 0.3) await new Promise((resolve) => setImmediate(resolve))
  }
  const results = await Promise.allSettled(pending)
  const failed = results.filter((r) => r.status === 'rejected')
  t.equal(failed.length, 0, `all ${pending.length} writes were acknowledged${failed.length > 0 ? ` (first error: ${String((failed[0] as PromiseRejectedResult).reason)})` : ''}`)
  t.ok(roundsDuringFlush >= 5 && issuedDuringFlush >= 750, `${issuedDuringFlush} writes were issued (in ${roundsDuringFlush} rounds) while a flush was running`)
  const files = filesPerLevel(db)
  t.ok(logs.switches >= 20, `${logs.switches} memtables were flushed (${sum(files)} tables now, per level ${files.join(',')})`)
  await verify(t, db, model, 'after concurrent writes', 5)
  await db.close()

  const again = await openDb(dir)
  await verify(t, again, model, 'after reopen', 6)
  await again.close()
})

test('flush: approximateSize as classic-level\'s approximate-size-test: 10 values of 100 KB, reopened', async (t) => {
  // Its check: after close and open (so the data is in a table), more than 40000 bytes for the range.
  const sizes: number[] = []
  for (const make of [(d: string) => new RoughLevel(d), (d: string) => new ClassicLevel(d)]) {
    const dir = tempDir()
    let db = make(dir)
    await db.open()
    const data = 'a'.repeat(100000)
    for (let i = 0; i < 10; i++) await db.put(`foo${i}`, data)
    await db.close()
    db = make(dir)
    await db.open()
    sizes.push(await db.approximateSize('a', 'z'))
    await db.close()
  }
  t.ok(sizes[0] > 40000, `RoughLevel: ${sizes[0]} bytes > 40000`)
  t.ok(Math.abs(sizes[0] - sizes[1]) <= sizes[1] * 0.1, `within 10% of ClassicLevel's ${sizes[1]}`)
})

test('flush: approximateSize grows as data is flushed, and is 0 for ranges without data', async (t) => {
  const dir = tempDir()
  const cdir = tempDir()
  const db = await openDb(dir, { compression: false })
  const c = new ClassicLevel<Buffer, Buffer>(cdir, { ...OPTIONS, compression: false })
  await c.open()
  const rnd = prng(4)
  const all = (lo: string, hi: string): Promise<number> => db.approximateSize(Buffer.from(lo), Buffer.from(hi))

  for (let i = 0; i < 100; i++) await db.put(key(i * 10), randomBytes(rnd, 100))
  t.equal(await all('k', 'l'), 0, 'data only in the memtable: approximateSize is 0 (tables only, as LevelDB)')
  await db.compactRange(Buffer.from('k'), Buffer.from('l'))
  const first = await all('k', 'l')
  t.ok(first >= 10000 && first <= 14000, `after a flush: ${first} bytes for ~11 KB of keys and values`)

  const raw: Array<[Buffer, Buffer]> = []
  for (let i = 0; i < 3000; i++) raw.push([key(i * 10 + 5), randomBytes(rnd, 400)])
  for (let i = 0; i < raw.length; i += 100) {
    await Promise.all(raw.slice(i, i + 100).map(([k, v]) => db.put(k, v)))
    await Promise.all(raw.slice(i, i + 100).map(([k, v]) => c.put(k, v)))
  }
  await db.compactRange(Buffer.from('k'), Buffer.from('l'))
  await c.compactRange(Buffer.from('k'), Buffer.from('l'))
  const second = await all('k', 'l')
  t.ok(second >= first + 3000 * 400, `after ${sum(filesPerLevel(db))} tables: ${second} bytes for ~1.2 MB more`)
  const half = await all('k00000', 'k15000')
  t.ok(half > second * 0.35 && half < second * 0.65, `half of the keys: ${half} bytes, about half of ${second}`)
  const utf8 = await db.approximateSize('k', 'l', { keyEncoding: 'utf8' })
  t.equal(utf8, second, 'start and end are encoded with the keyEncoding option')

  // As ClassicLevel estimates the same data (its one table per memtable, then compacted).
  const theirs = await c.approximateSize(key(5), key(30000))
  const ours = await all(key(5).toString(), key(30000).toString())
  t.ok(ours > theirs * 0.8 && ours < theirs * 1.25, `over the same keys, rough ${ours} bytes, classic ${theirs}`)
  await c.close()

  t.equal(await all('a', 'b'), 0, 'a range before every key: 0')
  t.equal(await all('x', 'z'), 0, 'a range after every key: 0')
  t.equal(await all('k', 'k'), 0, 'an empty range: 0')
  const gap = await all(key(1000, '1').toString(), key(1000, '2').toString())
  t.ok(gap <= 4096, `a range between two adjacent keys: ${gap} (at most one block)`)
  t.equal(await all('l', 'k'), 0, 'start after end: 0')
  await db.close()

  const again = await openDb(dir, { compression: false })
  t.equal(await again.approximateSize(Buffer.from('k'), Buffer.from('l')), second, 'the same estimate after reopen')
  await again.close()
})

const LEVEL_LINES = Array.from({ length: 7 }, (_, n) => `--- level ${n} ---`)

test('flush: getProperty as classic-level (num-files-at-level, sstables, stats, errors)', async (t) => {
  const dir = tempDir()
  const db = await openDb(dir)
  const c = new ClassicLevel(tempDir())
  await c.open()

  // An empty database, side by side with ClassicLevel's.
  for (let n = 0; n < 7; n++) {
    t.equal(db.getProperty(`leveldb.num-files-at-level${n}`), '0', `empty: num-files-at-level${n} is '0'`)
  }
  t.equal(db.getProperty('leveldb.sstables'), LEVEL_LINES.map((l) => l + '\n').join(''), 'empty: leveldb.sstables is the seven level lines')
  for (const name of ['leveldb.sstables', 'leveldb.num-files-at-level0', 'leveldb.num-files-at-level6', 'leveldb.num-files-at-level7', 'leveldb.num-files-at-level', 'leveldb.num-files-at-levelx', 'leveldb.unknown', 'unknown', '', 'leveldb.', 'LEVELDB.STATS']) {
    t.equal(db.getProperty(name), c.getProperty(name), `empty: getProperty(${JSON.stringify(name)}) is ClassicLevel's ${JSON.stringify(c.getProperty(name))}`)
  }
  t.equal(db.getProperty('leveldb.num-files-at-level7'), '', 'num-files-at-level7 is \'\'')
  t.equal(db.getProperty('leveldb.nope'), '', 'an unknown name is \'\'')
  t.ok(db.getProperty('leveldb.stats').split('\n').length > 3, 'leveldb.stats has more than 3 lines')
  for (const bad of [undefined, null, 1, {}, ['leveldb.stats']]) {
    let ours: any
    let theirs: any
    try { db.getProperty(bad as unknown as string) } catch (err: any) { ours = err }
    try { c.getProperty(bad as unknown as string) } catch (err: any) { theirs = err }
    t.ok(ours instanceof TypeError, `getProperty(${JSON.stringify(bad)}) throws a TypeError (${String(ours?.message)})`)
    t.equal(ours?.message, theirs?.message, '  with ClassicLevel\'s message')
  }

  // After many flushes.
  const rnd = prng(5)
  for (let i = 0; i < 1500; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => db.put(Buffer.concat([Buffer.of(0, 0xff, 0x7f), key(i + j)]), randomBytes(rnd, 500))))
  }
  // Let the last flush finish (compactRange flushes and waits), so that no table is being written: keys in
  // ascending order overlap nothing, so their tables sit at level 2 and no compaction is due.
  await db.compactRange(Buffer.of(0), Buffer.of(1))
  const files = filesPerLevel(db)
  t.ok(sum(files) >= 5, `${sum(files)} tables (per level ${files.join(',')})`)
  const sstables = db.getProperty('leveldb.sstables')
  const lines = sstables.split('\n')
  t.equal(lines.pop(), '', 'leveldb.sstables ends with a newline')
  t.same(lines.filter((l) => l.startsWith('---')), LEVEL_LINES, 'leveldb.sstables has the exact `--- level N ---` line for N = 0..6, in order')
  let level = -1
  const perLevel = [0, 0, 0, 0, 0, 0, 0]
  const listed = new Map<number, number>()
  let badLine = ''
  for (const line of lines) {
    if (line.startsWith('---')) { level++; continue }
    const m = /^ (\d+):(\d+)\['(.*)' @ (\d+) : (\d) \.\. '(.*)' @ (\d+) : (\d)\]$/.exec(line)
    if (m === null) { if (badLine === '') badLine = line; continue }
    perLevel[level]++
    listed.set(Number(m[1]), Number(m[2]))
    // Keys are escaped as LevelDB's EscapeString: printable ASCII as is, the rest as \xNN.
    if (!m[3].startsWith('\\x00\\xff\\x7fk') || !m[6].startsWith('\\x00\\xff\\x7fk')) badLine = line
  }
  t.equal(badLine, '', 'every table line is ` N:size[\'smallest\' @ seq : type .. \'largest\' @ seq : type]` with escaped keys')
  t.same(perLevel, files, 'leveldb.sstables lists as many tables per level as num-files-at-level')
  const onDisk = new Map(tableFiles(dir).map((f) => [Number(f.slice(0, -4)), fs.statSync(path.join(dir, f)).size]))
  t.same([...listed].sort((a, b) => a[0] - b[0]), [...onDisk].sort((a, b) => a[0] - b[0]), 'the tables listed are the files on disk, with their sizes')
  const stats = db.getProperty('leveldb.stats').split('\n')
  t.ok(stats.length > 3 + files.filter((f) => f > 0).length - 1, 'leveldb.stats has a line per non-empty level')
  t.ok(Number(db.getProperty('leveldb.approximate-memory-usage')) > 0, `approximate-memory-usage: ${db.getProperty('leveldb.approximate-memory-usage')}`)
  for (const name of ['data-block-reads', 'block-cache-hits', 'filter-rejects']) {
    t.ok(/^\d+$/.test(db.getProperty(`rough-level.${name}`)), `rough-level.${name}: ${db.getProperty(`rough-level.${name}`)}`)
  }

  await db.close()
  await c.close()
  // While opening (the constructor starts the open) and after close, as ClassicLevel.
  const opening = new RoughLevel(dir)
  const classicOpening = new ClassicLevel(tempDir())
  for (const [name, x] of [['RoughLevel', opening], ['ClassicLevel', classicOpening]] as const) {
    let err: any
    try { x.getProperty('leveldb.stats') } catch (e: any) { err = e }
    t.equal(err?.code, 'LEVEL_DATABASE_NOT_OPEN', `${name}: getProperty while opening throws LEVEL_DATABASE_NOT_OPEN`)
  }
  await opening.open()
  await classicOpening.open()
  t.equal(sum(filesPerLevel(opening)), sum(files), 'after reopen: the same tables')
  await opening.close()
  await classicOpening.close()
  for (const [name, x] of [['RoughLevel', db], ['ClassicLevel', c]] as const) {
    let err: any
    try { x.getProperty('leveldb.stats') } catch (e: any) { err = e }
    t.equal(err?.code, 'LEVEL_DATABASE_NOT_OPEN', `${name}: getProperty after close throws LEVEL_DATABASE_NOT_OPEN`)
  }
})

test('flush: a child writing with sync, killed by SIGKILL while a flush is in flight, loses no acknowledged write', async (t) => {
  const dir = tempDir()
  const marker = markerPath(root, path.basename(dir))
  const acked = new Set<number>()
  let stderr = ''
  let done = false
  const child = fork(WRITER, [dir, marker], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exit = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('message', (m: unknown) => {
      if (typeof m === 'number') acked.add(m)
      if (m === 'done') {
        done = true
        child.kill('SIGKILL')
      }
    })
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  t.equal(stderr, '', 'the child reported no error')
  t.equal(exit.signal, 'SIGKILL', 'the child died of SIGKILL')
  t.notOk(done, 'the child met a flush in flight before running out of writes')
  const seen: WriterMarker | undefined = fs.existsSync(marker) ? JSON.parse(fs.readFileSync(marker, 'utf8')) as WriterMarker : undefined
  t.ok(seen !== undefined && seen.logs.length >= 2 && seen.tables.length >= WRITER_MIN_TABLES && seen.acked >= WRITER_MIN_ACKS,
    `killed with ${seen?.tables.length} tables installed and a flush in flight (logs ${seen?.logs.join(', ')}), ${seen?.acked} of ${seen?.issued} writes acknowledged`)
  t.equal(acked.size, seen?.acked, `the parent received all ${acked.size} acknowledgements`)
  t.ok(logFiles(dir).length >= 2, 'the directory still holds the log of the unfinished flush')

  const db = new RoughLevel(dir)
  await db.open()
  const present: number[] = []
  let badValue = ''
  for await (const [k, v] of db.iterator({ gte: 'w', lt: 'x' })) {
    const i = Number(k.slice(1))
    present.push(i)
    if (badValue === '' && v !== writerValue(i)) badValue = `${k} has a wrong value`
  }
  const survived = present.length
  t.equal(badValue, '', 'every surviving write has its value')
  t.ok(present.every((i, n) => i === n), `the surviving writes are a prefix of the issued ones (${survived} of them)`)
  t.same([...acked].filter((i) => i >= survived), [], `every acknowledged write survived (${acked.size} acknowledged)`)
  const dels: number[] = []
  for (let i = 0; i < Math.max(survived + 50, 100); i++) if (writerDeletes(i)) dels.push(i)
  const got = await db.getMany(dels.map(writerDelKey))
  const wrongDel = dels.find((i, n) => (got[n] === undefined) !== (i < survived))
  t.equal(wrongDel, undefined, 'each batch\'s delete survived exactly when its put did')
  // Let any compaction the recovery started finish (and compact the rest): then no table is being written.
  await db.compactRange('a', 'z')
  const listed = [...db.getProperty('leveldb.sstables').matchAll(/^ (\d+):/gm)].map((m) => Number(m[1])).sort((a, b) => a - b)
  t.same(tableFiles(dir).map((f) => Number(f.slice(0, -4))), listed, 'after recovery the table files on disk are exactly the live tables (the unfinished one is gone)')
  t.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.dbtmp')).length, 0, 'no temporary file is left')
  await db.put('after', 'recovery', { sync: true })
  await db.close()

  // ClassicLevel reads what survived.
  const c = new ClassicLevel(copyDir(dir, tempDir()))
  await c.open()
  const theirs = await c.keys({ gte: 'w', lt: 'x' }).all()
  t.equal(theirs.length, survived, `ClassicLevel reads the ${survived} surviving writes`)
  t.equal(await c.get('after'), 'recovery', 'and the write after recovery')
  await c.close()
})
