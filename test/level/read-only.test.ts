// new RoughLevel(dir, { readOnly: true }): on directories written by LevelDB 1.23 and goleveldb (committed
// fixtures), classic-level and rough-level, and on one of mode 0555 (read as another user where the test
// runs as root), the open changes no byte, size or mtime of any file nor the directory's listing, and reads
// exactly what was written (the model) and what a normal open of a copy reads. Every write method rejects
// with LEVEL_READONLY; every read method works; the manifest says what is supported; the open never
// creates LOCK and leaves the locks of the writers that hold the directory alone.
import test from 'tape'
import type { Test } from 'tape'
import { spawnSync } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'
import { snapshotDir } from '../fixtures/dir-snapshot'
import { prng } from '../fixtures/level-child'

type Db = RoughLevel<Buffer, Buffer> | ClassicLevel<Buffer, Buffer>
/** hex key -> hex value */
type Model = Map<string, string>

const CHILD = path.join(__dirname, '..', 'fixtures', 'read-only-child.js')
const LEVEL_CHILD = path.join(__dirname, '..', 'fixtures', 'level-child.js')
const BUFFERS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-read-only-'))
}

function copyDir (src: string): string {
  const dst = path.join(tempDir(), 'copy')
  fs.cpSync(src, dst, { recursive: true })
  fs.chmodSync(dst, 0o755)
  for (const f of fs.readdirSync(dst)) fs.chmodSync(path.join(dst, f), 0o644)
  return dst
}

/** Random puts and deletes in batches over a pool of keys; values up to 2 KB, some spanning log blocks. */
async function writeRandom (db: Db, model: Model, seed: number, batches: number): Promise<void> {
  const rnd = prng(seed)
  for (let b = 0; b < batches; b++) {
    const ops: Array<{ type: 'put', key: Buffer, value: Buffer } | { type: 'del', key: Buffer }> = []
    for (let i = 0; i < 5; i++) {
      const key = Buffer.from(`key-${Math.floor(rnd() * 600)}`)
      if (rnd() < 0.15) {
        ops.push({ type: 'del', key })
        model.delete(key.toString('hex'))
      } else {
        const value = Buffer.alloc(rnd() < 0.01 ? 40000 : Math.floor(rnd() * 2000), String.fromCharCode(97 + b % 26))
        ops.push({ type: 'put', key, value })
        model.set(key.toString('hex'), value.toString('hex'))
      }
    }
    await db.batch(ops)
  }
}

function sorted (model: Model): Array<[string, string]> {
  return [...model].sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')))
}

async function entries (db: Db): Promise<Array<[string, string]>> {
  return (await db.iterator().all()).map(([k, v]) => [k.toString('hex'), v.toString('hex')])
}

interface Fixture {
  name: string
  make (dir: string, model: Model): Promise<void>
}

const rough = (dir: string, writeBufferSize?: number): RoughLevel<Buffer, Buffer> => new RoughLevel<Buffer, Buffer>(dir, { ...BUFFERS, writeBufferSize })
const classic = (dir: string, writeBufferSize?: number): ClassicLevel<Buffer, Buffer> => new ClassicLevel<Buffer, Buffer>(dir, { ...BUFFERS, writeBufferSize })

/** Two sessions of `open`: the first fills several tables (64 KiB write buffer), the second leaves its writes in a log. */
async function twoSessions (open: (dir: string, writeBufferSize?: number) => Db, dir: string, model: Model): Promise<void> {
  let db = open(dir, 64 * 1024)
  await db.open()
  await writeRandom(db, model, 1, 600)
  await db.close()
  db = open(dir)
  await db.open()
  await writeRandom(db, model, 2, 40)
  await db.close()
}

/** Written by LevelDB 1.23 and goleveldb themselves (test/fixtures/*-fixture.*), with the entries they read back. */
const FIXTURE_DIR = path.join(__dirname, '..', '..', '..', 'test', 'fixtures')

function committed (name: string, writer: string): Fixture {
  const source = path.join(FIXTURE_DIR, name)
  return {
    name: `${writer} (a committed fixture: tables and a live log)`,
    async make (dir, model) {
      fs.cpSync(source, dir, { recursive: true })
      for (const line of fs.readFileSync(`${source}.expected`, 'latin1').split('\n')) {
        const [key, value] = line.split('\t')
        if (value !== undefined) model.set(key, value)
      }
    }
  }
}

