// engine/db/replay: a log replayed into level-0 tables, for recovery (damage throws) and repair (damage
// reported and skipped). Logs are framed by the independent log model (helpers/log-model.ts) from batches
// encoded here (helpers/bytes.ts); the tables written are read back and compared with the entries the
// batches hold.
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')
import { BackgroundWorker } from '../../engine/background/background'
import { Db } from '../../engine/db/db'
import { type Level0Output, replayLog, type ReplayReporter } from '../../engine/db/replay'
import { InfoLog } from '../../engine/info-log'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { ValueType } from '../../engine/internal-key'
import { sanitizeOptions } from '../../engine/options'
import { Table } from '../../engine/table/table'
import { tableFileName } from '../../engine/filename'
import type { FileMetaData } from '../../engine/version/version-edit'
import { fixed32, fixed64, hex, lp } from './helpers/bytes'
import { BLOCK, frameLog, HEADER } from './helpers/log-model'
import { ikey, removeDir, tempDir } from './helpers/table-files'

type Op = [string, string | undefined] // a put, or a delete when the value is undefined

/** A WriteBatch's bytes as LevelDB encodes them (reference §6); `count` overrides the header's count. */
function batch (sequence: number, ops: readonly Op[], count = ops.length): Buffer {
  const parts = [fixed64(sequence), fixed32(count)]
  for (const [k, v] of ops) parts.push(...(v === undefined ? [Buffer.of(0), lp(k)] : [Buffer.of(1), lp(k), lp(v)]))
  return Buffer.concat(parts)
}

/** The entries the batches put in a memtable: [internal key, value] as hex, in internal-key order. */
function entriesOf (batches: ReadonlyArray<[number, readonly Op[]]>): string[][] {
  const out: Array<{ key: string, seq: number, entry: string[] }> = []
  for (const [sequence, ops] of batches) {
    ops.forEach(([k, v], i) => out.push({ key: k, seq: sequence + i, entry: [hex(ikey(k, sequence + i, v === undefined ? ValueType.Deletion : ValueType.Value)), v === undefined ? '' : hex(Buffer.from(v))] }))
  }
  return out.sort((a, b) => a.key === b.key ? b.seq - a.seq : a.key < b.key ? -1 : 1).map((e) => e.entry)
}

/** Every entry of the tables, read back; and a check that each table's entries are in order within its recorded range. */
function tableEntries (dir: string, tables: readonly FileMetaData[]): { entries: string[][], problems: string[] } {
  const entries: string[][] = []
  const problems: string[] = []
  for (const meta of tables) {
    const name = tableFileName(dir, meta.number)
    const table = Table.open(new PosixFileSystem().openRandomAccess(name), fs.statSync(name).size, name)
    const it = table.iterator()
    const own: string[][] = []
    for (it.seekToFirst(); it.valid(); it.next()) {
      own.push([hex(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)), hex(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))])
    }
    it.close()
    table.close()
    if (meta.fileSize !== fs.statSync(name).size) problems.push(`${name}: size ${meta.fileSize} recorded`)
    if (own.length === 0 || own[0][0] !== hex(meta.smallest) || own[own.length - 1][0] !== hex(meta.largest)) problems.push(`${name}: range`)
    entries.push(...own)
  }
  return { entries, problems }
}

function sortEntries (entries: string[][], reference: string[][]): string[][] {
  const order = new Map(reference.map((e, i) => [e[0], i]))
  return [...entries].sort((a, b) => (order.get(a[0]) ?? -1) - (order.get(b[0]) ?? -1))
}

interface Harness {
  dir: string
  out: Level0Output
  added: FileMetaData[]
  close: () => Promise<void>
}

function harness (label: string, options: { flushInline?: boolean, writeBufferSize?: number, compression?: boolean } = {}): Harness {
  const dir = tempDir(label)
  const worker = new BackgroundWorker()
  const added: FileMetaData[] = []
  let next = 10
  const out: Level0Output = {
    dir,
    options: sanitizeOptions({ flushInline: true, writeBufferSize: 64 * 1024, ...options }),
    worker,
    newFileNumber: () => next++,
    added: (table) => { added.push(table) },
    info: InfoLog.disabled
  }
  return { dir, out, added, close: async () => { await worker.close(); removeDir(dir) } }
}

