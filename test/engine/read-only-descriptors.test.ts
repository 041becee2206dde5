// engine/db/read-only under a descriptor budget smaller than its tables (issue 14): a read-only database reads
// every table through the same budget as a writer, closing and reopening table files; what happens to a
// table the writer deletes depends on whether a view in use still needs it and whether its descriptor was
// open (the header of engine/db/read-only.ts):
// - a get at the current view that meets its table gone catches up at once and reads the writer's state;
// - an iterator on a view that a refresh retired keeps reading the tables the writer deletes afterwards;
// - an iterator whose table was closed and deleted before a refresh fails with LEVEL_IO_ERROR (ENOENT),
//   after nothing but right entries.
// The expectation is a model of what the writer wrote, and the writer itself.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { systemErrorCode } from '../../engine/errors'
import type { RandomAccessFile } from '../../engine/fs/file-system'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { PER_TABLE, TABLES, tableKey as key, writeDisjointTables as writeTables } from '../fixtures/disjoint-tables'

/** The reader's maxOpenFiles: the fewest allowed, far below the tables it reads. */
const BUDGET = 12

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-ro-descriptors-'))
}

const text = (buf: Uint8Array, off: number, len: number): string => Buffer.from(buf.subarray(off, off + len)).toString()

/** Every live entry as of now, in key order. */
function entries (db: Db): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const it = db.iterator()
  for (it.seekToFirst(); it.valid(); it.next()) out.push([text(it.keyBuf, it.keyOff, it.keyLen), text(it.valueBuf, it.valueOff, it.valueLen)])
  it.close()
  return out
}

function value (db: Db, k: string): string | undefined {
  return db.get(k, db.lastSequence) ? text(db.valueBuf, db.valueOff, db.valueLen) : undefined
}

/** The real file system, counting the files open for reading (now, at most, and opens) and which. */
class OpenCounter extends PosixFileSystem {
  readonly open = new Map<string, number>()
  now = 0
  peak = 0
  opens = 0

  override openRandomAccess (p: string): RandomAccessFile {
    const inner = super.openRandomAccess(p)
    this.opens++
    this.peak = Math.max(this.peak, ++this.now)
    this.open.set(p, (this.open.get(p) ?? 0) + 1)
    let closed = false
    return {
      path: p,
      read: (buf, offset, length, position) => inner.read(buf, offset, length, position),
      size: () => inner.size(),
      close: () => {
        if (!closed) {
          this.now--
          const n = this.open.get(p)! - 1
          if (n === 0) this.open.delete(p)
          else this.open.set(p, n)
        }
        closed = true
        inner.close()
      }
    }
  }

  /** Table files open now. */
  get tablesOpen (): number {
    return [...this.open.keys()].filter((p) => p.endsWith('.ldb')).length
  }
}

/** The real file system, whose unlinks wait while `deferring`, as a writer between its MANIFEST edit and its deletions. */
class DeferredUnlinks extends PosixFileSystem {
  deferring = false
  readonly pending: string[] = []

  override unlink (p: string): void {
    if (this.deferring) this.pending.push(p)
    else super.unlink(p)
  }

  override async unlinkAsync (p: string): Promise<void> {
    if (this.deferring) this.pending.push(p)
    else await super.unlinkAsync(p)
  }

  flushUnlinks (): void {
    this.deferring = false
    for (const p of this.pending.splice(0)) {
      try { super.unlink(p) } catch {} // the writer ignores a failed deletion too
    }
  }
}

const sorted = (model: Map<string, string>): Array<[string, string]> => [...model].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
const tableFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))