const FIXTURES: Fixture[] = [
  committed('leveldb-1.23', 'LevelDB 1.23'),
  committed('goleveldb', 'goleveldb'),
  {
    name: 'classic-level, data in its log',
    async make (dir, model) {
      const db = classic(dir)
      await db.open()
      await writeRandom(db, model, 3, 100)
      await db.close()
    }
  },
  { name: 'classic-level, tables and a log', make: async (dir, model) => await twoSessions(classic, dir, model) },
  { name: 'rough-level, tables and logs', make: async (dir, model) => await twoSessions(rough, dir, model) },
  {
    name: 'rough-level, directory mode 0555 and files 0444',
    async make (dir, model) {
      await twoSessions(rough, dir, model)
      for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o444)
      fs.chmodSync(dir, 0o555)
    }
  }
]

async function checkReadOnlyOpen (t: Test, dir: string, model: Model): Promise<void> {
  const before = snapshotDir(dir)
  const db = new RoughLevel<Buffer, Buffer>(dir, { ...BUFFERS, readOnly: true })
  await db.open()
  const got = await entries(db)
  t.same(got, sorted(model), `read-only: every entry written (${got.length})`)
  await db.close()
  t.same(snapshotDir(dir), before, 'no file, size, byte or mtime changed, and no file was added or removed')
  const copy = copyDir(dir)
  const normal = rough(copy)
  await normal.open()
  t.same(await entries(normal), got, 'the same as a normal open of a copy')
  await normal.close()
  fs.rmSync(path.dirname(copy), { recursive: true, force: true })
}

