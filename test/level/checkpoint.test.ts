// db.checkpoint(dest) (engine/db/checkpoint.ts): taken while writes go on, it equals an explicit snapshot
// taken at the same call, entry by entry; it opens in classic-level; its tables are hard links; it survives
// the source's compactions and RoughLevel.destroy; a read-only database (a follower) checkpoints its view;
// a destination that is not new or empty is refused. The SIGKILL case is in checkpoint-crash.test.ts.
import test from 'tape'
import { ClassicLevel } from 'classic-level'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { eventLoopBudget, SLICE_MS } from '../../engine/util/event-loop-budget'

const BUF = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const
type Entries = Array<[string, string]>

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-checkpoint-'))
}

const hex = (entries: Array<[Buffer, Buffer]>): Entries => entries.map(([k, v]) => [k.toString('hex'), v.toString('hex')])

async function roughEntries (dir: string): Promise<Entries> {
  const db = new RoughLevel<Buffer, Buffer>(dir, { ...BUF, createIfMissing: false })
  await db.open()
  try {
    return hex(await db.iterator().all())
  } finally {
    await db.close()
  }
}

async function classicEntries (dir: string): Promise<Entries> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { ...BUF, createIfMissing: false })
  await db.open()
  try {
    return hex(await db.iterator().all())
  } finally {
    await db.close()
  }
}

const key = (k: number): string => `key${String(k).padStart(5, '0')}`

