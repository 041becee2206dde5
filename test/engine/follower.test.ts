// engine/db/read-only (the follower): Db.refresh catches a read-only database up with a writer (here in this
// process, one step at a time): log appends, flushes, compactions and a writer that reopens (a new MANIFEST);
// after each step the reader holds exactly the writer's entries. Iterators and snapshots made before a
// refresh keep reading their view after the writer compacted their tables away; a torn log tail is read
// once it is whole.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { Follower } from '../../engine/db/read-only'
import { sanitizeOptions } from '../../engine/options'
import type { RandomAccessFile } from '../../engine/fs/file-system'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { snapshotDir } from '../fixtures/dir-snapshot'

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-follower-'))
}

const text = (buf: Uint8Array, off: number, len: number): string => Buffer.from(buf.subarray(off, off + len)).toString()

/** Every live entry as of `sequence` (default: now), in key order. */
function entries (db: Db, sequence = db.lastSequence): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const it = db.iterator(sequence)
  for (it.seekToFirst(); it.valid(); it.next()) out.push([text(it.keyBuf, it.keyOff, it.keyLen), text(it.valueBuf, it.valueOff, it.valueLen)])
  it.close()
  return out
}

function value (db: Db, key: string, sequence = db.lastSequence): string | undefined {
  return db.get(key, sequence) ? text(db.valueBuf, db.valueOff, db.valueLen) : undefined
}

const key = (k: number): string => `key${String(k).padStart(4, '0')}`

async function writeRound (db: Db, round: number, keys: number): Promise<void> {
  await db.write((b) => { for (let k = 0; k < keys; k++) b.put(key(k), `${round}-${k}`) })
}

