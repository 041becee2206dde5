// The Db out of file descriptors (engine/fs/descriptor-budget.ts): EMFILE is a condition that passes, never
// the database's error state. Here a memtable switch that cannot open its new log writes on into the full
// memtable and switches at a later commit; tables read past the budget reopen on demand. Expectations: a model
// of every acknowledged write, read back before and after a reopen.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { CrashFileSystem } from './helpers/crash-file-system'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-descriptors-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))
let dirs = 0

function read (db: Db, key: string): string | undefined {
  if (!db.get(key, db.lastSequence)) return undefined
  return Buffer.from(db.valueBuf.subarray(db.valueOff, db.valueOff + db.valueLen)).toString('latin1')
}

/** The keys of `model` whose value in db differs (missing included), and keys db holds beyond them. */
function differences (db: Db, model: Map<string, string>): string[] {
  const wrong: string[] = []
  for (const [k, v] of model) if (read(db, k) !== v) wrong.push(k)
  const it = db.iterator()
  let count = 0
  for (it.seekToFirst(); it.valid(); it.next()) count++
  it.close()
  if (count !== model.size) wrong.push(`(${count} entries iterated, ${model.size} expected)`)
  return wrong
}

const valueOf = (i: number): string => `value ${i} `.repeat(90)

test('a memtable switch that gets no descriptor for its new log (EMFILE) writes on into the memtable, and a later commit switches', async (t) => {
  const dir = path.join(root, String(dirs++))
  const fsys = new CrashFileSystem()
  const db = await Db.open(dir, { fs: fsys, writeBufferSize: 64 * 1024 })
  const model = new Map<string, string>()
  // No table is open yet: there is no idle descriptor to give up, so the EMFILE reaches the switch.
  const fault = fsys.fail({ op: 'openWritable', kind: 'log', code: 'EMFILE', sticky: true })
  const logs = (): number => fs.readdirSync(dir).filter((n) => n.endsWith('.log')).length
  let failed = ''
  for (let i = 0; i < 300; i++) {
    try {
      await db.put(`k${i}`, valueOf(i))
      model.set(`k${i}`, valueOf(i))
    } catch (err) {
      failed ||= String(err)
    }
  }
  t.equal(failed, '', 'every write succeeds')
  t.ok(fault.fired >= 2, `the switch was tried and refused at several commits (${fault.fired})`)
  t.equal(logs(), 1, 'still one log')
  t.ok(db.memoryUsage > 3 * 64 * 1024, 'the memtable grew past writeBufferSize')
  t.deepEqual(differences(db, model), [], 'reads serve every write')

  fsys.heal()
  await db.put('after', 'x')
  model.set('after', 'x')
  await db.flush()
  // The full memtable was switched away from (and flushed) at the next commit, so 'after' went to a new
  // memtable of its own, which flush() wrote as a second table.
  const tables = fs.readdirSync(dir).filter((n) => n.endsWith('.ldb')).length
  t.equal(tables, 2, 'once descriptors are back, the next commit switches to a new memtable: the full one and the new one are two tables')
  await db.put('later', 'y')
  model.set('later', 'y')
  t.deepEqual(differences(db, model), [], 'reads serve every write')
  await db.close()

  const reopened = await Db.open(dir)
  t.deepEqual(differences(reopened, model), [], 'a reopen returns every write')
  await reopened.close()
})

test('with maxOpenFiles at its minimum, a database of many tables reads them all, each table reopening on demand', async (t) => {
  const dir = path.join(root, String(dirs++))
  const model = new Map<string, string>()
  let db = await Db.open(dir, { writeBufferSize: 64 * 1024, maxOpenFiles: 1 })
  // Each flush holds keys after all before it: tables that never overlap, moved down whole, never merged.
  for (let round = 0; round < 40; round++) {
    const writes: Array<Promise<void>> = []
    for (let i = 0; i < 20; i++) {
      const k = `k${String(round * 20 + i).padStart(5, '0')}`
      writes.push(db.put(k, valueOf(round * 20 + i)))
      model.set(k, valueOf(round * 20 + i))
    }
    await Promise.all(writes)
    await db.flush()
  }
  const tables = (): number => fs.readdirSync(dir).filter((n) => n.endsWith('.ldb')).length
  await db.close()
  // No block cache: every read goes to a file.
  db = await Db.open(dir, { maxOpenFiles: 1, cacheSize: 0 })
  t.ok(tables() >= 30, `many tables (${tables()}) for a budget of 12 descriptors`)
  t.deepEqual(differences(db, model), [], 'every entry reads back, by get and by iterating')
  // Two iterators walking the tables together: their reads take each other's descriptors.
  const a = db.iterator()
  const b = db.iterator()
  let same = 0
  for (a.seekToFirst(), b.seekToFirst(); a.valid() && b.valid(); a.next(), b.next()) {
    if (Buffer.compare(a.valueBuf.subarray(a.valueOff, a.valueOff + a.valueLen), b.valueBuf.subarray(b.valueOff, b.valueOff + b.valueLen)) === 0) same++
  }
  a.close()
  b.close()
  t.equal(same, model.size, 'two interleaved iterators read every entry')
  await db.close()
})
