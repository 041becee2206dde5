// Lifecycle and behaviour a classic-level user relies on: a process that never closes still exits; close()
// waits for what is in flight (test/level/event-loop.test.ts: the event loop's turns); constructor and open errors as
// classic-level reports them; keys compared as bytes; explicit snapshots; the same `supports` manifest.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { spawn } from 'node:child_process'
import { ClassicLevel } from 'classic-level'
import { RoughLevel, type OpenOptions } from '../../index'
import { EXIT_STAGES, EXIT_STAGES_WRITING } from '../fixtures/level-child'

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'level-child.js')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-lifecycle-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

/** How long a child that should exit at once may take, on a loaded machine, before it counts as hung. */
const EXIT_LIMIT_MS = 10000

async function openError (db: RoughLevel<any, any>, options: OpenOptions = {}): Promise<any> {
  try {
    await db.open(options)
  } catch (err: any) {
    return err
  }
  await db.close()
  return undefined
}

// ---------------------------------------------------------------------------------------------------------

test('lifecycle: a process that exits without close at any stage exits by itself with code 0', async (t) => {
  for (const stage of EXIT_STAGES) {
    const dir = tempDir()
    const child = spawn(process.execPath, [FIXTURE, 'exit-at', dir, stage], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    let hung = false
    const guard = setTimeout(() => { hung = true; child.kill('SIGKILL') }, EXIT_LIMIT_MS)
    const exit = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
      child.on('close', (code, signal) => resolve({ code, signal }))
    })
    clearTimeout(guard)
    t.notOk(hung, `${stage}: the child exited by itself within ${EXIT_LIMIT_MS / 1000} s`)
    t.same(exit, { code: 0, signal: null }, `${stage}: exit code 0 ${err === '' ? '' : `(stderr: ${err.trim()})`}`)
    t.equal(out.trim(), `reached ${stage}`, `${stage}: the child reached its stage`)
    if (stage === 'open-error') {
      t.notOk(fs.existsSync(dir + '-missing'), `${stage}: the failed open created nothing`)
    }
    if (EXIT_STAGES_WRITING.includes(stage)) {
      const db = new RoughLevel(dir)
      await db.open()
      t.equal(await db.get('k'), 'v', `${stage}: the write in flight at exit is on disk`)
      if (stage === 'everything') t.same(await db.keys().all(), ['a', 'b', 'k', 'z'], `${stage}: every write is on disk`)
      await db.close()
    }
  }
})