test('a read-only database with more tables than descriptors reads every entry by iterator and by get, reopening table files, within its budget', async (t) => {
  const dir = tempDir()
  const { writer, model } = await writeTables(dir)
  t.ok(tableFiles(dir).length >= TABLES, `the writer left ${tableFiles(dir).length} tables`)
  const counter = new OpenCounter()
  const reader = await Db.open(dir, { readOnly: true, maxOpenFiles: BUDGET, fs: counter })
  t.same(entries(reader), sorted(model), 'an iterator reads every entry')
  let wrong = 0
  for (const [k, v] of model) if (value(reader, k) !== v) wrong++
  t.is(wrong, 0, `every get reads its value (${model.size} keys)`)
  t.ok(counter.peak <= BUDGET, `at most ${BUDGET} files open at once (peak ${counter.peak})`)
  t.ok(counter.opens > 2 * TABLES, `table files closed and reopened (${counter.opens} opens)`)
  await reader.close()
  t.is(counter.now, 0, 'the reader closed every file it opened')
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a table of the current view that the writer deleted while its descriptor was closed: a get catches up at once and reads the writer\'s state', async (t) => {
  const dir = tempDir()
  const { writer, model } = await writeTables(dir)
  const counter = new OpenCounter()
  // No block cache: every get reads its data block from the table file.
  const reader = await Db.open(dir, { readOnly: true, maxOpenFiles: BUDGET, fs: counter, cacheSize: 0 })
  t.same(entries(reader), sorted(model), 'the reader reads every entry (its first tables\' descriptors close as it goes)')
  const before = new Set(tableFiles(dir))
  const first = [...before].sort()[0]
  t.notOk(counter.open.has(path.join(dir, first)), `${first} (the first range) is closed in the reader`)
  const sequence = reader.lastSequence
  // The writer overwrites the first range, deletes a key of the second, and compacts their tables away.
  await writer.write((b) => {
    for (let k = 0; k < PER_TABLE; k++) b.put(key(0, k), `new-${k}`)
    b.del(key(1, 0))
  })
  await writer.compactRange()
  t.notOk(fs.existsSync(path.join(dir, first)), `the writer deleted ${first}`)
  t.is(value(reader, key(0, 3)), 'new-3', 'a get in the deleted table reads the writer\'s new value')
  t.ok(reader.lastSequence > sequence && reader.lastSequence === writer.lastSequence, `the reader caught up within the get (sequence ${sequence} -> ${reader.lastSequence})`)
  t.is(value(reader, key(1, 0)), undefined, 'the key the writer deleted is gone')
  t.is(value(reader, key(50, 1)), '50-1', 'the tables the writer kept read as before')
  t.same(entries(reader), entries(writer), 'the reader equals the writer')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('after a get caught up, reads that go on at the sequence it began at (a getMany\'s later keys) read that state or fail, never the newer state at an older sequence', async (t) => {
  const dir = tempDir()
  const { writer, model } = await writeTables(dir)
  const reader = await Db.open(dir, { readOnly: true, maxOpenFiles: BUDGET, fs: new OpenCounter(), cacheSize: 0 })
  t.same(entries(reader), sorted(model), 'the reader reads every entry (its first tables\' descriptors close as it goes)')
  const sequence = reader.lastSequence
  // Every key overwritten and every old table compacted away: at the old sequence the new state has nothing.
  await writer.write((b) => { for (const k of model.keys()) b.put(k, 'newer') })
  await writer.compactRange()
  const at = (k: string, s: number): string => {
    try {
      return reader.get(k, s) ? text(reader.valueBuf, reader.valueOff, reader.valueLen) : 'none'
    } catch (err) {
      return `${(err as { code?: string }).code ?? String(err)}`
    }
  }
  t.is(at(key(0, 0), sequence), 'newer', 'the first get meets its table gone, catches up and reads the writer\'s value')
  const outcomes = new Map<string, number>()
  for (let r = 1; r < TABLES; r++) {
    const got = at(key(r, 5), sequence)
    const kind = got === `${r}-5` ? 'its state' : got
    outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1)
  }
  t.ok([...outcomes.keys()].every((k) => k === 'its state' || k === 'LEVEL_IO_ERROR'), `the later gets at its sequence read its state or fail (${JSON.stringify([...outcomes])})`)
  t.ok((outcomes.get('its state') ?? 0) > 0, 'those whose tables were still open read their values')
  t.notOk(await reader.refresh(), 'a refresh with nothing new')
  t.is(at(key(99, 5), sequence), '99-5', 'keeps that state')
  await writer.write((b) => { b.put('z', 'z') })
  t.ok(await reader.refresh(), 'a refresh with something new')
  t.is(at(key(99, 5), sequence), 'LEVEL_IO_ERROR', 'lets that state go: a read at its sequence fails')
  t.is(at(key(99, 5), reader.lastSequence), 'newer', 'and a read now reads the writer\'s state')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a get through an explicit snapshot whose table the writer deleted while closed fails with LEVEL_IO_ERROR (ENOENT), never with a later value; once it is released a get catches up', async (t) => {
  const dir = tempDir()
  const { writer, model } = await writeTables(dir)
  const reader = await Db.open(dir, { readOnly: true, maxOpenFiles: BUDGET, fs: new OpenCounter(), cacheSize: 0 })
  t.same(entries(reader), sorted(model), 'the reader reads every entry (its first tables\' descriptors close as it goes)')
  const snapshot = reader.snapshot()
  await writer.write((b) => { for (let k = 0; k < PER_TABLE; k++) b.put(key(0, k), `new-${k}`) })
  await writer.compactRange()
  let failure: unknown
  let got: string | undefined
  try {
    got = reader.get(key(0, 3), snapshot.sequence) ? text(reader.valueBuf, reader.valueOff, reader.valueLen) : undefined
  } catch (err) {
    failure = err
  }
  t.is(got, undefined, 'the snapshot\'s get returns no value (the writer\'s later one would be wrong)')
  t.is((failure as { code?: string } | undefined)?.code, 'LEVEL_IO_ERROR', 'it fails with LEVEL_IO_ERROR')
  t.is(systemErrorCode(failure), 'ENOENT', 'for the table file gone')
  snapshot.release()
  t.is(value(reader, key(0, 3)), 'new-3', 'released, a get catches up and reads the writer\'s value')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('an iterator on a view a refresh retires keeps reading the tables the writer deletes afterwards, though they outnumber the budget; they close with it', async (t) => {
  const dir = tempDir()
  const writerFs = new DeferredUnlinks()
  const { writer, model } = await writeTables(dir, writerFs)
  const counter = new OpenCounter()
  const reader = await Db.open(dir, { readOnly: true, maxOpenFiles: BUDGET, fs: counter, cacheSize: 0 })
  const expected = entries(reader)
  t.same(expected, sorted(model), 'the reader reads every entry')
  const it = reader.iterator()
  it.seekToFirst()
  const old = tableFiles(dir)
  // The writer rewrites every range and compacts; its deletions wait until the reader has refreshed.
  writerFs.deferring = true
  await writer.write((b) => { for (const k of model.keys()) b.put(k, 'newer') })
  await writer.compactRange()
  t.ok(await reader.refresh(), 'the reader caught up (the iterator\'s view is retired, still in use)')
  t.ok(counter.tablesOpen >= old.length, `the reader holds the retired view's ${old.length} tables open (${counter.tablesOpen} table files open)`)
  writerFs.flushUnlinks()
  t.ok(old.every((f) => !fs.existsSync(path.join(dir, f))), `the writer deleted all ${old.length} of them`)
  const got: Array<[string, string]> = []
  for (; it.valid(); it.next()) got.push([text(it.keyBuf, it.keyOff, it.keyLen), text(it.valueBuf, it.valueOff, it.valueLen)])
  t.same(got, expected, 'the iterator reads its whole view from the deleted tables')
  t.same(entries(reader), entries(writer), 'a new iterator reads the writer\'s state')
  it.close()
  t.ok(counter.now <= BUDGET, `once it closes, the reader is back within its budget (${counter.now} files open)`)
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('an iterator whose table was closed and deleted before a refresh fails with LEVEL_IO_ERROR (ENOENT) after right entries only; after a refresh the reader reads the writer\'s state', async (t) => {
  const dir = tempDir()
  const { writer, model } = await writeTables(dir)
  const reader = await Db.open(dir, { readOnly: true, maxOpenFiles: BUDGET, fs: new OpenCounter(), cacheSize: 0 })
  const expected = entries(reader)
  const it = reader.iterator()
  await writer.write((b) => { for (const k of model.keys()) b.put(k, 'newer') })
  await writer.compactRange()
  const got: Array<[string, string]> = []
  let failure: unknown
  try {
    for (it.seekToFirst(); it.valid(); it.next()) got.push([text(it.keyBuf, it.keyOff, it.keyLen), text(it.valueBuf, it.valueOff, it.valueLen)])
  } catch (err) {
    failure = err
  }
  it.close()
  t.is((failure as { code?: string } | undefined)?.code, 'LEVEL_IO_ERROR', `the iterator fails with LEVEL_IO_ERROR after ${got.length} entries`)
  t.is(systemErrorCode(failure), 'ENOENT', 'for a table file gone')
  t.ok(/\.ldb/.test(String((failure as Error | undefined)?.message)), 'naming the table file')
  t.same(got, expected.slice(0, got.length), 'every entry it returned is its view\'s')
  await reader.refresh()
  t.same(entries(reader), entries(writer), 'after a refresh the reader equals the writer')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
