// Compatibility with classic-level (native LevelDB 1.20) on disk: a directory RoughLevel wrote opens in
// ClassicLevel with exactly its entries; a ClassicLevel directory whose data is still in its log opens in
// RoughLevel with every entry; classic -> rough -> classic -> rough sees everything, tables included.
// Databases with many tables are in compat-tables.test.ts.
import test from 'tape'
import type { Test } from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'
import { prng, type Model } from '../fixtures/level-child'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-compat-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

type Entry = [Buffer, Buffer]
type Op = { type: 'put', key: Buffer, value: Buffer } | { type: 'del', key: Buffer }
/** What these tests use of either database (RoughLevel or ClassicLevel, buffer keys and values). */
interface AnyDb {
  put (key: Buffer, value: Buffer): Promise<void>
  put (key: string, value: string, options: { keyEncoding: 'utf8', valueEncoding: 'utf8' }): Promise<void>
  del (key: Buffer): Promise<void>
  batch (ops: Op[]): Promise<void>
  get (key: Buffer): Promise<Buffer | undefined>
  iterator (options?: { reverse?: boolean }): { all (): Promise<Entry[]> }
}
const BUF = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const

const rough = (dir: string): RoughLevel<Buffer, Buffer> => new RoughLevel(dir, BUF)
const classic = (dir: string): ClassicLevel<Buffer, Buffer> => new ClassicLevel(dir, BUF)

function copyDir (dir: string): string {
  const to = tempDir()
  fs.cpSync(dir, to, { recursive: true })
  return to
}

const show = (b: Buffer | undefined): string =>
  b === undefined ? 'undefined' : b.length > 24 ? `${b.subarray(0, 24).toString('hex')}...(${b.length} bytes)` : `<${b.toString('hex')}>`

function diff (actual: Entry[], expected: Entry[]): string {
  for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
    const a = actual[i]
    const e = expected[i]
    if (a === undefined || e === undefined) return `lengths differ: ${actual.length} vs expected ${expected.length} (first extra at ${i}: ${show((a ?? e)[0])})`
    if (!a[0].equals(e[0]) || !a[1].equals(e[1])) return `entry ${i}: got ${show(a[0])}=${show(a[1])}, expected ${show(e[0])}=${show(e[1])}`
  }
  return 'equal'
}

/** The open database holds exactly the model: iteration both ways, get of every key ever written. */
async function verify (t: Test, db: AnyDb, model: Model, everWritten: Map<string, Buffer>, label: string): Promise<void> {
  const expected = [...model.values()].sort((a, b) => Buffer.compare(a[0], b[0]))
  t.equal(diff(await db.iterator().all(), expected), 'equal', `${label}: forward iteration matches the model (${expected.length} entries)`)
  t.equal(diff(await db.iterator({ reverse: true }).all(), expected.slice().reverse()), 'equal', `${label}: reverse iteration matches the model`)
  let wrong = 0
  let first = ''
  for (const k of everWritten.values()) {
    const want = model.get(k.toString('hex'))?.[1]
    const got = await db.get(k)
    if (want === undefined ? got !== undefined : got === undefined || !got.equals(want)) {
      if (wrong++ === 0) first = `${show(k)}: got ${show(got)}, expected ${show(want)}`
    }
  }
  t.equal(first, '', `${label}: get of each of ${everWritten.size} keys ever written (live and deleted) matches (${wrong} wrong)`)
}

/** Writes through any database and keeps the model. */
class Writer {
  readonly model: Model = new Map()
  readonly everWritten = new Map<string, Buffer>()

  constructor (readonly db: AnyDb) {}

  #note (key: Buffer, value: Buffer | undefined): void {
    const hex = key.toString('hex')
    this.everWritten.set(hex, key)
    if (value === undefined) this.model.delete(hex)
    else this.model.set(hex, [key, value])
  }

  put (key: Buffer | string, value: Buffer | string): Promise<void> {
    const k = Buffer.from(key)
    const v = Buffer.from(value)
    this.#note(k, v)
    return this.db.put(k, v)
  }

  del (key: Buffer | string): Promise<void> {
    const k = Buffer.from(key)
    this.#note(k, undefined)
    return this.db.del(k)
  }

  batch (ops: Op[]): Promise<void> {
    for (const op of ops) this.#note(op.key, op.type === 'put' ? op.value : undefined)
    return this.db.batch(ops)
  }

  /** A utf8 string key through the utf8 encoding (the model keeps its UTF-8 bytes). */
  putUtf8 (key: string, value: string): Promise<void> {
    this.#note(Buffer.from(key, 'utf8'), Buffer.from(value, 'utf8'))
    return this.db.put(key, value, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  }
}

