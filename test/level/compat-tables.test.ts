// Compatibility with classic-level (LevelDB 1.20) on databases with many tables: writeBufferSize 64 KiB and
// maxFileSize 1 MiB on both sides, snappy and uncompressed. Binary keys use every byte value (and keys that
// are prefixes of others), values are empty, small, tens of KiB and over 1 MiB, with deletes and overwrites;
// every session is checked against an independent model (full iteration both ways, range iterations, gets).
// A round trip classic -> rough -> classic -> rough, each session deleting and overwriting keys the other
// wrote; ClassicLevel reads a RoughLevel directory (its tables and its log); and compression makes a
// RoughLevel database smaller on disk (classic-level's compression-test).
import test from 'tape'
import type { Test } from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'
import {
  compressibleBytes, copyDir, dirSize, everyByteKeys, filesPerLevel, LogWatcher, Model, prng, randomBytes, sequentialRun, sum, tableFiles,
  verify, workload, Writer
} from '../fixtures/tables-model'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-compat-tables-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

const KiB = 1024
const MiB = 1024 * 1024

const options = (compression: boolean) => ({
  keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 64 * KiB, maxFileSize: MiB, compression
} as const)

const rough = (dir: string, compression: boolean): RoughLevel<Buffer, Buffer> => new RoughLevel(dir, options(compression))
const classic = (dir: string, compression: boolean): ClassicLevel<Buffer, Buffer> => new ClassicLevel(dir, options(compression))

async function openRough (dir: string, compression: boolean): Promise<RoughLevel<Buffer, Buffer>> {
  const db = rough(dir, compression)
  try {
    await db.open()
  } catch (err: any) {
    // abstract-level's message is only 'Database failed to open': show the engine's reason.
    throw new Error(`RoughLevel open failed: ${String(err.cause?.message ?? err.message)}`)
  }
  return db
}

const logBytes = (dir: string): number =>
  fs.readdirSync(dir).filter((f) => /^\d+\.log$/.test(f)).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)

/** Puts every key of everyByteKeys() with a value each (empty for some), and three keys of 40-70 KB. */
async function putEveryByteKey (w: Writer, seed: number): Promise<void> {
  const rnd = prng(seed)
  for (const k of everyByteKeys()) await w.put(k, rnd() < 0.15 ? Buffer.alloc(0) : randomBytes(rnd, Math.floor(rnd() * 300)))
  // And a few keys longer than a block (one a prefix of another).
  for (const k of [Buffer.alloc(40000, 1), Buffer.concat([Buffer.alloc(40000, 1), Buffer.of(2)]), Buffer.alloc(70000, 0xfd)]) await w.put(k, randomBytes(rnd, 100))
}

function checkModelShape (t: Test, model: Model, label: string): void {
  const values = [...model.live.values()].map(([, v]) => v)
  t.ok(model.live.size > 1500, `${label}: ${model.live.size} live entries`)
  t.ok(values.some((v) => v.length === 0), `${label}: some values are empty`)
  t.ok(model.hugeWritten >= 2, `${label}: ${model.hugeWritten} values over 1 MiB were written (${values.filter((v) => v.length > MiB).length} still live)`)
  const keys = [...model.live.values()].map(([k]) => k)
  const bytes = new Set<number>()
  for (const k of keys) for (const b of k) bytes.add(b)
  t.equal(bytes.size, 256, `${label}: live keys use every byte value`)
  t.ok(keys.some((k) => k.length === 0) || model.everWritten.has(''), `${label}: the empty key was written`)
}

// ---------------------------------------------------------------------------------------------------------