test('refresh follows log appends, flushes, compactions and a reopened writer (a new MANIFEST): the reader equals the writer after each', async (t) => {
  const dir = tempDir()
  let writer = await Db.open(dir, { flushInline: true })
  await writeRound(writer, 0, 50)
  const reader = await Db.open(dir, { readOnly: true })
  t.same(entries(reader), entries(writer), 'at the open')
  const steps: Array<[string, () => Promise<void>]> = [
    ['log appends', async () => { await writeRound(writer, 1, 80); await writer.del(key(3)) }],
    ['a flush', async () => { await writer.flush() }],
    ['appends after the flush', async () => { await writeRound(writer, 2, 30) }],
    ['a flush and a compaction', async () => { await writeRound(writer, 3, 200); await writer.compactRange() }],
    ['a reopen (new MANIFEST, new log)', async () => { await writer.close(); writer = await Db.open(dir, { flushInline: true }); await writeRound(writer, 4, 10) }],
    ['a large batch crossing log blocks', async () => { await writer.write((b) => { for (let k = 0; k < 20; k++) b.put(`big${k}`, String(k).repeat(9000)) }) }]
  ]
  for (const [what, step] of steps) {
    await step()
    const before = reader.lastSequence
    t.is(await reader.refresh(), true, `${what}: refresh sees something new`)
    t.same(entries(reader), entries(writer), `${what}: the reader holds exactly the writer's entries`)
    t.is(reader.lastSequence, writer.lastSequence, `${what}: and publishes the writer's last sequence (${before} -> ${reader.lastSequence})`)
  }
  const files = snapshotDir(dir)
  t.is(await reader.refresh(), false, 'nothing new: refresh says so')
  t.same(snapshotDir(dir), files, 'and the reader changed no file')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('an iterator and a snapshot made before refreshes keep their view after the writer overwrote their keys and compacted their tables away', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRound(writer, 0, 300)
  await writer.flush()
  await writeRound(writer, 1, 300)
  await writer.flush()
  const reader = await Db.open(dir, { readOnly: true })
  const expected = entries(reader)
  const it = reader.iterator()
  const snapshot = reader.snapshot()
  const tables = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))
  for (let round = 2; round < 5; round++) {
    await writeRound(writer, round, 300)
    await writer.compactRange()
    t.is(await reader.refresh(), true, `round ${round}: the reader catches up`)
  }
  t.ok(tables.every((f) => !fs.existsSync(path.join(dir, f))), `the writer deleted every table of the first view (${tables.length})`)
  t.is(value(reader, key(7)), '4-7', 'a read now sees the last round')
  t.is(value(reader, key(7), snapshot.sequence), '1-7', 'a read at the snapshot sees its view, though the writer compacted away the entries it reads')
  t.same(entries(reader, snapshot.sequence), expected, 'an iterator made at the snapshot now reads the whole first view')
  const got: Array<[string, string]> = []
  for (it.seekToFirst(); it.valid(); it.next()) got.push([text(it.keyBuf, it.keyOff, it.keyLen), text(it.valueBuf, it.valueOff, it.valueLen)])
  t.same(got, expected, 'the iterator made before the refreshes reads its view, from tables deleted since')
  it.close()
  snapshot.release()
  await writeRound(writer, 5, 10)
  t.is(await reader.refresh(), true, 'a refresh after they were released')
  t.same(entries(reader), entries(writer), 'reads the writer\'s state')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a torn log tail (a record the writer is still appending) is left out, then read whole once complete', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRound(writer, 0, 10)
  // 60 KB: a record fragmented across three 32 KiB blocks.
  await writer.put('big', 'x'.repeat(60000))
  await writer.put('after', 'big')
  await writer.close()
  const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log'))
  t.is(logs.length, 1, 'one log holds the writes')
  const log = logs[0]
  const full = fs.readFileSync(path.join(dir, log))
  // Cut inside the second block of the big record: the writer mid-append.
  const cut = 40000
  fs.writeFileSync(path.join(dir, log), full.subarray(0, cut))
  const reader = await Db.open(dir, { readOnly: true })
  t.is(value(reader, 'big'), undefined, 'the cut record is not seen')
  t.is(value(reader, key(3)), '0-3', 'the records before it are')
  const seq = reader.lastSequence
  t.is(await reader.refresh(), false, 'nothing new while the tail stays torn')
  fs.appendFileSync(path.join(dir, log), full.subarray(cut, cut + 20000))
  t.is(await reader.refresh(), false, 'still torn after more of it arrives')
  fs.appendFileSync(path.join(dir, log), full.subarray(cut + 20000))
  t.is(await reader.refresh(), true, 'whole: refresh sees it')
  t.is(value(reader, 'big'), 'x'.repeat(60000), 'the record, whole')
  t.is(value(reader, 'after'), 'big', 'and the one after it')
  t.is(reader.lastSequence, seq + 2, 'two more batches published')
  await reader.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('refresh: LEVEL_NOT_SUPPORTED on a writable database; refreshInterval catches up by itself', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  const refused = await writer.refresh().then(() => undefined, (err: { code?: string }) => err.code)
  t.is(refused, 'LEVEL_NOT_SUPPORTED', 'a writable database refuses refresh with LEVEL_NOT_SUPPORTED')
  const reader = await Db.open(dir, { readOnly: true, refreshInterval: 5 })
  await writer.put('late', 'yes')
  const start = Date.now()
  while (value(reader, 'late') === undefined && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 5))
  t.is(value(reader, 'late'), 'yes', `the timer refreshed (${Date.now() - start} ms)`)
  await reader.close()
  await writer.close()
  const bad = await Db.open(dir, { refreshInterval: 5 }).then(async (db) => { await db.close(); return undefined }, (err: { code?: string }) => err.code)
  t.is(bad, 'LEVEL_INVALID_ARGUMENT', 'refreshInterval without readOnly is refused')
  fs.rmSync(dir, { recursive: true, force: true })
})

test('more tables than the table cache keeps idle, with descriptors to spare: an iterator still reads every table of its view after they are all deleted', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  // Disjoint ranges, one flush each: one table each, pushed below level 0, no compaction.
  for (let r = 0; r < 100; r++) {
    await writer.write((b) => { for (let k = 0; k < 20; k++) b.put(`t${String(r).padStart(3, '0')}/${k}`, `${r}`) })
    await writer.flush()
  }
  const tables = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))
  // maxOpenFiles 200: a budget above the 100 tables, so that none is closed (test/engine/read-only-descriptors.test.ts
  // has the budget below them); the table cache keeps 190 tables open when idle, and the view pins all 100.
  const reader = await Db.open(dir, { readOnly: true, maxOpenFiles: 200 })
  const expected = entries(reader)
  const it = reader.iterator()
  // As a writer's compaction deletes them (LevelDB's CompactRange never moves the deepest level's tables).
  for (const f of tables) fs.unlinkSync(path.join(dir, f))
  t.ok(tables.length > 64, `${tables.length} tables deleted`)
  const got: Array<[string, string]> = []
  for (it.seekToFirst(); it.valid(); it.next()) got.push([text(it.keyBuf, it.keyOff, it.keyLen), text(it.valueBuf, it.valueOff, it.valueLen)])
  it.close()
  t.is(got.length, 2000, 'the iterator reads every entry')
  t.same(got, expected, 'of its view')
  t.same(entries(reader), expected, 'and so does a new iterator (the view is still current)')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** The real file system, counting what a reader opens and reads, and its files still open. */