/** A few thousand random writes: every single-byte key, binary keys, empty values, overwrites, deletes. */
async function randomWrites (w: Writer, seed: number, count: number): Promise<void> {
  const rnd = prng(seed)
  const int = (n: number): number => Math.floor(rnd() * n)
  const keys: Buffer[] = [Buffer.alloc(0)]
  for (let b = 0; b < 256; b++) keys.push(Buffer.of(b), Buffer.of(b, 0), Buffer.of(0, b), Buffer.of(0xff, b, 0xff))
  const randomKey = (): Buffer => {
    const k = Buffer.allocUnsafe(int(30))
    for (let i = 0; i < k.length; i++) k[i] = int(256)
    return k
  }
  const randomValue = (): Buffer => {
    const r = rnd()
    const size = r < 0.15 ? 0 : r < 0.9 ? int(64) : r < 0.99 ? int(3000) : 30000 + int(70000)
    const v = Buffer.allocUnsafe(size)
    for (let i = 0; i < size; i++) v[i] = int(256)
    return v
  }
  const pending: Array<Promise<void>> = []
  // Every single-byte and two-byte key, in a shuffled order.
  const initial = keys.slice()
  for (let i = initial.length - 1; i > 0; i--) {
    const j = int(i + 1)
    const tmp = initial[i]
    initial[i] = initial[j]
    initial[j] = tmp
  }
  for (const k of initial) pending.push(w.put(k, randomValue()))
  await Promise.all(pending.splice(0))
  for (let i = 0; i < count; i++) {
    const r = rnd()
    const existing = keys[int(keys.length)]
    if (r < 0.45) {
      const k = randomKey()
      keys.push(k)
      pending.push(w.put(k, randomValue()))
    } else if (r < 0.65) {
      pending.push(w.put(existing, randomValue())) // overwrite
    } else if (r < 0.8) {
      pending.push(w.del(rnd() < 0.9 ? existing : randomKey()))
    } else if (r < 0.9) {
      const ops: Op[] = []
      for (let j = int(10); j >= 0; j--) {
        ops.push(rnd() < 0.7 ? { type: 'put', key: rnd() < 0.5 ? existing : randomKey(), value: randomValue() } : { type: 'del', key: keys[int(keys.length)] })
      }
      pending.push(w.batch(ops))
    } else {
      pending.push(w.putUtf8(`utf8 \u00e9\u{1f600}${int(500)}`, rnd() < 0.2 ? '' : `\uffff${int(1e6)}`))
    }
    if (rnd() < 0.1) await Promise.all(pending.splice(0))
  }
  await Promise.all(pending)
}

// ---------------------------------------------------------------------------------------------------------

test('compat: a directory written by RoughLevel opens in ClassicLevel with exactly its entries', async (t) => {
  const dir = tempDir()
  let db = rough(dir)
  await db.open()
  let w = new Writer(db)
  await randomWrites(w, 11, 2500)
  await db.close()
  // A second session (a second log file) overwrites and deletes some of the first's keys.
  db = rough(dir)
  await db.open()
  const w2 = new Writer(db)
  for (const [hex, [k, v]] of w.model) w2.model.set(hex, [k, v])
  for (const [hex, k] of w.everWritten) w2.everWritten.set(hex, k)
  w = w2
  await randomWrites(w, 12, 1500)
  await verify(t, db, w.model, w.everWritten, 'RoughLevel before close')
  await db.close()
  t.ok(w.model.size > 2000, `${w.model.size} entries`)
  t.ok([...w.model.values()].some(([, v]) => v.length === 0), 'some values are empty')
  t.ok([...w.model.values()].some(([, v]) => v.length > 32768), 'some values span log blocks')
  const files = fs.readdirSync(dir)
  t.ok(files.some((f) => f.endsWith('.ldb')) && files.some((f) => f.endsWith('.log')), 'the data is in a table (written on reopen) and a log')

  const copy = copyDir(dir)
  const c = classic(copy)
  await c.open()
  await verify(t, c, w.model, w.everWritten, 'ClassicLevel')
  await c.close()

  // The original is still RoughLevel's, and reads the same.
  db = rough(dir)
  await db.open()
  await verify(t, db, w.model, w.everWritten, 'RoughLevel after reopen')
  await db.close()
})