test('checkpoint under concurrent writes equals a snapshot taken at the same call; opens in classic-level; hard links; survives compaction and destroy of the source', async (t) => {
  const dir = tempDir()
  const dest = path.join(tempDir(), 'checkpoint')
  const db = new RoughLevel<string, string>(dir)
  await db.open()
  // Tables first (several flushes), then deletions and overwrites that stay in the memtable and must go on
  // shadowing what the tables hold.
  for (let r = 0; r < 4; r++) {
    await db.batch(Array.from({ length: 500 }, (_, k) => ({ type: 'put' as const, key: key(k + r * 100), value: `${r}-${k}-${'v'.repeat(60)}` })))
    await db.compactRange(key(r * 100), key(r * 100 + 99))
  }
  await db.batch(Array.from({ length: 50 }, (_, k) => ({ type: 'del' as const, key: key(k * 7) })))
  await db.put(key(3), 'in the memtable')

  let writing = true
  let round = 100
  const writes = (async () => {
    while (writing) {
      const r = round++
      await db.batch(Array.from({ length: 40 }, (_, k) => ({ type: (k % 5 === 0 ? 'del' : 'put') as 'put', key: key((r * 37 + k * 11) % 700), value: `${r}-${'w'.repeat(80)}` })))
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 30))
  const inodes = new Set(fs.readdirSync(dir).filter((f) => f.endsWith('.ldb')).map((f) => fs.statSync(path.join(dir, f)).ino))
  // The same synchronous step: the snapshot and the checkpoint see the same sequence. A slice of 0 ms makes
  // the checkpoint yield between tables, so that writes reach the memtable before it is written out.
  eventLoopBudget.sliceMs = 0
  const snapshot = db.snapshot()
  const done = db.checkpoint(dest)
  // Writes queued after the call: committed while the checkpoint yields, before it writes the memtable out.
  const later = db.batch([{ type: 'put', key: key(3), value: 'after the call' }, { type: 'del', key: key(4) }, { type: 'put', key: 'zz-new', value: 'after the call' }])
  // A compaction while it runs, once writes have reached the memtable the checkpoint reads.
  const compacted = new Promise((resolve) => setImmediate(resolve)).then(async () => await db.compactRange(key(0), key(99999)))
  const report = await done
  await later
  eventLoopBudget.sliceMs = SLICE_MS
  // The writes stop with the checkpoint: compactRange compacts what the range holds when each of its
  // steps begins, so writes that went on until it finished kept it going (589,204 batches, 13 minutes, on
  // a loaded machine).
  writing = false
  await writes
  await compacted
  const expected = (await db.iterator({ snapshot }).all()).map(([k, v]): [string, string] => [Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')])
  await snapshot.close()
  const now = await db.iterator().all()
  t.ok(round > 101, `writes went on during the checkpoint (${round - 100} batches)`)
  t.notSame(now.length === expected.length && now.every(([k, v], i) => Buffer.from(k).toString('hex') === expected[i][0] && Buffer.from(v).toString('hex') === expected[i][1]), true, 'the database moved on past the snapshot')
  t.ok(report.linked > 0 && report.copied === 0, `tables were hard-linked (${report.linked} linked, ${report.memtableBytes} bytes of memtable written as a table)`)
  const tables = fs.readdirSync(dest).filter((f) => f.endsWith('.ldb'))
  const shared = tables.filter((f) => inodes.has(fs.statSync(path.join(dest, f)).ino))
  t.is(shared.length, report.linked, `the linked tables are the source's own files (same inodes: ${shared.join(', ')})`)
  t.same(fs.readdirSync(dest).filter((f) => !/\.ldb$/.test(f)).sort(), ['CURRENT', fs.readdirSync(dest).find((f) => f.startsWith('MANIFEST-'))].sort(), 'the checkpoint holds tables, one MANIFEST and CURRENT: no log, no LOCK')

  await db.close()
  await RoughLevel.destroy(dir)
  t.notOk(fs.existsSync(dir), 'the source is destroyed')
  const rough = await roughEntries(dest)
  t.is(rough.length, expected.length, `the checkpoint holds ${rough.length} entries`)
  t.same(rough, expected, 'rough-level reads exactly the snapshot, entry by entry')
  t.same(await classicEntries(dest), expected, 'and so does classic-level')
  // Entries numbered after the snapshot's sequence would surface once writes to the checkpoint pass it.
  const reopened = new RoughLevel<string, string>(dest, { createIfMissing: false })
  await reopened.open()
  const extra = Array.from({ length: 1000 }, (_, k) => ({ type: 'put' as const, key: `~extra${String(k).padStart(4, '0')}`, value: 'x' }))
  await reopened.batch(extra)
  await reopened.close()
  const withExtra = [...expected, ...extra.map((e): [string, string] => [Buffer.from(e.key).toString('hex'), Buffer.from(e.value).toString('hex')])]
  t.same(await roughEntries(dest), withExtra, 'after 1000 writes to the checkpoint: the snapshot plus those writes, nothing written after the call surfaces')
  fs.rmSync(path.dirname(dest), { recursive: true, force: true })
})

test('checkpoint of a read-only database (a follower) holds its current view; the destination must be new or empty', async (t) => {
  const dir = tempDir()
  const writer = new RoughLevel<string, string>(dir, { writeBufferSize: 64 * 1024 })
  await writer.open()
  for (let r = 0; r < 3; r++) await writer.batch(Array.from({ length: 400 }, (_, k) => ({ type: 'put' as const, key: key(k), value: `${r}-${'x'.repeat(100)}` })))
  const reader = new RoughLevel<string, string>(dir, { readOnly: true })
  await reader.open()
  await writer.batch(Array.from({ length: 400 }, (_, k) => ({ type: 'put' as const, key: key(k), value: `3-${'x'.repeat(100)}` })))
  await reader.refresh()
  const expected = hex(await reader.iterator<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' }).all())
  await writer.put(key(1), 'after the refresh')
  const dest = path.join(tempDir(), 'from-follower')
  await reader.checkpoint(dest)
  t.same(await roughEntries(dest), expected, 'the checkpoint holds the follower\'s view (not the write made after its refresh)')
  t.same(await classicEntries(dest), expected, 'in classic-level too')

  const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (err: { code?: string }) => err.code)
  t.is(await codeOf(writer.checkpoint(dest)), 'LEVEL_INVALID_ARGUMENT', 'a destination that is not empty is refused')
  t.is(await codeOf(writer.checkpoint(dir)), 'LEVEL_INVALID_ARGUMENT', 'the database\'s own directory is refused')
  const empty = tempDir()
  await writer.checkpoint(empty)
  t.is((await roughEntries(empty)).length, 400, 'an empty existing directory is fine')
  await reader.close()
  await writer.close()
  t.is(await codeOf(writer.checkpoint(path.join(empty, 'x'))), 'LEVEL_DATABASE_NOT_OPEN', 'a closed database refuses')
  for (const d of [dir, path.dirname(dest), empty]) fs.rmSync(d, { recursive: true, force: true })
})