/** 300 batches of 10 puts and deletes over 500 keys: about 450 KiB, several 64 KiB memtables. */
function manyBatches (): Array<[number, Op[]]> {
  const batches: Array<[number, Op[]]> = []
  let sequence = 1
  for (let b = 0; b < 300; b++) {
    const ops: Op[] = []
    for (let i = 0; i < 10; i++) {
      const k = `key${String((b * 37 + i * 11) % 500).padStart(4, '0')}`
      ops.push([k, (b + i) % 9 === 0 ? undefined : `${k}:${b}:`.padEnd(120, 'v')])
    }
    batches.push([sequence, ops])
    sequence += ops.length
  }
  return batches
}

for (const flushInline of [true, false]) {
  test(`replayLog writes every batch to level-0 tables of about writeBufferSize (${flushInline ? 'on this thread' : 'on the flush worker'})`, async (t) => {
    const h = harness('replay-tables', { flushInline })
    const batches = manyBatches()
    const log = frameLog(batches.map(([s, ops]) => batch(s, ops))).bytes
    const result = await replayLog(log, path.join(h.dir, '000003.log'), h.out)
    const expected = entriesOf(batches)
    t.same([result.batches, result.entries, result.maxSequence, result.tornAt], [300, 3000, 3000, -1], 'batches, entries, the largest sequence, no torn tail')
    t.ok(h.added.length >= 4, `${h.added.length} tables`)
    t.same(h.added.map((f) => f.number), h.added.map((_, i) => 10 + i), 'numbered from newFileNumber, in order')
    const read = tableEntries(h.dir, h.added)
    t.same(read.problems, [], 'each table holds its entries in order, within its recorded range and size')
    t.is(read.entries.length, expected.length, 'as many entries as the batches hold')
    t.same(sortEntries(read.entries, expected), expected, 'every entry, as the internal key and value the batches give')
    await h.close()
  })
}

test('replayLog without a reporter: damage followed by valid records throws LEVEL_CORRUPTION naming the file and offset, after giving every table written to added()', async (t) => {
  const h = harness('replay-strict')
  const batches = manyBatches()
  const model = frameLog(batches.map(([s, ops]) => batch(s, ops)))
  // A record in the log's last full block: the memtables before it were written already.
  const lastBlock = Math.floor(model.bytes.length / BLOCK) - 1
  const victim = model.records.findIndex((r) => r.fragments.length === 1 && Math.floor(r.offset / BLOCK) === lastBlock)
  const damaged = Buffer.from(model.bytes)
  damaged[model.records[victim].offset + HEADER + 20] ^= 0x10
  const name = path.join(h.dir, '000003.log')
  const err = await replayLog(damaged, name, h.out).then(() => undefined, (e: Error & { code?: string }) => e)
  t.is(err?.code, 'LEVEL_CORRUPTION', `LEVEL_CORRUPTION: ${err?.message}`)
  t.ok(err?.message.includes(`${name} at offset ${model.records[victim].offset}`), 'naming the file and the damaged record\'s offset')
  t.ok(h.added.length >= 1, `the ${h.added.length} tables written before the damage were given to added()`)
  t.ok(h.added.every((f) => fs.existsSync(tableFileName(h.dir, f.number))), 'and are there for the caller to remove')

  const first = batch(1, [['a', '1']])
  const short = frameLog([first, Buffer.from('short'), batch(2, [['b', '2']])]).bytes
  const err2 = await replayLog(short, name, h.out).then(() => undefined, (e: Error & { code?: string }) => e)
  t.ok(err2?.code === 'LEVEL_CORRUPTION' && err2.message.includes(`log record too small in ${name} record at offset ${HEADER + first.length}`), `a record too small for a batch: ${err2?.message}`)
  await h.close()
})

