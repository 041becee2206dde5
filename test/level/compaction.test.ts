// Compaction seen through the Level API: compactRange frees the space of deleted and overwritten data
// (classic-level's compact-range-test), a live snapshot keeps the versions it reads until it is released,
// and what compaction leaves behind reads the same in RoughLevel and classic-level.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import crypto = require('node:crypto')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-compaction-'))
}

function tableBytes (dir: string): number {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ldb')).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
}

function levels (db: RoughLevel<string, Buffer>): number[] {
  return [0, 1, 2, 3, 4, 5, 6].map((l) => Number(db.getProperty(`leveldb.num-files-at-level${l}`)))
}

const key = (i: number): string => `key${String(i).padStart(6, '0')}`
const COUNT = 3000

test('compaction: compactRange after deleting everything frees the space, and the data stays deleted everywhere', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel<string, Buffer>(dir, { valueEncoding: 'buffer', writeBufferSize: 64 * 1024 })
  await db.open()
  for (let i = 0; i < COUNT; i += 100) {
    await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: crypto.randomBytes(1000) })))
  }
  await db.compactRange(key(0), key(COUNT))
  const full = await db.approximateSize(key(0), key(COUNT))
  t.ok(full > COUNT * 900, `approximateSize after compaction counts the data (${full} bytes)`)
  t.is(levels(db)[0], 0, 'compactRange leaves nothing at level 0')
  t.ok(tableBytes(dir) > COUNT * 900, `tables hold the data (${tableBytes(dir)} bytes)`)

  await db.batch(Array.from({ length: COUNT }, (_, i) => ({ type: 'del' as const, key: key(i) })))
  await db.compactRange(key(0), key(COUNT))
  const after = await db.approximateSize(key(0), key(COUNT))
  t.ok(after < full / 20, `deleted data is dropped at the base level: ${full} -> ${after} bytes`)
  t.ok(tableBytes(dir) < COUNT * 50, `and its table files are gone (${tableBytes(dir)} bytes left)`)
  t.same(await db.keys().all(), [], 'nothing reads back')
  await db.close()

  const reopened = new RoughLevel(dir)
  t.same(await reopened.keys().all(), [], 'nothing after a reopen')
  await reopened.close()
  const classic = new ClassicLevel(dir)
  t.same(await classic.keys().all(), [], 'nothing in classic-level either')
  await classic.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('compaction: a snapshot keeps the versions it reads through compactions; released, they are dropped', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel<string, Buffer>(dir, { valueEncoding: 'buffer', writeBufferSize: 64 * 1024 })
  await db.open()
  const old = Array.from({ length: COUNT }, () => crypto.randomBytes(500))
  for (let i = 0; i < COUNT; i += 100) {
    await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: old[i + j] })))
  }
  const snapshot = db.snapshot()
  const fresh = Array.from({ length: COUNT }, () => crypto.randomBytes(500))
  for (let i = 0; i < COUNT; i += 100) {
    await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: fresh[i + j] })))
  }
  await db.compactRange(key(0), key(COUNT))
  const withBoth = await db.approximateSize(key(0), key(COUNT))
  const viaSnapshot = await db.getMany(Array.from({ length: COUNT }, (_, i) => key(i)), { snapshot })
  t.ok(viaSnapshot.every((v, i) => v !== undefined && v.equals(old[i])), 'the snapshot reads every old value after compaction')
  const now = await db.getMany(Array.from({ length: COUNT }, (_, i) => key(i)))
  t.ok(now.every((v, i) => v !== undefined && v.equals(fresh[i])), 'reads without it see the new values')
  await snapshot.close()
  // As LevelDB's, compactRange leaves the bottom level as it is: the versions there go when newer writes
  // are compacted down onto them, with no snapshot left to keep them.
  const newest = Array.from({ length: COUNT }, () => crypto.randomBytes(500))
  for (let i = 0; i < COUNT; i += 100) {
    await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: newest[i + j] })))
  }
  await db.compactRange(key(0), key(COUNT))
  const withNew = await db.approximateSize(key(0), key(COUNT))
  t.ok(withNew < withBoth * 0.7, `once released, shadowed versions are dropped: ${withBoth} bytes for two versions -> ${withNew} for one`)
  const entries = await db.iterator().all()
  t.is(entries.length, COUNT, 'every key once')
  t.ok(entries.every(([k, v], i) => k === key(i) && v.equals(newest[i])), 'with its newest value')
  await db.close()

  const classic = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' })
  const fromClassic = await classic.iterator().all()
  t.ok(fromClassic.length === COUNT && fromClassic.every(([k, v], i) => k === key(i) && v.equals(newest[i])), 'classic-level reads the compacted database the same')
  await classic.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('compaction: automatic compactions keep level 0 short and every level >= 1 sorted and disjoint', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel<string, Buffer>(dir, { valueEncoding: 'buffer', writeBufferSize: 64 * 1024, maxFileSize: 1024 * 1024 })
  await db.open()
  const model = new Map<string, Buffer>()
  let seed = 7
  const rnd = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
  for (let b = 0; b < 200; b++) {
    const ops = Array.from({ length: 50 }, () => {
      const k = key(Math.floor(rnd() * 20000))
      const v = crypto.randomBytes(200)
      model.set(k, v)
      return { type: 'put' as const, key: k, value: v }
    })
    await db.batch(ops)
  }
  // Let the background work settle: a compactRange of nothing waits for the running compaction.
  await db.compactRange('zzzz', 'zzzz')
  const perLevel = levels(db)
  t.ok(perLevel[0] < 12, `level 0 stays under the stop trigger (${perLevel.join(',')})`)
  t.ok(perLevel.slice(1).reduce((a, b) => a + b, 0) > 0, 'compactions moved data below level 0')
  const sstables = db.getProperty('leveldb.sstables')
  for (const block of sstables.split('--- level ').slice(2)) {
    const ranges = [...block.matchAll(/\['(.*?)' @ \d+ : \d \.\. '(.*?)' @ \d+ : \d\]/g)].map((m) => [m[1], m[2]])
    const sorted = ranges.every(([lo, hi], i) => lo <= hi && (i === 0 || ranges[i - 1][1] < lo))
    t.ok(sorted, `level ${block.slice(0, 1)}: ${ranges.length} tables, sorted and disjoint`)
  }
  const all = await db.iterator().all()
  const expected = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  t.is(all.length, expected.length, `every key once (${expected.length})`)
  t.ok(all.every(([k, v], i) => k === expected[i][0] && v.equals(expected[i][1])), 'with its newest value')
  await db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