test('lifecycle: a process writing through many flushes finishes every write, then exits by itself without close', async (t) => {
  const dir = tempDir()
  const count = 3000
  const child = spawn(process.execPath, [FIXTURE, 'flush-loop', dir, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  let hung = false
  const guard = setTimeout(() => { hung = true; child.kill('SIGKILL') }, 30000)
  const exit = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  clearTimeout(guard)
  t.notOk(hung, 'the child exited by itself')
  t.same(exit, { code: 0, signal: null }, `exit code 0 ${err === '' ? '' : `(stderr: ${err.trim()})`}`)
  t.equal(out.trim(), 'written', 'every put resolved before the process exited (none was abandoned mid-flush)')
  const db = new RoughLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  t.equal((await db.keys().all()).length, count, 'every write is in the database')
  t.ok(Number(db.getProperty('leveldb.num-files-at-level0')) + Number(db.getProperty('leveldb.num-files-at-level1')) +
    Number(db.getProperty('leveldb.num-files-at-level2')) > 0, 'the data went through tables')
  await db.close()
})

test('lifecycle: close() waits for puts, batches, sync puts, getMany and iterators in flight', async (t) => {
  const dir = tempDir()
  let db = new RoughLevel(dir)
  await db.open()
  await db.batch([{ type: 'put', key: 'a', value: 'A' }, { type: 'put', key: 'b', value: 'B' }, { type: 'put', key: 'c', value: 'C' }])

  const settled: string[] = []
  const failures: string[] = []
  const track = <T>(name: string, p: Promise<T>): Promise<T | undefined> => p.then((v) => {
    settled.push(name)
    return v
  }, (err: any) => {
    settled.push(name)
    failures.push(`${name}: ${String(err.code)} ${String(err.message)}`)
    return undefined
  })

  const expected = new Map<string, string>([['a', 'A'], ['b', 'B'], ['c', 'C']])
  const writes: Array<Promise<unknown>> = []
  for (let i = 0; i < 100; i++) {
    const k = `put${String(i).padStart(3, '0')}`
    expected.set(k, String(i))
    writes.push(track(k, db.put(k, String(i))))
  }
  for (let i = 0; i < 10; i++) {
    const k = `sync${i}`
    expected.set(k, String(i))
    writes.push(track(k, db.put(k, String(i), { sync: true })))
  }
  const ops = Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: `batch${String(i).padStart(2, '0')}`, value: String(i) }))
  for (const op of ops) expected.set(op.key, op.value)
  writes.push(track('batch', db.batch(ops)))
  writes.push(track('sync batch', db.batch([{ type: 'put', key: 'sbatch', value: 's' }, { type: 'del', key: 'c' }], { sync: true })))
  expected.set('sbatch', 's')
  expected.delete('c')
  const chained = db.batch().put('chained', 'yes').del('b')
  writes.push(track('chained batch', chained.write({ sync: true })))
  expected.set('chained', 'yes')
  expected.delete('b')
  writes.push(track('del', db.del('put000')))
  expected.delete('put000')

  const many = track('getMany', db.getMany(['a', 'b', 'c', 'missing']))
  const get = track('get', db.get('a'))
  const has = track('has', db.has('a'))
  const it1 = db.iterator()
  const next = track('iterator next', it1.next())
  const it2 = db.iterator()
  const nextv = track('iterator nextv', it2.nextv(1000))
  const all = track('iterator all', db.iterator().all())
  // An iterator that keeps scheduling next() until it is closed under it.
  const looping = db.iterator()
  let loopEnd = ''
  const loop = (async () => {
    try {
      for (;;) if (await looping.next() === undefined) return 'ended'
    } catch (err: any) {
      return String(err.code)
    }
  })().then((r) => { loopEnd = r })

  await track('close', db.close())
  t.equal(settled.at(-1), 'close', 'close() resolved after every operation in flight settled')
  t.equal(settled.length, writes.length + 7, 'every operation settled')
  t.same(failures, [], 'no operation in flight failed')
  t.same(await many, ['A', 'B', 'C', undefined], 'getMany read the state at its call')
  t.equal(await get, 'A', 'get read its value')
  t.equal(await has, true, 'has read its value')
  t.same(await next, ['a', 'A'], 'the pending next() resolved with the first entry')
  t.same(await nextv, [['a', 'A'], ['b', 'B'], ['c', 'C']], 'the pending nextv() read the snapshot at its creation')
  t.same(await all, [['a', 'A'], ['b', 'B'], ['c', 'C']], 'the pending all() read the snapshot at its creation')
  await loop
  t.ok(loopEnd === 'LEVEL_ITERATOR_NOT_OPEN' || loopEnd === 'ended', `a next() loop ends when close() closes its iterator (${loopEnd})`)
  t.equal(db.status, 'closed', 'the database is closed')

  db = new RoughLevel(dir)
  await db.open()
  const entries = await db.iterator().all()
  t.same(entries, [...expected].sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0]))), `every in-flight write is on disk after reopen (${expected.size} entries)`)
  await db.close()
})

test('lifecycle: the location must be a non-empty string', (t) => {
  const message = "The first argument 'location' must be a non-empty string"
  t.throws(() => new RoughLevel(''), (err: unknown) => err instanceof TypeError && err.message === message, "'' throws that TypeError")
  t.throws(() => new RoughLevel({} as unknown as string), (err: unknown) => err instanceof TypeError && err.message === message, '{} throws that TypeError')
  t.throws(() => new RoughLevel(undefined as unknown as string), (err: unknown) => err instanceof TypeError && err.message === message, 'undefined throws that TypeError')
  t.end()
})

test('lifecycle: multithreading: true fails to open with LEVEL_NOT_SUPPORTED', async (t) => {
  const dir = tempDir()
  let err = await openError(new RoughLevel(dir, { multithreading: true }))
  t.equal(err?.code, 'LEVEL_DATABASE_NOT_OPEN', 'constructor option: LEVEL_DATABASE_NOT_OPEN')
  t.equal(err?.cause?.code, 'LEVEL_NOT_SUPPORTED', 'constructor option: its cause is LEVEL_NOT_SUPPORTED')
  err = await openError(new RoughLevel(dir), { multithreading: true })
  t.equal(err?.cause?.code, 'LEVEL_NOT_SUPPORTED', 'open() option: its cause is LEVEL_NOT_SUPPORTED')
  const db = new RoughLevel(dir, { multithreading: false })
  await db.open()
  t.pass('multithreading: false opens')
  await db.close()
})

