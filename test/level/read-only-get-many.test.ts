// getMany and hasMany on a readOnly RoughLevel read every key at one state of the writer (index.ts #readMany),
// also when a get in the call meets a table the writer deleted while the reader had its descriptor closed
// (engine/db/read-only.ts: a lone get would catch up and read the newer state, while the call's other keys
// read the older one). The reader keeps to the smallest descriptor budget, far below its tables; the first
// key's table is closed and deleted, the later keys' tables are still open. The expectation is a model of the
// writer's two states: every value of the call from one of them, and here the new one (the old one lost a
// table). With the caller's snapshot, the call fails instead (LEVEL_IO_ERROR, ENOENT), as an iterator does.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import type { Db } from '../../engine/db/db'
import { systemErrorCode } from '../../engine/errors'
import { RoughLevel } from '../../index'
import { tableKey as key, writeDisjointTables } from '../fixtures/disjoint-tables'


/** The call's keys: the first in the first table (read first, so closed first), the rest in the last ones (still open). */
const KEYS = [key(0, 3), ...[99, 98, 97].flatMap((r) => [key(r, 1), key(r, 7), key(r, 15)])]

const tableFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.ldb')).sort()

interface Setup {
  dir: string
  writer: Db
  reader: RoughLevel
  /** The writer's state the reader opened on. */
  old: Map<string, string>
}

/** A writer with TABLES tables of disjoint ranges, and a reader that has read them all under the smallest budget. */
async function setup (t: test.Test): Promise<Setup> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-ro-get-many-'))
  const { writer, model: old } = await writeDisjointTables(dir)
  // No block cache: every get reads its data block from the table file.
  const reader = new RoughLevel(dir, { readOnly: true, maxOpenFiles: 12, cacheSize: 0 })
  await reader.open()
  const all = await reader.iterator().all()
  t.is(all.length, old.size, 'the reader reads every entry (its first tables\' descriptors close as it goes)')
  return { dir, writer, reader, old }
}

async function teardown ({ dir, writer, reader }: Setup): Promise<void> {
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
}

test('a read-only getMany whose first key\'s table the writer deleted while closed returns every value from one state (the writer\'s new one)', async (t) => {
  const s = await setup(t)
  // The writer overwrites every key and compacts the old tables away.
  const first = tableFiles(s.dir)[0]
  const next = new Map<string, string>()
  await s.writer.write((b) => { for (const k of s.old.keys()) { b.put(k, `new-${k}`); next.set(k, `new-${k}`) } })
  await s.writer.compactRange()
  t.notOk(fs.existsSync(path.join(s.dir, first)), `the writer deleted the first table (${first})`)
  const got = await s.reader.getMany(KEYS)
  const fromOld = KEYS.filter((k, i) => got[i] === s.old.get(k)).length
  const fromNew = KEYS.filter((k, i) => got[i] === next.get(k)).length
  t.ok(fromOld === KEYS.length || fromNew === KEYS.length, `every value from one state (${fromOld} old, ${fromNew} new of ${KEYS.length})`)
  t.same(got, KEYS.map((k) => next.get(k)), 'the writer\'s new state, since the old one lost a table')
  t.is(await s.reader.get(key(50, 0)), next.get(key(50, 0)), 'a get afterwards reads the new state too')
  await teardown(s)
})

test('a read-only hasMany whose first key\'s table the writer deleted while closed answers every key from one state (the writer\'s new one)', async (t) => {
  const s = await setup(t)
  // The writer deletes every key and compacts the old tables away: in its new state, no key is there.
  await s.writer.write((b) => { for (const k of s.old.keys()) b.del(k) })
  await s.writer.compactRange()
  const got = await s.reader.hasMany(KEYS)
  const present = got.filter((x) => x).length
  t.ok(present === 0 || present === KEYS.length, `every answer from one state (${present} of ${KEYS.length} present)`)
  t.same(got, KEYS.map(() => false), 'the writer\'s new state: every key deleted')
  await teardown(s)
})

test('a read-only getMany through the caller\'s snapshot whose table the writer deleted while closed fails with LEVEL_IO_ERROR (ENOENT), never with a later value', async (t) => {
  const s = await setup(t)
  const snapshot = s.reader.snapshot()
  await s.writer.write((b) => { for (const k of s.old.keys()) b.put(k, 'newer') })
  await s.writer.compactRange()
  let failure: unknown
  let got: unknown
  try {
    got = await s.reader.getMany(KEYS, { snapshot })
  } catch (err) {
    failure = err
  }
  t.is(got, undefined, 'no values (the writer\'s later ones would be wrong for the snapshot)')
  t.is((failure as { code?: string } | undefined)?.code, 'LEVEL_IO_ERROR', 'it fails with LEVEL_IO_ERROR')
  t.is(systemErrorCode(failure), 'ENOENT', 'for the table file gone')
  await snapshot.close()
  t.same(await s.reader.getMany(KEYS), KEYS.map(() => 'newer'), 'once the snapshot is closed, a getMany reads the writer\'s new state')
  await teardown(s)
})
