// engine/version/version-set: the files a fresh database writes are LevelDB's bytes (reference §1,
// §14.2, §14.6), MANIFEST recovery rebuilds the same state from the edits, and the damage LevelDB
// refuses (a CURRENT without newline, a missing MANIFEST, a missing meta entry, a foreign comparator)
// fails the open.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { LogWriter } from '../../engine/log/writer'
import { TableCache } from '../../engine/table/table-cache'
import { VersionEdit } from '../../engine/version/version-edit'
import { VersionSet } from '../../engine/version/version-set'
import { fromHex, hex, internalKey } from './helpers/bytes'

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-vset-'))
}

function open (dir: string): VersionSet {
  const posix = new PosixFileSystem()
  return new VersionSet(dir, posix, new TableCache(dir, posix, 10))
}

test('a fresh database holds exactly the files LevelDB writes, MANIFEST-000002 byte for byte (reference §14.2)', async (t) => {
  const dir = tempDir()
  const db = await Db.open(dir)
  await db.close()
  t.same(fs.readdirSync(dir).sort(), ['000003.log', 'CURRENT', 'LOCK', 'LOG', 'MANIFEST-000002'], 'files as LevelDB 1.23 leaves them')
  t.is(fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), 'MANIFEST-000002\n', 'CURRENT names the new MANIFEST')
  const expected = fromHex(`
    56 f9 b8 f8 1c 00 01 01 1a ${Buffer.from('leveldb.BytewiseComparator').toString('hex')}
    a4 9c 8b be 08 00 01 02 03 09 00 03 04 04 00`)
  t.is(hex(fs.readFileSync(path.join(dir, 'MANIFEST-000002'))), hex(expected), 'the 50 bytes of the reference')
  t.is(fs.statSync(path.join(dir, '000003.log')).size, 0, 'an empty log')
  fs.rmSync(dir, { recursive: true, force: true })
})

test('file numbers on reopen follow LevelDB (reference §12.1): one put, reopen -> MANIFEST-000004, table 5, log 6', async (t) => {
  const dir = tempDir()
  let db = await Db.open(dir)
  await db.put('foo', 'bar')
  await db.close()
  db = await Db.open(dir)
  await db.close()
  // Open 1: MANIFEST-2, log 3 (next file 4). Open 2: MANIFEST-4, the replayed log 3 becomes table 5, new log 6.
  t.same(fs.readdirSync(dir).sort(), ['000005.ldb', '000006.log', 'CURRENT', 'LOCK', 'LOG', 'LOG.old', 'MANIFEST-000004'],
    'the replayed log became table 5, the new log is 6, the new MANIFEST is 4, and the old files are gone')
  fs.rmSync(dir, { recursive: true, force: true })
})