class ReadCounter extends PosixFileSystem {
  bytesRead = 0
  readonly opened: string[] = []
  readonly files: string[] = []
  open = 0

  override openRandomAccess (p: string): RandomAccessFile {
    const inner = super.openRandomAccess(p)
    this.opened.push(path.basename(p))
    this.open++
    let closed = false
    return {
      path: p,
      read: (buf, offset, length, position) => {
        const n = inner.read(buf, offset, length, position)
        this.bytesRead += n
        return n
      },
      size: () => inner.size(),
      close: () => {
        if (!closed) this.open--
        closed = true
        inner.close()
      }
    }
  }

  override readFile (p: string): Uint8Array {
    this.files.push(path.basename(p))
    return super.readFile(p)
  }
}

test('a refresh with nothing new reads CURRENT and the sizes of the MANIFEST and the live log, and no byte of any; the reader closes every file it opened', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRound(writer, 0, 300)
  await writer.flush()
  await writeRound(writer, 1, 30)
  const seam = new ReadCounter()
  const reader = await Db.open(dir, { readOnly: true, fs: seam })
  await writeRound(writer, 2, 30)
  await writer.flush()
  await writeRound(writer, 3, 30)
  seam.bytesRead = 0
  t.is(await reader.refresh(), true, 'a refresh after writes and a flush')
  t.ok(seam.bytesRead > 0, `reads what changed (${seam.bytesRead} bytes)`)
  seam.bytesRead = 0
  seam.opened.length = 0
  seam.files.length = 0
  t.is(await reader.refresh(), false, 'a refresh with nothing new')
  t.is(seam.bytesRead, 0, 'reads no byte by position')
  t.same(seam.files, ['CURRENT'], 'reads CURRENT whole, nothing else')
  t.same(seam.opened.filter((f) => !/^(MANIFEST-\d+|\d+\.log)$/.test(f)), [], `opens only the MANIFEST and the live log, for their sizes (${seam.opened.join(', ')})`)
  t.same(entries(reader), entries(writer), 'and still reads the writer\'s state')
  await reader.close()
  t.is(seam.open, 0, 'after close no file the reader opened is left open')
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a follower\'s checkpoint after the writer compacted away its view\'s tables: it catches up and starts again, and the copy holds the writer\'s state', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRound(writer, 0, 300)
  await writer.flush()
  const reader = await Db.open(dir, { readOnly: true })
  const tables = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))
  await writeRound(writer, 1, 300)
  await writer.compactRange()
  t.ok(tables.every((f) => !fs.existsSync(path.join(dir, f))), 'the writer deleted the tables of the reader\'s view')
  const dest = path.join(tempDir(), 'copy')
  const report = await reader.checkpoint(dest)
  t.ok(report.linked > 0, `the checkpoint linked the writer's current tables (${report.linked})`)
  t.is(reader.lastSequence, writer.lastSequence, 'the reader caught up first')
  const copy = await Db.open(dest, { readOnly: true })
  t.same(entries(copy), entries(writer), 'the copy holds the writer\'s state')
  await copy.close()
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(path.dirname(dest), { recursive: true, force: true })
})