test('compat: a ClassicLevel directory (data still in its log) opens in RoughLevel; classic -> rough -> classic', async (t) => {
  const dir = tempDir()
  const c = classic(dir)
  await c.open()
  const w = new Writer(c)
  for (let b = 0; b < 256; b++) await w.put(Buffer.of(b, b), Buffer.of(b))
  await w.put(Buffer.alloc(0), 'the empty key')
  await w.put('empty value', '')
  await w.put('big', Buffer.alloc(70000, 'b')) // spans blocks
  await w.putUtf8('\u{10000}', 'astral')
  await w.putUtf8('\uffff', 'bmp')
  await w.batch([
    { type: 'put', key: Buffer.from('b1'), value: Buffer.from('1') },
    { type: 'del', key: Buffer.of(7, 7) },
    { type: 'put', key: Buffer.of(8, 8), value: Buffer.from('overwritten') }
  ])
  await w.del(Buffer.of(9, 9))
  await w.put(Buffer.of(10, 10), 'overwritten too')
  await c.close()
  const files = fs.readdirSync(dir)
  t.same(files.filter((f) => /\.(ldb|sst)$/.test(f)), [], 'ClassicLevel wrote no table (the data is in its log)')

  let db = rough(dir)
  await db.open()
  await verify(t, db, w.model, w.everWritten, 'RoughLevel reads ClassicLevel\'s log')
  const r = new Writer(db)
  for (const [hex, e] of w.model) r.model.set(hex, e)
  for (const [hex, k] of w.everWritten) r.everWritten.set(hex, k)
  // RoughLevel overwrites and deletes ClassicLevel's keys: its sequence numbers must come after classic's.
  await r.put(Buffer.of(1, 1), 'rough overwrote')
  await r.del(Buffer.of(2, 2))
  await r.put('big', Buffer.alloc(50000, 'r'))
  await r.batch([
    { type: 'put', key: Buffer.of(7, 7), value: Buffer.from('back') },
    { type: 'del', key: Buffer.from('b1') },
    { type: 'put', key: Buffer.from('rough'), value: Buffer.alloc(0) }
  ])
  await db.close()
  db = rough(dir)
  await db.open()
  await verify(t, db, r.model, r.everWritten, 'RoughLevel after its own reopen')
  await db.close()

  const cc = classic(dir)
  await cc.open()
  await verify(t, cc, r.model, r.everWritten, 'ClassicLevel reads the round trip')
  await cc.close()
  t.ok(fs.readdirSync(dir).some((f) => /\.(ldb|sst)$/.test(f)), 'ClassicLevel flushed the logs to a table on open')

  // RoughLevel reads ClassicLevel's tables, writes more, and ClassicLevel reads it all once more.
  const r2db = rough(dir)
  await r2db.open()
  const r2 = new Writer(r2db)
  for (const [hex, kv] of r.model) r2.model.set(hex, kv)
  for (const [hex, k] of r.everWritten) r2.everWritten.set(hex, k)
  await verify(t, r2db, r2.model, r2.everWritten, 'RoughLevel reads ClassicLevel\'s tables')
  await randomWrites(r2, 23, 300)
  await r2db.close()
  const c3 = classic(dir)
  await c3.open()
  await verify(t, c3, r2.model, r2.everWritten, 'ClassicLevel after RoughLevel wrote over its tables')
  await c3.close()
})

test('compat: utf8 keys are in the same (byte) order in both', async (t) => {
  const keys = ['a', '\u00e9', '\u20ac', '\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}', 'z', '']
  const dir = tempDir()
  const db = new RoughLevel(dir)
  await db.batch(keys.map((key) => ({ type: 'put' as const, key, value: key })))
  const roughOrder = await db.keys().all()
  await db.close()
  const c = new ClassicLevel(copyDir(dir))
  const classicOrder = await c.keys().all()
  const classicReverse = await c.keys({ reverse: true }).all()
  await c.close()
  t.same(roughOrder, classicOrder, 'RoughLevel iterates in ClassicLevel\'s order')
  t.same(classicReverse, classicOrder.slice().reverse(), 'and ClassicLevel reads back the same keys')
})