for (const fixture of FIXTURES) {
  test(`read-only open of a directory written by ${fixture.name}: reads it all, changes nothing`, async (t) => {
    const parent = tempDir()
    const dir = path.join(parent, 'db')
    const model: Model = new Map()
    await fixture.make(dir, model)
    t.ok(model.size > 50, `${model.size} entries written`)
    const files = fs.readdirSync(dir)
    t.ok(files.some((f) => f.endsWith('.log')), `files: ${files.join(' ')}`)
    await checkReadOnlyOpen(t, dir, model)
    if ((fs.statSync(dir).mode & 0o777) === 0o555 && process.getuid?.() === 0) {
      // Root ignores modes: the unwritable directory is real only for another user.
      fs.chmodSync(parent, 0o755)
      const before = snapshotDir(dir)
      const child = spawnSync(process.execPath, [CHILD, dir], { uid: 65534, gid: 65534, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      // A node that nobody may run (a 0700 directory on its path) fails here, not with a TypeError below.
      t.error(child.error, `a child runs as nobody with ${process.execPath}`)
      const line = (child.stdout ?? '').trim()
      t.same(line.startsWith('error') ? line : JSON.parse(line), sorted(model), 'read-only as another user (nobody), who cannot write there: every entry')
      t.same(snapshotDir(dir), before, 'and nothing changed')
      const writer = spawnSync(process.execPath, [LEVEL_CHILD, 'hold', dir], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 20000 })
      t.ok((writer.stdout ?? '').startsWith('error'), `(a normal open as that user fails: ${(writer.stdout ?? '').trim()})`)
    }
    fs.chmodSync(dir, 0o755)
    fs.rmSync(parent, { recursive: true, force: true })
  })
}

test('read-only: every write method rejects with LEVEL_READONLY, every read method works, files unchanged', async (t) => {
  const parent = tempDir()
  const dir = path.join(parent, 'db')
  const model: Model = new Map()
  await twoSessions(rough, dir, model)
  const before = snapshotDir(dir)
  const db = new RoughLevel<string, string>(dir, { readOnly: true })
  await db.open()
  t.is(db.supports.additionalMethods.compactRange, undefined, 'supports: no compactRange')
  t.is(db.supports.additionalMethods.approximateSize, true, 'supports: approximateSize')
  t.is(db.supports.createIfMissing, false, 'supports: createIfMissing is not (a read-only open creates nothing)')
  t.is(db.supports.explicitSnapshots, true, 'supports: explicit snapshots')

  const writes: Array<[string, () => Promise<unknown>]> = [
    ['put', async () => await db.put('a', 'b')],
    ['put with sync', async () => await db.put('a', 'b', { sync: true })],
    ['del', async () => await db.del('key-1')],
    ['batch', async () => await db.batch([{ type: 'put', key: 'a', value: 'b' }])],
    ['chained batch write', async () => await db.batch().put('a', 'b').del('key-1').write()],
    ['clear', async () => await db.clear()],
    ['clear of an empty range', async () => await db.clear({ gt: 'zzz' })],
    ['compactRange', async () => await db.compactRange('a', 'z')],
    ['sublevel put', async () => await db.sublevel('s').put('a', 'b')]
  ]
  for (const [name, write] of writes) {
    const err = await write().then(() => undefined, (e: Error & { code?: string }) => e)
    t.is(err?.code, 'LEVEL_READONLY', `${name}: LEVEL_READONLY${err === undefined ? '' : ` (${err.message})`}`)
  }

  const [firstHex, firstValueHex] = sorted(model)[0]
  const first = Buffer.from(firstHex, 'hex').toString()
  const firstValue = Buffer.from(firstValueHex, 'hex').toString()
  t.is(await db.get(first), firstValue, 'get')
  t.is(db.getSync(first), firstValue, 'getSync')
  t.same(await db.getMany([first, 'missing']), [firstValue, undefined], 'getMany')
  t.same([await db.has(first), await db.has('missing')], [true, false], 'has')
  t.same(await db.hasMany([first, 'missing']), [true, false], 'hasMany')
  const keys = sorted(model).map(([k]) => Buffer.from(k, 'hex').toString())
  t.same(await db.keys().all(), keys, 'keys()')
  t.same(await db.keys({ reverse: true, lt: keys[10] }).all(), keys.slice(0, 10).reverse(), 'a reverse ranged iterator')
  t.same((await db.values({ limit: 3 }).all()).length, 3, 'values()')
  const snapshot = db.snapshot()
  t.is(await db.get(first, { snapshot }), firstValue, 'get with an explicit snapshot')
  await snapshot.close()
  t.ok(await db.approximateSize(keys[0], keys[keys.length - 1]) > 0, 'approximateSize counts its tables')
  t.ok(Number(db.getProperty('leveldb.num-files-at-level0')) + Number(db.getProperty('leveldb.num-files-at-level1')) > 0, 'getProperty')
  t.is(db.getProperty('rough-level.open-retries'), '0', 'no retries without a writer')
  await db.close()
  t.same(snapshotDir(dir), before, 'no file changed')
  fs.rmSync(parent, { recursive: true, force: true })
})

test('read-only: LOCK is not created when absent; a missing directory is not created', async (t) => {
  const parent = tempDir()
  const dir = path.join(parent, 'db')
  const model: Model = new Map()
  const db = rough(dir)
  await db.open()
  await writeRandom(db, model, 4, 20)
  await db.close()
  fs.unlinkSync(path.join(dir, 'LOCK'))
  await checkReadOnlyOpen(t, dir, model)
  t.notOk(fs.existsSync(path.join(dir, 'LOCK')), 'no LOCK')
  const missing = path.join(parent, 'missing')
  const ro = new RoughLevel(missing, { readOnly: true })
  const err = await ro.open().then(() => undefined, (e: Error & { code?: string, cause?: { code?: string } }) => e)
  t.is(err?.cause?.code, 'LEVEL_INVALID_ARGUMENT', `a missing database fails to open (${err?.cause?.code ?? ''})`)
  t.notOk(fs.existsSync(missing), 'and is not created (createIfMissing is ignored)')
  fs.rmSync(parent, { recursive: true, force: true })
})

test('read-only beside writers holding the directory in this process: rough-level and classic-level keep their locks and keep writing', async (t) => {
  for (const kind of ['rough', 'classic']) {
    const parent = tempDir()
    const dir = path.join(parent, 'db')
    const writer: Db = kind === 'rough' ? rough(dir) : classic(dir)
    await writer.open()
    await writer.put(Buffer.from('before'), Buffer.from('1'))
    const db = new RoughLevel(dir, { readOnly: true })
    await db.open()
    t.is(await db.get('before'), '1', `${kind}: the read-only open sees the writer's write`)
    await db.close()
    await writer.put(Buffer.from('after'), Buffer.from('2'))
    const child = spawnSync(process.execPath, [LEVEL_CHILD, kind === 'rough' ? 'hold' : 'classic-try', dir], { encoding: 'utf8', timeout: 20000 })
    t.ok(child.stdout.includes('LEVEL_LOCKED'), `${kind}: its lock still holds another process off (${child.stdout.trim()})`)
    t.is((await writer.get(Buffer.from('after')))?.toString(), '2', `${kind}: it keeps writing`)
    await writer.close()
    fs.rmSync(parent, { recursive: true, force: true })
  }
})