test('lifecycle: createIfMissing: false on a missing directory fails and creates nothing', async (t) => {
  const dir = tempDir()
  const err = await openError(new RoughLevel(path.join(dir, 'sub'), { createIfMissing: false }))
  t.equal(err?.code, 'LEVEL_DATABASE_NOT_OPEN', 'LEVEL_DATABASE_NOT_OPEN')
  t.match(String(err?.cause?.message), /does not exist/, `the cause says so: ${String(err?.cause?.message)}`)
  t.notOk(fs.existsSync(dir), 'nothing was created')

  const empty = tempDir()
  fs.mkdirSync(empty)
  const err2 = await openError(new RoughLevel(empty, { createIfMissing: false }))
  t.match(String(err2?.cause?.message), /does not exist/, 'an existing directory that holds no database does not exist either')
  t.notOk(fs.readdirSync(empty).includes('CURRENT'), 'and no database was created in it')

  const deep = path.join(tempDir(), 'a', 'b', 'c')
  const db = new RoughLevel(deep)
  await db.open()
  t.ok(fs.existsSync(path.join(deep, 'CURRENT')), 'createIfMissing (the default) creates the location recursively')
  await db.close()
})

test('lifecycle: errorIfExists on an existing database fails, and leaves it intact', async (t) => {
  const dir = tempDir()
  let db = new RoughLevel(dir)
  await db.open()
  await db.put('k', 'v')
  await db.close()
  const err = await openError(new RoughLevel(dir, { errorIfExists: true }))
  t.equal(err?.code, 'LEVEL_DATABASE_NOT_OPEN', 'LEVEL_DATABASE_NOT_OPEN')
  t.match(String(err?.cause?.message), /exists/, `the cause says so: ${String(err?.cause?.message)}`)
  db = new RoughLevel(dir)
  await db.open()
  t.equal(await db.get('k'), 'v', 'the database is intact')
  await db.close()
  const fresh = new RoughLevel(tempDir(), { errorIfExists: true })
  await fresh.open()
  t.pass('errorIfExists opens a new database')
  await fresh.close()
})

test('lifecycle: utf8 keys are compared as UTF-8 bytes, not as JS strings', async (t) => {
  const dir = tempDir()
  const bmp = '\uffff' // EF BF BF
  const astral = '\u{10000}' // F0 90 80 80; as a JS string (D800 DC00) it sorts before U+FFFF
  t.ok(astral < bmp, 'JS string order puts U+10000 first')
  const byteOrder = ['a', '\u00e9', '\u20ac', bmp, astral, '\u{10ffff}']
  let db = new RoughLevel(dir)
  await db.open()
  for (const k of [astral, '\u{10ffff}', bmp, '\u20ac', 'a', '\u00e9']) await db.put(k, k)
  const check = async (label: string): Promise<void> => {
    t.same(await db.keys().all(), byteOrder, `${label}: forward iteration in byte order`)
    t.same(await db.keys({ reverse: true }).all(), byteOrder.slice().reverse(), `${label}: reverse iteration in byte order`)
    t.same(await db.keys({ gt: bmp }).all(), [astral, '\u{10ffff}'], `${label}: gt U+FFFF yields U+10000`)
    t.same(await db.keys({ lt: astral }).all(), ['a', '\u00e9', '\u20ac', bmp], `${label}: lt U+10000 yields U+FFFF`)
    t.same(await db.keys({ gte: bmp, lte: astral }).all(), [bmp, astral], `${label}: a range from U+FFFF to U+10000`)
    const it = db.keys()
    it.seek(bmp)
    t.equal(await it.next(), bmp, `${label}: seek(U+FFFF) lands on U+FFFF`)
    t.equal(await it.next(), astral, `${label}: and U+10000 follows`)
    await it.close()
    t.same(await db.getMany([bmp, astral]), [bmp, astral], `${label}: both keys read back`)
  }
  await check('in memory')
  await db.close()
  db = new RoughLevel(dir)
  await db.open()
  await check('after reopen')
  await db.clear({ gt: bmp })
  t.same(await db.keys().all(), ['a', '\u00e9', '\u20ac', bmp], 'clear({ gt: U+FFFF }) removes exactly the astral keys')
  await db.close()
})