for (const compression of [true, false]) {
  const mode = compression ? 'snappy' : 'uncompressed'

  test(`compat-tables (${mode}): classic -> rough -> classic -> rough, many tables, each session writing over the other's keys`, async (t) => {
    const dir = tempDir()
    const model = new Model()
    const seed = compression ? 100 : 200

    // 1. ClassicLevel creates the database.
    const c1 = classic(dir, compression)
    await c1.open()
    const w1 = new Writer(c1, model, 'classic')
    // Ascending keys first, into an empty database: LevelDB places each flushed table at level 2.
    await sequentialRun(w1, seed + 50, 600, 1500)
    await putEveryByteKey(w1, seed)
    await w1.settle()
    await workload(w1, seed + 1, { count: 1800, huge: 2, takeOver: 0 })
    const classicFiles = filesPerLevel(c1)
    await c1.close()
    const classicTables = tableFiles(dir).length
    t.ok(sum(classicFiles) > 5 && classicTables > 5, `ClassicLevel wrote many tables: ${classicTables} on disk (per level ${classicFiles.join(',')})`)
    // Check ClassicLevel against the model on a copy: reads make LevelDB compact (seek compactions), which
    // would merge the tables RoughLevel is to read.
    const c1check = classic(copyDir(dir, tempDir()), compression)
    await c1check.open()
    await verify(t, c1check, model, 'classic writes', seed + 2)
    await c1check.close()

    // 2. RoughLevel reads it, deletes and overwrites ClassicLevel's keys, writes more (many flushes).
    const r1 = await openRough(dir, compression)
    await verify(t, r1, model, 'rough reads classic\'s tables and log', seed + 3)
    const logs2 = new LogWatcher(dir)
    const w2 = new Writer(r1, model, 'rough', () => logs2.observe())
    const took2 = await workload(w2, seed + 4, { count: 1500, huge: 1, takeOver: 150 })
    t.ok(took2.deletedOthers >= 100 && took2.overwroteOthers >= 100, `rough deleted ${took2.deletedOthers} and overwrote ${took2.overwroteOthers} of classic's keys`)
    const after = filesPerLevel(r1)
    t.ok(logs2.switches > 5 && sum(after) > 5, `rough flushed ${logs2.switches} memtables; ${sum(after)} tables now (per level ${after.join(',')})`)
    await verify(t, r1, model, 'rough after its writes', seed + 5)
    await r1.close()
    const roughTables = tableFiles(dir).length
    t.ok(roughTables > 5 && logBytes(dir) > 0, `the directory holds ${roughTables} tables and a log of ${logBytes(dir)} bytes`)

    // 3. ClassicLevel reads everything RoughLevel wrote (its tables and its log) and writes over it.
    const c2 = classic(dir, compression)
    await c2.open()
    await verify(t, c2, model, 'classic reads rough\'s tables and log', seed + 6)
    const w3 = new Writer(c2, model, 'classic')
    const took3 = await workload(w3, seed + 7, { count: 1200, huge: 1, takeOver: 150 })
    t.ok(took3.deletedOthers >= 100 && took3.overwroteOthers >= 100, `classic deleted ${took3.deletedOthers} and overwrote ${took3.overwroteOthers} of rough's keys`)
    await verify(t, c2, model, 'classic after its writes', seed + 8)
    await c2.close()

    // 4. RoughLevel once more: reads classic's new tables (after its compactions), writes, reopens.
    const r2 = await openRough(dir, compression)
    await verify(t, r2, model, 'rough reads classic\'s second session', seed + 9)
    const w4 = new Writer(r2, model, 'rough')
    const took4 = await workload(w4, seed + 10, { count: 1000, huge: 0, takeOver: 100 })
    t.ok(took4.deletedOthers > 0 && took4.overwroteOthers > 0, `rough deleted ${took4.deletedOthers} and overwrote ${took4.overwroteOthers} of classic's keys`)
    await verify(t, r2, model, 'rough after its second session', seed + 11)
    await r2.close()
    checkModelShape(t, model, 'round trip')

    const r3 = await openRough(dir, compression)
    await verify(t, r3, model, 'rough after reopen', seed + 12, 10)
    await r3.close()
    const c3 = classic(copyDir(dir, tempDir()), compression)
    await c3.open()
    await verify(t, c3, model, 'classic reads the final state', seed + 13, 10)
    await c3.close()
  })

  test(`compat-tables (${mode}): ClassicLevel opened on a RoughLevel directory sees everything (tables + log)`, async (t) => {
    const dir = tempDir()
    const model = new Model()
    const seed = compression ? 300 : 400
    let db = await openRough(dir, compression)
    const logs = new LogWatcher(dir)
    let w = new Writer(db, model, 'rough', () => logs.observe())
    // Ascending keys first, into an empty database: tables that overlap nothing, placed at level 2.
    await sequentialRun(w, seed + 50, 600, 1500)
    await putEveryByteKey(w, seed)
    await w.settle()
    await workload(w, seed + 1, { count: 1500, huge: 2, takeOver: 0 })
    const files = filesPerLevel(db)
    t.ok(logs.switches > 5 && sum(files) > 5, `RoughLevel flushed ${logs.switches} memtables; ${sum(files)} tables now (per level ${files.join(',')})`)
    await db.close()
    // A second session: its first writes replay the log to tables on open; the rest stay in the log.
    db = await openRough(dir, compression)
    w = new Writer(db, model, 'rough2')
    await workload(w, seed + 2, { count: 400, huge: 0, takeOver: 100 })
    await verify(t, db, model, 'rough before close', seed + 3, 20)
    await db.close()
    checkModelShape(t, model, 'rough-written')
    t.ok(tableFiles(dir).length > 5, `${tableFiles(dir).length} tables on disk`)
    t.ok(logBytes(dir) > 0, `the last writes are in the log (${logBytes(dir)} bytes)`)

    const c = classic(copyDir(dir, tempDir()), compression)
    await c.open()
    await verify(t, c, model, 'classic reads rough\'s directory', seed + 4)
    await c.close()
  })
}

