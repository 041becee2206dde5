// engine/db/read-only: a read-only open reads the MANIFEST's tables plus the live logs replayed into memory,
// changes no file, and starts again from CURRENT when the writer deletes a file it needed (a FileSystem seam
// puts the directory in the writer's later state at the chosen moment); a file missing with no writer to
// explain it is an error, and a writer that never lets it finish makes it fail after MAX_ATTEMPTS.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { MAX_ATTEMPTS } from '../../engine/db/read-only'
import type { RandomAccessFile } from '../../engine/fs/file-system'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { mirrorDir, snapshotDir } from '../fixtures/dir-snapshot'

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-read-only-'))
}

function copyDir (src: string): string {
  const dst = tempDir()
  fs.cpSync(src, dst, { recursive: true })
  return dst
}

/** Every live entry as of now, in key order, through an iterator. */
function entries (db: Db): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const it = db.iterator()
  for (it.seekToFirst(); it.valid(); it.next()) {
    out.push([Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)).toString(), Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen)).toString()])
  }
  it.close()
  return out
}

function value (db: Db, key: string): string | undefined {
  return db.get(key, db.lastSequence) ? Buffer.from(db.valueBuf.subarray(db.valueOff, db.valueOff + db.valueLen)).toString() : undefined
}

const isTable = (file: string): boolean => /\.(ldb|sst)$/.test(file)

/** A PosixFileSystem that counts table opens (by .ldb name) and runs `beforeTableOpen` before each. */
class TableOpenSeam extends PosixFileSystem {
  readonly opens = new Map<string, number>()
  beforeTableOpen: ((file: string) => void) | undefined

  get tableOpens (): number {
    return [...this.opens.values()].reduce((a, b) => a + b, 0)
  }

  override openRandomAccess (file: string): RandomAccessFile {
    // The table cache tries the .sst name after a failed .ldb: one open of a table.
    if (file.endsWith('.ldb')) {
      this.opens.set(path.basename(file), (this.opens.get(path.basename(file)) ?? 0) + 1)
      this.beforeTableOpen?.(file)
    }
    return super.openRandomAccess(file)
  }
}

/** Writes rounds of `keys` keys (value `${round}-${key}`), flushing after each round: overlapping level-0 tables. */
async function writeRounds (db: Db, from: number, rounds: number, keys: number): Promise<void> {
  for (let round = from; round < from + rounds; round++) {
    await db.write((b) => { for (let k = 0; k < keys; k++) b.put(`key${String(k).padStart(4, '0')}`, `${round}-${k}`) })
    await db.flush()
  }
}

for (const how of ['appends to its MANIFEST', 'reopens (a new MANIFEST named by CURRENT)']) {
  test(`a writer that ${how} and deletes the table being opened: the read-only open starts again and reads its new state`, async (t) => {
    const dir = tempDir()
    let writer = await Db.open(dir, { flushInline: true })
    await writeRounds(writer, 0, 3, 200)
    await writer.put('tail', 'in the log')
    const before = copyDir(dir)
    if (how.startsWith('reopens')) {
      await writer.close()
      writer = await Db.open(dir, { flushInline: true })
    }
    await writeRounds(writer, 3, 1, 200)
    await writer.compactRange()
    await writer.put('tail', 'in the new log')
    const after = copyDir(dir)
    await writer.close()
    const removed = fs.readdirSync(before).filter((f) => isTable(f) && !fs.existsSync(path.join(after, f)))
    t.ok(removed.length > 0, `the writer's compaction deleted tables of the earlier state (${removed.join(', ')})`)
    t.is(fs.readFileSync(path.join(before, 'CURRENT'), 'latin1') !== fs.readFileSync(path.join(after, 'CURRENT'), 'latin1'), how.startsWith('reopens'), 'CURRENT changed only where the writer reopened')

    const readerDir = copyDir(before)
    const seam = new TableOpenSeam()
    let moved = false
    let mirrored = {}
    seam.beforeTableOpen = (file) => {
      if (moved || !removed.includes(path.basename(file))) return
      moved = true
      mirrorDir(after, readerDir)
      mirrored = snapshotDir(readerDir)
    }
    const reader = await Db.open(readerDir, { readOnly: true, fs: seam })
    t.ok(moved, 'the writer moved on while the open was opening a table it deleted')
    t.is(reader.openRetries, 1, 'the open started again once')
    t.is(reader.getProperty('rough-level.open-retries'), '1', 'and says so in rough-level.open-retries')
    const got = entries(reader)
    t.is(got.length, 201, 'every key')
    t.ok(got.every(([k, v]) => k === 'tail' ? v === 'in the new log' : v.startsWith('3-')), "the writer's later state: the last round and the new log's write")
    await reader.close()
    const expected = await Db.open(copyDir(after))
    t.same(got, entries(expected), 'equal to a normal open of that state')
    await expected.close()
    t.same(snapshotDir(readerDir), mirrored, 'the reader changed no file')
    for (const d of [dir, before, after, readerDir]) fs.rmSync(d, { recursive: true, force: true })
  })
}