test('MANIFEST recovery rebuilds files, numbers and the last sequence from every edit', async (t) => {
  const dir = tempDir()
  const a = open(dir)
  await a.create()
  await a.recover()
  const file = (number: number, lo: string, hi: string, seq: number) => ({
    number, fileSize: 1000 + number, smallest: internalKey(lo, seq, 1), largest: internalKey(hi, seq, 1)
  })
  const e1 = new VersionEdit()
  e1.logNumber = a.newFileNumber()
  e1.addFile(0, file(a.newFileNumber(), 'a', 'm', 5))
  e1.addFile(1, file(a.newFileNumber(), 'n', 'z', 3))
  e1.lastSequence = 9
  await a.logAndApply(e1)
  const e2 = new VersionEdit()
  e2.deleteFile(0, e1.newFiles[0].file.number)
  e2.addFile(2, file(a.newFileNumber(), 'a', 'f', 7))
  e2.lastSequence = 12
  await a.logAndApply(e2)
  const expected = a.current.files.map((level) => level.map((f) => f.number))
  a.close()

  const b = open(dir)
  await b.recover()
  t.same(b.current.files.map((level) => level.map((f) => f.number)), expected, 'same files per level')
  t.is(b.lastSequence, 12, 'last sequence')
  t.is(b.logNumber, e1.logNumber, 'log number')
  t.ok(b.nextFileNumber > e2.newFiles[0].file.number, 'the file counter is past every number used')
  t.same(hex(b.current.files[2][0].smallest), hex(internalKey('a', 7, 1)), 'keys survive')
  b.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('recovery refuses what LevelDB refuses, with LevelDB\'s messages', async (t) => {
  const cases: Array<[string, (dir: string) => void, RegExp, string]> = [
    ['CURRENT without a newline', (dir) => fs.writeFileSync(path.join(dir, 'CURRENT'), 'MANIFEST-000001'), /CURRENT file does not end with newline/, 'LEVEL_CORRUPTION'],
    ['CURRENT naming a missing MANIFEST', (dir) => fs.writeFileSync(path.join(dir, 'CURRENT'), 'MANIFEST-000009\n'), /CURRENT points to a non-existent file/, 'LEVEL_CORRUPTION'],
    ['a MANIFEST without a next-file entry', (dir) => writeManifest(dir, (e) => { e.comparator = 'leveldb.BytewiseComparator'; e.logNumber = 0; e.lastSequence = 0 }), /no meta-nextfile entry/, 'LEVEL_CORRUPTION'],
    ['a MANIFEST without a log number', (dir) => writeManifest(dir, (e) => { e.nextFileNumber = 2; e.lastSequence = 0 }), /no meta-lognumber entry/, 'LEVEL_CORRUPTION'],
    ['a MANIFEST without a last sequence', (dir) => writeManifest(dir, (e) => { e.nextFileNumber = 2; e.logNumber = 0 }), /no last-sequence-number entry/, 'LEVEL_CORRUPTION'],
    ['another comparator (Chromium IndexedDB)', (dir) => writeManifest(dir, (e) => { e.comparator = 'idb_cmp1'; e.nextFileNumber = 2; e.logNumber = 0; e.lastSequence = 0 }), /idb_cmp1 does not match existing comparator leveldb.BytewiseComparator/, 'LEVEL_INVALID_ARGUMENT']
  ]
  for (const [name, damage, message, code] of cases) {
    const dir = tempDir()
    const vs = open(dir)
    await vs.create()
    damage(dir)
    try {
      await open(dir).recover()
      t.fail(`${name}: recovered`)
    } catch (err: any) {
      t.ok(message.test(err.message), `${name}: ${err.message}`)
      t.is(err.code, code, `${name}: ${code}`)
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/** Replaces MANIFEST-000001 with one record built by fill. */
function writeManifest (dir: string, fill: (edit: VersionEdit) => void): void {
  const edit = new VersionEdit()
  fill(edit)
  const record = edit.encode()
  const posix = new PosixFileSystem()
  const file = posix.openWritable(path.join(dir, 'MANIFEST-000001'))
  new LogWriter(file).addRecord(record, 0, record.length)
  file.close()
}

test('a MANIFEST of 40,000 edits is applied between turns of the event loop, to the state its edits make', async (t) => {
  const dir = tempDir()
  await open(dir).create()
  // Every edit adds a table at level 1-3 and deletes the one the edit before it added: one table left.
  const posix = new PosixFileSystem()
  const file = posix.openWritable(path.join(dir, 'MANIFEST-000001'))
  const writer = new LogWriter(file)
  const first = new VersionEdit()
  first.comparator = 'leveldb.BytewiseComparator'
  first.logNumber = 0
  first.nextFileNumber = 2
  first.lastSequence = 0
  const records = [first.encode()]
  const n = 40000
  const levelOf = (i: number): number => 1 + (i % 3)
  for (let i = 0; i < n; i++) {
    const edit = new VersionEdit()
    edit.addFile(levelOf(i), { number: 100 + i, fileSize: 1000 + i, smallest: internalKey(`a${i}`, i + 1, 1), largest: internalKey(`z${i}`, i + 1, 1) })
    if (i > 0) edit.deleteFile(levelOf(i - 1), 100 + i - 1)
    edit.nextFileNumber = 100 + i + 1
    edit.lastSequence = i + 1
    records.push(edit.encode())
  }
  for (const r of records) writer.addRecord(r, 0, r.length)
  file.close()

  // The longest stretch without a turn, as a chain of setImmediate sees it.
  let recovering = true
  let last = performance.now()
  let longest = 0
  const tick = (): void => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
    if (recovering) setImmediate(tick)
  }
  setImmediate(tick)
  const vs = open(dir)
  const start = performance.now()
  const state = await vs.recover()
  const end = performance.now()
  const ms = end - start
  longest = Math.max(longest, end - last) // the stretch that ended the call
  recovering = false
  t.is(state.edits, n + 1, `${n + 1} edits read`)
  t.same(vs.current.files.map((level) => level.map((f) => f.number)), [[], [], [], []].map((_, l) => l === levelOf(n - 1) ? [100 + n - 1] : []).concat([[], [], []]),
    'one table left, at the level the last edit put it')
  t.is(vs.lastSequence, n, 'the last edit\'s sequence')
  // Unsliced, the apply is one wait of most of the call; sliced, a wait is a slice or a collection.
  t.ok(longest < ms / 4, `the event loop turned while the edits were applied: its longest wait ${longest.toFixed(1)} ms of ${ms.toFixed(0)} ms`)
  vs.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