test('replayLog with a reporter: a record that is not a whole batch following the last one is skipped whole; damaged bytes are skipped and reported', async (t) => {
  const h = harness('replay-lenient')
  const good: Array<[number, Op[]]> = [
    [1, [['a', '1'], ['b', '1'], ['c', '1']]],
    [4, [['a', '2'], ['d', undefined]]],
    [20, [['e', '1']]]
  ]
  const records = [
    batch(...good[0]),
    batch(10, [['x', '1'], ['y', '1'], ['z', '1']], 4), // its header says 4 records: none of its 3 may be applied
    batch(...good[1]),
    batch(3, [['w', '1']]), // sequence 3 does not follow 5: a replayed or damaged record
    Buffer.from('short'),
    batch(...good[2])
  ]
  const model = frameLog(records)
  const bad: Array<[number, string]> = []
  const regions: number[][] = []
  const reporter: ReplayReporter = {
    corruption: (offset, end) => { regions.push([offset, end]) },
    badBatch: (offset, _bytes, error) => { bad.push([offset, String(error.code)]) }
  }
  const result = await replayLog(model.bytes, path.join(h.dir, '000004.log'), h.out, reporter)
  t.same(bad, [1, 3, 4].map((i) => [model.records[i].offset, 'LEVEL_CORRUPTION']), 'the three records that are not batches to apply are reported, at their offsets')
  t.same(regions, [], 'no bytes are damaged')
  t.same([result.batches, result.entries, result.maxSequence], [3, 6, 20], 'the other three batches are applied')
  const expected = entriesOf(good)
  t.same(sortEntries(tableEntries(h.dir, h.added).entries, expected), expected, 'the tables hold their entries and nothing of the skipped records')

  // Damage in the middle of a multi-block log: reported, and every batch outside the damaged block's rest is applied.
  const h2 = harness('replay-lenient-damage')
  const batches = manyBatches()
  const big = frameLog(batches.map(([s, ops]) => batch(s, ops)))
  const victim = big.records.findIndex((r) => r.fragments.length === 1 && Math.floor(r.offset / BLOCK) === 2)
  const blockEnd = 3 * BLOCK
  const lost = new Set(big.records.map((r, i) => r.fragments.some((f) => f.offset >= big.records[victim].offset && f.offset < blockEnd) ? i : -1).filter((i) => i >= 0))
  const damaged = Buffer.from(big.bytes)
  damaged[big.records[victim].offset + HEADER + 30] ^= 0x04
  const regions2: number[][] = []
  const bad2: number[] = []
  const result2 = await replayLog(damaged, path.join(h2.dir, '000005.log'), h2.out, {
    corruption: (offset, end) => { regions2.push([offset, end]) },
    badBatch: (offset) => { bad2.push(offset) }
  })
  const kept = batches.filter((_, i) => !lost.has(i))
  t.ok(regions2.length > 0 && regions2[0][0] === big.records[victim].offset, `the damage is reported from ${big.records[victim].offset}`)
  t.same(bad2, [], 'no batch is reported bad')
  t.is(result2.batches, kept.length, `${kept.length} of ${batches.length} batches applied`)
  const expected2 = entriesOf(kept)
  t.same(sortEntries(tableEntries(h2.dir, h2.added).entries, expected2), expected2, 'the tables hold exactly the entries of the batches outside the damaged block\'s rest')
  await h.close()
  await h2.close()
})