test('a catch-up inserts nothing until a read needs its view: then a get, an iterator, a snapshot\'s read and a checkpoint each read exactly the writer\'s state', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRound(writer, 0, 100)
  const reader = await Db.open(dir, { readOnly: true })
  const opened = reader.memoryUsage
  // 100 entries of ~10 bytes each round: inserted, a memtable holds at least 2 KB of them.
  const reads: Array<[string, () => Promise<void>]> = [
    ['a get', async () => { t.is(value(reader, key(7)), value(writer, key(7)), 'a get reads the writer\'s value') }],
    ['an iterator', async () => { t.same(entries(reader), entries(writer), 'an iterator reads the writer\'s entries') }],
    ['a snapshot', async () => {
      const snapshot = reader.snapshot()
      const expected = entries(writer)
      await writeRound(writer, 99, 100)
      t.ok(await reader.refresh(), 'a refresh after the snapshot')
      t.same(entries(reader, snapshot.sequence), expected, 'the snapshot reads its state after a later catch-up')
      snapshot.release()
      t.same(entries(reader), entries(writer), 'and the reader the writer\'s')
    }],
    ['a checkpoint', async () => {
      const dest = path.join(tempDir(), 'copy')
      await reader.checkpoint(dest)
      const copy = await Db.open(dest, { readOnly: true })
      t.same(entries(copy), entries(writer), 'a checkpoint holds the writer\'s entries')
      await copy.close()
      fs.rmSync(path.dirname(dest), { recursive: true, force: true })
    }]
  ]
  let round = 1
  for (const [what, read] of reads) {
    const before = reader.memoryUsage
    for (let i = 0; i < 3; i++, round++) {
      await writeRound(writer, round, 100)
      t.ok(await reader.refresh(), `${what}: catch-up ${i + 1} sees the writer's batch`)
    }
    t.ok(reader.memoryUsage - before < 1024, `${what}: three catch-ups inserted nothing (${before - opened} -> ${reader.memoryUsage - opened} bytes beyond the open's)`)
    await read()
    t.ok(reader.memoryUsage - before > 3 * 2048, `${what}: the read inserted what they read (${reader.memoryUsage - before} bytes)`)
  }
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('the batches of a log the writer flushed before any read needed them are never inserted; the reader reads them from the table', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRound(writer, 0, 100)
  const reader = await Db.open(dir, { readOnly: true })
  const follower = await Follower.open(dir, sanitizeOptions({ readOnly: true }))
  await writeRound(writer, 1, 100)
  t.ok(await follower.refresh(), 'a catch-up reads the writer\'s new batch')
  const queued = follower.current.memtables
  t.same(queued.map((m) => m.entries), [100], 'its memtable holds the open\'s batch only (inserted by the open)')
  await writer.flush()
  await writeRound(writer, 2, 10)
  t.ok(await follower.refresh(), 'a catch-up after the writer flushed that log')
  t.ok(follower.current.memtables.every((m) => !queued.includes(m)), 'the flushed log\'s memtable is dropped')
  follower.pin(follower.current)()
  t.same(queued.map((m) => m.entries), [100], 'a read of the new view inserts none of the flushed log\'s batches')
  t.ok(follower.current.memtables.some((m) => m.entries === 10), 'only the new log\'s')
  follower.close()
  follower.tableCache.close()
  t.ok(await reader.refresh(), 'a reader that did the same')
  t.same(entries(reader), entries(writer), 'reads the writer\'s entries, the flushed ones from the table')
  await reader.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('batches queued over many catch-ups while the log outgrows the bytes a follower keeps for it read back exactly, read at the end or as they come', async (t) => {
  const dir = tempDir()
  const writer = await Db.open(dir, { flushInline: true })
  await writeRound(writer, 0, 10)
  const lazy = await Db.open(dir, { readOnly: true })
  const eager = await Db.open(dir, { readOnly: true })
  // 1 KB values: the log passes 64 KiB, 128 KiB and 256 KiB, each a larger buffer for its bytes.
  let wrong = 0
  for (let i = 0; i < 300; i++) {
    const big = `big${String(i).padStart(3, '0')}`
    await writer.write((b) => { b.put(big, String(i % 10).repeat(1000)); b.put(key(i % 10), `overwritten ${i}`) })
    await lazy.refresh()
    await eager.refresh()
    if (value(eager, big) !== String(i % 10).repeat(1000) || value(eager, key(i % 10)) !== `overwritten ${i}`) wrong++
  }
  t.is(wrong, 0, 'a reader reading after each catch-up reads each batch')
  const logBytes = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
  t.ok(logBytes > 256 * 1024, `the log grew to ${logBytes} bytes`)
  t.same(entries(lazy), entries(writer), 'a reader that read nothing since the open reads every batch at the end')
  t.same(entries(eager), entries(writer), 'and so does the one that read as they came')
  await lazy.close()
  await eager.close()
  await writer.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