test('lifecycle: an explicit snapshot reads old values after later writes', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel(dir)
  await db.open()
  await db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'b', value: '1' }, { type: 'put', key: 'c', value: '1' }])
  const snapshot = db.snapshot()
  await db.put('a', '2')
  await db.del('b')
  await db.batch([{ type: 'put', key: 'c', value: '2' }, { type: 'put', key: 'd', value: '2' }])
  const it = db.iterator({ snapshot })
  await db.put('e', '2') // after the iterator was created: it reads the snapshot, not now

  const old = (label: string, actual: unknown, expected: unknown): void => { t.same(actual, expected, `snapshot: ${label}`) }
  old('get', [await db.get('a', { snapshot }), await db.get('b', { snapshot }), await db.get('d', { snapshot })], ['1', '1', undefined])
  old('getSync', [db.getSync('a', { snapshot }), db.getSync('b', { snapshot }), db.getSync('d', { snapshot })], ['1', '1', undefined])
  old('getMany', await db.getMany(['a', 'b', 'c', 'd', 'e'], { snapshot }), ['1', '1', '1', undefined, undefined])
  old('has', [await db.has('b', { snapshot }), await db.has('d', { snapshot })], [true, false])
  old('hasMany', await db.hasMany(['a', 'b', 'd'], { snapshot }), [true, true, false])
  old('iterator', await it.all(), [['a', '1'], ['b', '1'], ['c', '1']])
  old('reverse iterator', await db.iterator({ snapshot, reverse: true }).all(), [['c', '1'], ['b', '1'], ['a', '1']])
  old('keys', await db.keys({ snapshot }).all(), ['a', 'b', 'c'])
  old('values', await db.values({ snapshot, gt: 'a' }).all(), ['1', '1'])
  t.same(await db.iterator().all(), [['a', '2'], ['c', '2'], ['d', '2'], ['e', '2']], 'without the snapshot: the latest state')
  t.same(await db.getMany(['a', 'b']), ['2', undefined], 'getMany without the snapshot: the latest state')

  // The implicit snapshot of an iterator is taken when it is created.
  const implicit = db.iterator()
  await db.put('f', '3')
  t.same((await implicit.all()).map(([k]) => k), ['a', 'c', 'd', 'e'], 'an iterator does not see writes made after its creation')
  await snapshot.close()
  await db.close()
})

test('lifecycle: db.supports matches classic-level\'s manifest field for field', async (t) => {
  const rough = new RoughLevel(tempDir())
  const classic = new ClassicLevel(tempDir())
  const canonical = (x: unknown): unknown => {
    if (typeof x !== 'object' || x === null) return x
    return Object.fromEntries(Object.keys(x).sort().map((k) => [k, canonical((x as Record<string, unknown>)[k])]))
  }
  t.equal(JSON.stringify(canonical(rough.supports)), JSON.stringify(canonical(classic.supports)), 'JSON of supports (keys sorted) is identical')
  t.same(rough.supports, classic.supports, 'deep equal')
  await rough.close()
  await classic.close()
})

test('lifecycle: compression "zstd" opens only where the runtime can compress zstd, else fails with LEVEL_NOT_SUPPORTED', async (t) => {
  const dir = tempDir()
  const zlib = require('node:zlib') as { zstdCompressSync?: unknown }
  const db = new RoughLevel(dir, { compression: 'zstd' })
  if (typeof zlib.zstdCompressSync === 'function') {
    await db.open()
    await db.put('a', 'b')
    await db.compactRange('a', 'b')
    t.is(await db.get('a'), 'b', `Node ${process.versions.node} has a zstd compressor: the database writes and reads zstd tables`)
    await db.close()
  } else {
    try {
      await db.open()
      t.fail('opened without a zstd compressor')
    } catch (err: any) {
      t.is(err.code, 'LEVEL_DATABASE_NOT_OPEN', 'the open fails')
      t.is(err.cause?.code, 'LEVEL_NOT_SUPPORTED', `with cause LEVEL_NOT_SUPPORTED: ${String(err.cause?.message)}`)
      t.ok(/zstd/.test(String(err.cause?.message)) && /22\.15/.test(String(err.cause?.message)), 'the message says what is needed')
    }
    t.notOk(fs.existsSync(path.join(dir, 'CURRENT')), 'and created no database')
  }
})