test('compat-tables: an uncompressed RoughLevel database is larger on disk than the same data compressed', async (t) => {
  const sizes: Record<string, number> = {}
  let raw = 0
  for (const compression of [true, false]) {
    const dir = tempDir()
    const rnd = prng(7)
    let db = await openRough(dir, compression)
    const logs = new LogWatcher(dir)
    raw = 0
    // Put, then batch (classic-level's compression-test does both).
    for (let i = 0; i < 800; i++) {
      const key = Buffer.from(`key${String(i).padStart(6, '0')}`)
      const value = compressibleBytes(rnd, 1000)
      raw += key.length + value.length
      await db.put(key, value)
      if (i % 20 === 0) logs.observe()
    }
    for (let b = 0; b < 8; b++) {
      const ops: Array<{ type: 'put', key: Buffer, value: Buffer }> = []
      for (let i = 0; i < 100; i++) {
        const key = Buffer.from(`bat${b}${String(i).padStart(6, '0')}`)
        const value = compressibleBytes(rnd, 1000)
        raw += key.length + value.length
        ops.push({ type: 'put', key, value })
      }
      await db.batch(ops)
      logs.observe()
    }
    t.ok(logs.switches > 5, `${compression ? 'compressed' : 'uncompressed'}: ${logs.switches} memtables flushed`)
    await db.close()
    // Reopen so that what the log held is written to a table too (as classic-level's test "packs to .sst").
    db = await openRough(dir, compression)
    t.equal((await db.keys().all()).length, 1600, `${compression ? 'compressed' : 'uncompressed'}: every entry reads back`)
    await db.close()
    sizes[String(compression)] = dirSize(dir)

    // ClassicLevel reads the same data.
    const c = classic(copyDir(dir, tempDir()), compression)
    await c.open()
    const entries = await c.iterator().all()
    t.ok(entries.length === 1600 && entries.every(([, v]) => v.length === 1000), `${compression ? 'compressed' : 'uncompressed'}: ClassicLevel reads every entry`)
    await c.close()
  }
  t.ok(sizes.false >= raw, `uncompressed: ${sizes.false} bytes on disk >= ${raw} bytes of keys and values`)
  t.ok(sizes.true < sizes.false * 0.75, `compressed: ${sizes.true} bytes on disk < 75% of uncompressed ${sizes.false}`)
})