test('replayLog gives the event loop turns while it fills a memtable', async (t) => {
  // One large memtable (nothing is written until the end), so that only replay's own turns let a timer run.
  const h = harness('replay-turns', { writeBufferSize: 256 * 1024 * 1024, compression: false })
  const value = 'v'.repeat(100)
  const records: Buffer[] = []
  for (let b = 0; b < 40; b++) {
    const ops: Op[] = []
    for (let i = 0; i < 1000; i++) ops.push([`k${String(b * 1000 + i).padStart(8, '0')}`, value])
    records.push(batch(1 + b * 1000, ops))
  }
  const log = frameLog(records).bytes
  let ticks = 0
  let replayed = false
  const timer = setInterval(() => { if (!replayed) ticks++ }, 1)
  await new Promise((resolve) => setTimeout(resolve, 5))
  ticks = 0
  const start = performance.now()
  const result = await replayLog(log, path.join(h.dir, '000006.log'), {
    ...h.out,
    // The memtable's write, at the end, is not replay: stop counting there.
    newFileNumber: () => { replayed = true; return h.out.newFileNumber() }
  })
  const ms = performance.now() - start
  clearInterval(timer)
  t.is(result.entries, 40000, `${(log.length / 1048576).toFixed(1)} MiB of log replayed in ${ms.toFixed(0)} ms`)
  t.ok(ticks >= 3, `a 1 ms timer ran ${ticks} times during the replay`)
  await h.close()
})

test('replayLog gives the event loop turns within one batch of many entries', async (t) => {
  // One record of 60,000 entries: only turns inside the batch let a timer run before the memtable's write.
  const h = harness('replay-batch-turns', { writeBufferSize: 256 * 1024 * 1024, compression: false })
  const value = 'v'.repeat(100)
  const ops: Op[] = []
  for (let i = 0; i < 60000; i++) ops.push([`k${String(i).padStart(8, '0')}`, value])
  const log = frameLog([batch(1, ops)]).bytes
  let ticks = 0
  let replayed = false
  const timer = setInterval(() => { if (!replayed) ticks++ }, 1)
  await new Promise((resolve) => setTimeout(resolve, 5))
  ticks = 0
  const start = performance.now()
  const result = await replayLog(log, path.join(h.dir, '000006.log'), {
    ...h.out,
    newFileNumber: () => { replayed = true; return h.out.newFileNumber() }
  })
  const ms = performance.now() - start
  clearInterval(timer)
  t.is(result.entries, 60000, `one batch of ${(log.length / 1048576).toFixed(1)} MiB replayed in ${ms.toFixed(0)} ms`)
  t.ok(ticks >= 3, `a 1 ms timer ran ${ticks} times during the replay`)
  await h.close()
})

/** Records which files were read whole, and how: readFile on this thread, or readFileAsync on the thread pool. */
class ReadRecorder extends PosixFileSystem {
  readonly reads: string[] = []
  override readFile (p: string): Uint8Array {
    this.reads.push(`sync ${path.basename(p)}`)
    return super.readFile(p)
  }

  override readFileAsync (p: string): Promise<Uint8Array> {
    this.reads.push(`async ${path.basename(p)}`)
    return super.readFileAsync(p)
  }
}

test('an open reads the logs it replays on the thread pool, and replays every write', async (t) => {
  const dir = tempDir('replay-async-read')
  const db = await Db.open(dir, { writeBufferSize: 64 * 1024 * 1024 })
  for (let i = 0; i < 3000; i++) await db.put(Buffer.from(`k${String(i).padStart(5, '0')}`), Buffer.from(`v${i}`))
  await db.close() // the memtable stays in the log, as LevelDB's close leaves it
  const fsys = new ReadRecorder()
  const again = await Db.open(dir, { fs: fsys, writeBufferSize: 64 * 1024 * 1024 })
  const logReads = fsys.reads.filter((r) => r.endsWith('.log'))
  t.ok(logReads.length > 0 && logReads.every((r) => r.startsWith('async ')), `the log read on the thread pool (${logReads.join(', ')})`)
  let wrong = 0
  for (let i = 0; i < 3000; i += 7) {
    const found = again.get(Buffer.from(`k${String(i).padStart(5, '0')}`), again.lastSequence)
    if (!found || Buffer.from(again.valueBuf.subarray(again.valueOff, again.valueOff + again.valueLen)).toString() !== `v${i}`) wrong++
  }
  t.is(wrong, 0, 'every write of the log is there after the open')
  await again.close()
  removeDir(dir)
})