test('a table missing while CURRENT and the MANIFEST stay as read is LEVEL_CORRUPTION naming it, without a retry', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRounds(writer, 0, 2, 50)
  await writer.close()
  const table = fs.readdirSync(dir).filter(isTable)[0]
  fs.unlinkSync(path.join(dir, table))
  const snapshot = snapshotDir(dir)
  const seam = new TableOpenSeam()
  const err = await Db.open(dir, { readOnly: true, fs: seam }).then(() => undefined, (e: Error & { code?: string }) => e)
  t.is(err?.code, 'LEVEL_CORRUPTION', 'LEVEL_CORRUPTION')
  t.ok(err?.message.includes(table.replace(/\.ldb$/, '')), `the message names the table (${err?.message})`)
  t.is(seam.opens.get(table), 1, 'the missing table was looked for once')
  t.ok([...seam.opens.values()].every((n) => n === 1), 'no table was opened twice: one attempt')
  t.same(snapshotDir(dir), snapshot, 'no file changed')
  fs.rmSync(dir, { recursive: true, force: true })
})

test(`a writer that moves on at every attempt: LEVEL_IO_ERROR after ${MAX_ATTEMPTS} attempts, naming what kept vanishing`, async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRounds(writer, 0, 1, 50)
  await writer.close()
  const manifest = path.join(dir, fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1').trim())
  const table = fs.readdirSync(dir).filter(isTable)[0]
  const seam = new TableOpenSeam()
  // Each attempt finds the MANIFEST longer (a zero byte: a torn tail to the next reader) and the table gone.
  seam.beforeTableOpen = () => {
    fs.appendFileSync(manifest, Buffer.alloc(1))
    const err = Object.assign(new Error(`ENOENT: no such file or directory, open '${path.join(dir, table)}'`), { code: 'ENOENT' })
    throw err
  }
  const err = await Db.open(dir, { readOnly: true, fs: seam }).then(() => undefined, (e: Error & { code?: string }) => e)
  t.is(err?.code, 'LEVEL_IO_ERROR', 'LEVEL_IO_ERROR')
  t.is(seam.tableOpens, MAX_ATTEMPTS, `${MAX_ATTEMPTS} attempts`)
  t.ok(err?.message.includes(`${MAX_ATTEMPTS} attempts`) && err.message.includes(table.replace(/\.ldb$/, '')), `the message names the table (${err?.message})`)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('the live logs replay into memtables kept in memory (several for a log past writeBufferSize), up to a torn tail; no file changes', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { writeBufferSize: 4 * 1024 * 1024 })
  const batches = 400
  for (let i = 0; i < batches; i++) {
    await writer.write((b) => {
      for (let k = 0; k < 4; k++) b.put(`b${String(i).padStart(4, '0')}-${k}`, `${i}`.padEnd(400, '.'))
    })
  }
  await writer.close()
  t.same(fs.readdirSync(dir).filter(isTable), [], 'everything is still in the log')
  const log = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]

  for (const cut of [0, 1000, 333333]) {
    if (cut > 0) fs.truncateSync(log, fs.statSync(log).size - cut) // a writer mid-append: a torn tail
    const snapshot = snapshotDir(dir)
    const reader = await Db.open(dir, { readOnly: true, writeBufferSize: 64 * 1024 })
    const got = entries(reader)
    const complete = got.length / 4
    t.ok(Number.isInteger(complete), `whole batches only (${got.length} entries)`)
    t.same(got.map(([k]) => k), Array.from({ length: complete }, (_, i) => [0, 1, 2, 3].map((k) => `b${String(i).padStart(4, '0')}-${k}`)).flat(), 'a prefix of the batches, in order')
    if (cut === 0) t.is(complete, batches, 'every batch')
    else t.ok(complete > 0 && complete < batches, `the batches before the torn tail (${complete} of ${batches})`)
    t.ok(got.every(([k, v]) => v.startsWith(k.slice(1, 5).replace(/^0+(?=.)/, ''))), 'each value is its batch\'s')
    t.ok(reader.memoryUsage > 3 * 64 * 1024, `several memtables hold them (${reader.memoryUsage} bytes)`)
    t.is(value(reader, 'b0000-0')?.slice(0, 1), '0', 'a point read finds the oldest memtable\'s entries')
    t.is(reader.numFilesAtLevel(0), 0, 'no table was written')
    await reader.close()
    t.same(snapshotDir(dir), snapshot, 'no file changed')
  }
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a read-only Db refuses every write with LEVEL_READONLY and reads as of its open', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRounds(writer, 0, 1, 10)
  await writer.put('late', 'x')
  const reader = await Db.open(dir, { readOnly: true })
  await writer.put('later', 'y')
  t.is(value(reader, 'late'), 'x', 'a write before the open is seen')
  t.is(value(reader, 'later'), undefined, 'a write after it is not')
  const refused = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    const err = await (async () => await call())().then(() => undefined, (e: Error & { code?: string }) => e)
    t.is(err?.code, 'LEVEL_READONLY', `${what}: LEVEL_READONLY`)
  }
  await refused('put', () => reader.put('a', 'b'))
  await refused('del', () => reader.del('a'))
  await refused('write', () => reader.write((b) => b.put('a', 'b')))
  await refused('flush', () => reader.flush())
  await refused('compactRange', () => reader.compactRange())
  t.is(reader.lastSequence, 11, 'nothing was applied')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a read-only open of a missing directory, or of one without CURRENT, fails and creates nothing', async (t) => {
  const parent = tempDir()
  const missing = path.join(parent, 'nothing-here')
  const err = await Db.open(missing, { readOnly: true, createIfMissing: true }).then(() => undefined, (e: Error & { code?: string }) => e)
  t.is(err?.code, 'LEVEL_INVALID_ARGUMENT', 'LEVEL_INVALID_ARGUMENT despite createIfMissing')
  t.notOk(fs.existsSync(missing), 'no directory created')
  const empty = path.join(parent, 'empty')
  fs.mkdirSync(empty)
  const err2 = await Db.open(empty, { readOnly: true }).then(() => undefined, (e: Error & { code?: string }) => e)
  t.is(err2?.code, 'LEVEL_INVALID_ARGUMENT', 'LEVEL_INVALID_ARGUMENT for a directory without CURRENT')
  t.same(fs.readdirSync(empty), [], 'nothing created in it (not even LOCK)')
  fs.rmSync(parent, { recursive: true, force: true })
})

test('after the open: tables the writer compacts away stay readable, since the open opened them and holds their descriptors', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRounds(writer, 0, 3, 100)
  const reader = await Db.open(dir, { readOnly: true })
  const tablesBefore = fs.readdirSync(dir).filter(isTable)
  // Nothing is read before the compaction: the open alone must have opened the tables.
  const expected = Array.from({ length: 100 }, (_, k) => [`key${String(k).padStart(4, '0')}`, `2-${k}`])
  await writeRounds(writer, 3, 1, 100)
  await writer.compactRange()
  const gone = tablesBefore.filter((f) => !fs.existsSync(path.join(dir, f)))
  t.same(gone, tablesBefore, `the writer deleted every table the reader opened (${gone.length})`)
  t.same(entries(reader), expected, 'the reader still reads its state as of its open: every entry of the last round before it')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
