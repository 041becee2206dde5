// repairDb (engine/db/repair.ts; reference §13): a database whose MANIFEST and CURRENT are gone, whose log or
// tables are damaged, is rebuilt from what can still be read, and opens in rough-level and classic-level.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { Db } from '../../engine/db/db'
import { LogReader } from '../../engine/log/reader'
import { BLOCK_SIZE } from '../../engine/log/format'
import { repairDb } from '../../engine/db/repair'
import { Block, BlockIterator } from '../../engine/table/block'
import { BlockHandle, FOOTER_SIZE, readBlock, readFooter } from '../../engine/table/format'
import { compareInternalKeys, TAG_BYTES } from '../../engine/internal-key'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { BatchReader } from '../../engine/db/write-batch'
import { CrashFileSystem } from './helpers/crash-file-system'

const root = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'rough-repair-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

let dirs = 0
function newDir (label: string): string {
  return path.join(root, `${label}-${++dirs}`)
}

const OPTIONS = { flushInline: true, writeBufferSize: 64 * 1024 }

function openDb (dir: string): Promise<Db> {
  return Db.open(dir, { ...OPTIONS, createIfMissing: false })
}

/** Every live entry, through an iterator. */
function contents (db: Db): Map<string, string> {
  const out = new Map<string, string>()
  const it = db.iterator()
  try {
    for (it.seekToFirst(); it.valid(); it.next()) {
      out.set(Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)).toString('latin1'),
        Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen)).toString('latin1'))
    }
  } finally {
    it.close()
  }
  return out
}

async function roughContents (dir: string): Promise<Map<string, string>> {
  const db = await openDb(dir)
  try {
    return contents(db)
  } finally {
    await db.close()
  }
}

async function classicContents (dir: string): Promise<Map<string, string>> {
  const db = new ClassicLevel<string, string>(dir, { createIfMissing: false })
  await db.open()
  try {
    return new Map(await db.iterator().all())
  } finally {
    await db.close()
  }
}

const key = (prefix: string, i: number): string => `${prefix}${String(i).padStart(6, '0')}`
const value = (k: string, round: number, size = 100): string => `${k}:${round}:`.padEnd(size, String.fromCharCode(97 + (round % 26)))

function names (dir: string, re: RegExp): string[] {
  return fs.readdirSync(dir).filter((n) => re.test(n)).sort()
}

/** Mismatches between two maps, at most a few, for a readable assertion. */
function diff (a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = []
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: ${JSON.stringify(b.get(k)?.slice(0, 20))}`)
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k}: unexpected`)
  return out.slice(0, 5)
}

/**
 * Writes a database with data in tables (several flushes) and in the log (the last writes, not flushed),
 * with overwrites and deletions across them; returns the expected contents.
 */
async function writeMixed (dir: string): Promise<Map<string, string>> {
  const model = new Map<string, string>()
  const db = await Db.open(dir, OPTIONS)
  for (let round = 0; round < 3; round++) {
    await db.write((b) => {
      for (let i = 0; i < 300; i++) {
        const k = key('k', i * 3 + round)
        const v = value(k, round)
        b.put(k, v)
        model.set(k, v)
      }
    })
    await db.flush()
  }
  // Newer versions and deletions, only in the log.
  await db.write((b) => {
    for (let i = 0; i < 900; i += 7) {
      const k = key('k', i)
      const v = value(k, 9)
      b.put(k, v)
      model.set(k, v)
    }
    for (let i = 1; i < 900; i += 11) {
      b.del(key('k', i))
      model.delete(key('k', i))
    }
  })
  await db.put('log-only', 'yes')
  model.set('log-only', 'yes')
  await db.close()
  return model
}

test('repair: a database whose MANIFEST and CURRENT are gone opens with every entry, in rough-level and classic-level', async (t) => {
  const dir = newDir('lost-manifest')
  const model = await writeMixed(dir)
  t.ok(names(dir, /\.ldb$/).length >= 3, 'the data is in tables')
  t.ok(names(dir, /\.log$/).length >= 1, 'and in a log')
  for (const n of names(dir, /^(MANIFEST-|CURRENT$)/)) fs.unlinkSync(path.join(dir, n))

  const report = await repairDb(dir, OPTIONS)
  t.equal(report.logsConverted.length, names(path.join(dir, 'lost'), /\.log$/).length, 'every log converted and archived')
  t.ok(report.logsConverted.every((l) => l.droppedBytes === 0 && l.droppedRecords === 0), 'nothing dropped from the logs')
  t.equal(report.tablesSalvaged.length + report.tablesArchived.length, 0, 'no table damaged')
  t.equal(report.droppedBytes, 0, 'no bytes dropped')
  t.same(names(dir, /\.log$/), [], 'no log left in the directory')
  t.equal(fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), report.manifest + '\n', 'CURRENT names the new MANIFEST')
  t.same(report.files.map((f) => f.number).sort((a, b) => a - b), names(dir, /\.ldb$/).map((n) => parseInt(n, 10)), 'the MANIFEST names every table')

  const rough = await roughContents(dir)
  t.same(diff(model, rough), [], `rough-level reads every entry (${rough.size})`)
  const classic = await classicContents(dir)
  t.same(diff(model, classic), [], `classic-level reads every entry (${classic.size})`)

  // Sequences continue past the repaired ones: a new write is not shadowed by an old version.
  const db = await openDb(dir)
  await db.put(key('k', 0), 'after repair')
  await db.close()
  const again = await roughContents(dir)
  t.equal(again.get(key('k', 0)), 'after repair', 'a write after the repair wins over the repaired versions')
})

test('repair: a damaged byte in the middle of a log keeps every record outside the damaged block', async (t) => {
  const dir = newDir('damaged-log')
  const model = new Map<string, string>()
  const db = await Db.open(dir, { ...OPTIONS, writeBufferSize: 4 * 1024 * 1024 })
  // One batch per put, values sized so that records straddle block boundaries.
  for (let i = 0; i < 400; i++) {
    const k = key('r', i)
    const v = value(k, i, 300 + (i % 7) * 50)
    await db.put(k, v)
    model.set(k, v)
  }
  await db.close()
  const [logName] = names(dir, /\.log$/)
  const logPath = path.join(dir, logName)
  const data = fs.readFileSync(logPath)
  t.ok(data.length > 4 * BLOCK_SIZE, `the log spans ${Math.ceil(data.length / BLOCK_SIZE)} blocks`)

  // Where each record (one key) lies: from its start to the next record's start.
  const spans: Array<{ key: string, start: number, end: number }> = []
  const reader = new LogReader(data, logName)
  for (let r = reader.readRecord(); r !== undefined; r = reader.readRecord()) {
    const batch = new BatchReader(r, 0, r.length, 'record')
    batch.next()
    const k = Buffer.from(r.subarray(batch.keyOff, batch.keyOff + batch.keyLen)).toString('latin1')
    if (spans.length > 0) spans[spans.length - 1].end = reader.recordOffset
    spans.push({ key: k, start: reader.recordOffset, end: data.length })
  }
  t.equal(spans.length, 400, 'every record read back before the damage')

  const damaged = 2 * BLOCK_SIZE + 5000
  data[damaged] ^= 0x40
  fs.writeFileSync(logPath, data)
  for (const n of names(dir, /^(MANIFEST-|CURRENT$)/)) fs.unlinkSync(path.join(dir, n))

  const report = await repairDb(dir, OPTIONS)
  const log = report.logsConverted[0]
  t.ok(log.droppedBytes > 0, `the damage is reported (${log.droppedBytes} bytes dropped)`)
  t.equal(log.droppedRecords, 0, 'no record that passed its checksum was dropped')
  const blockStart = 2 * BLOCK_SIZE
  const blockEnd = 3 * BLOCK_SIZE
  const outside = spans.filter((s) => s.end <= blockStart || s.start >= blockEnd)
  const hit = spans.filter((s) => s.start <= damaged && damaged < s.end)
  t.equal(hit.length, 1, 'one record holds the damaged byte')

  const rough = await roughContents(dir)
  t.same(outside.filter((s) => rough.get(s.key) !== model.get(s.key)).map((s) => s.key), [], `every one of the ${outside.length} records outside the damaged block is kept`)
  t.notOk(rough.has(hit[0].key), 'the damaged record is dropped')
  t.ok([...rough].every(([k, v]) => model.get(k) === v), 'nothing read back differs from what was written')
  t.equal(log.batches, rough.size, `the report counts the ${rough.size} batches kept`)
  const classic = await classicContents(dir)
  t.same(diff(rough, classic), [], 'classic-level reads the same entries')
})

test('repair: a table with a damaged data block keeps the other tables and the readable blocks', async (t) => {
  const dir = newDir('damaged-table')
  const model = new Map<string, string>()
  const db = await Db.open(dir, OPTIONS)
  for (let round = 0; round < 3; round++) {
    await db.write((b) => {
      for (let i = 0; i < 200; i++) {
        const k = key(`t${round}-`, i)
        const v = value(k, round)
        b.put(k, v)
        model.set(k, v)
      }
    })
    await db.flush()
  }
  await db.close()
  const tables = names(dir, /\.ldb$/)
  t.equal(tables.length, 3, 'three tables')
  const victim = path.join(dir, tables[1])
  const victimNumber = parseInt(tables[1], 10)

  // The keys of the victim's second data block, which the damage will cost.
  const fsys = new PosixFileSystem()
  const file = fsys.openRandomAccess(victim)
  const size = file.size()
  const footer = readFooter(file, size, victim)
  const index = new BlockIterator(compareInternalKeys, new Block(readBlock(file, footer.indexHandle, victim, size - FOOTER_SIZE), victim), TAG_BYTES)
  index.seekToFirst()
  index.next()
  const handle = new BlockHandle()
  handle.decodeFrom(index.valueBuf, index.valueOff, index.valueOff + index.valueLen, victim, 0)
  const lostKeys = new Set<string>()
  const data = new BlockIterator(compareInternalKeys, new Block(readBlock(file, handle, victim, size - FOOTER_SIZE), victim), TAG_BYTES)
  for (data.seekToFirst(); data.valid(); data.next()) lostKeys.add(Buffer.from(data.keyBuf.subarray(0, data.keyLen - 8)).toString('latin1'))
  file.close()
  t.ok(lostKeys.size > 0 && lostKeys.size < 200, `the damaged block holds ${lostKeys.size} of the table's 200 entries`)

  const bytes = fs.readFileSync(victim)
  bytes[handle.offset + Math.floor(handle.size / 2)] ^= 0x01
  fs.writeFileSync(victim, bytes)

  const unrepaired = await openDb(dir).then(async (d) => { try { contents(d); return undefined } finally { await d.close() } }, (err: Error) => err)
    .catch((err: Error) => err)
  t.ok(unrepaired instanceof Error && /checksum/.test(unrepaired.message), 'before the repair, reading the table fails')

  const report = await repairDb(dir, OPTIONS)
  t.same(report.tablesSalvaged.map((s) => [s.number, s.droppedBlocks, s.entries]), [[victimNumber, 1, 200 - lostKeys.size]], 'the damaged table is salvaged without its bad block')
  t.same(report.tablesKept.sort((a, b) => a - b), tables.filter((n) => n !== tables[1]).map((n) => parseInt(n, 10)), 'the other tables are kept as they were')
  t.ok(fs.existsSync(path.join(dir, 'lost', tables[1])), 'the damaged original is in lost/')

  const expected = new Map([...model].filter(([k]) => !lostKeys.has(k)))
  const rough = await roughContents(dir)
  t.same(diff(expected, rough), [], `rough-level reads every entry outside the damaged block (${rough.size})`)
  const classic = await classicContents(dir)
  t.same(diff(expected, classic), [], 'classic-level too')
})

test('repair: a table whose footer is destroyed is archived; the rest opens', async (t) => {
  const dir = newDir('no-footer')
  const db = await Db.open(dir, OPTIONS)
  await db.put('a', '1')
  await db.flush()
  await db.put('b', '2')
  await db.flush()
  await db.close()
  const [first, second] = names(dir, /\.ldb$/)
  const bytes = fs.readFileSync(path.join(dir, first))
  fs.writeFileSync(path.join(dir, first), bytes.subarray(0, bytes.length - 10))
  const report = await repairDb(dir, OPTIONS)
  t.same(report.tablesArchived.map((a) => a.number), [parseInt(first, 10)], 'the unreadable table is archived')
  t.same(report.tablesKept, [parseInt(second, 10)], 'the other is kept')
  t.same([...(await roughContents(dir))], [['b', '2']], 'the database opens with what survives')
  t.same([...(await classicContents(dir))], [['b', '2']], 'in classic-level too')
})

test('repair: an intact database changes no data', async (t) => {
  const dir = newDir('intact')
  const model = await writeMixed(dir)
  const before = await roughContents(dir)
  t.same(diff(model, before), [], 'the database holds what was written')
  const report = await repairDb(dir, OPTIONS)
  t.equal(report.droppedBytes + report.droppedRecords, 0, 'nothing dropped')
  t.same(diff(before, await roughContents(dir)), [], 'the same entries after the repair')
  t.same(diff(before, await classicContents(dir)), [], 'and in classic-level')
  // Repairing twice is harmless too.
  await repairDb(dir, OPTIONS)
  t.same(diff(before, await roughContents(dir)), [], 'the same entries after a second repair')
})

test('repair: a missing directory fails with "no such file or directory"; a directory of other files is left alone', async (t) => {
  const missing = path.join(root, 'does', 'not', 'exist')
  const err = await repairDb(missing).then(() => undefined, (e: Error) => e)
  t.ok(err !== undefined && /no such file or directory/i.test(err.message), `fails: ${err?.message}`)
  t.notOk(fs.existsSync(missing), 'and creates nothing')

  const other = newDir('other')
  fs.mkdirSync(other)
  fs.writeFileSync(path.join(other, 'notes.txt'), 'hello')
  const err2 = await repairDb(other).then(() => undefined, (e: Error) => e)
  t.ok(err2 !== undefined && /repair found no files/.test(err2.message), `fails: ${err2?.message}`)
  t.same(fs.readdirSync(other), ['notes.txt'], 'the directory is unchanged')
})

test('repair: a database open in another handle is not repaired (LEVEL_LOCKED) and is left as it was', async (t) => {
  const dir = newDir('locked')
  const db = await Db.open(dir, OPTIONS)
  await db.put('a', '1')
  const before = fs.readdirSync(dir).sort()
  const err = await repairDb(dir, OPTIONS).then(() => undefined, (e: Error & { code?: string }) => e)
  t.equal(err?.code, 'LEVEL_LOCKED', `fails: ${err?.message}`)
  t.same(fs.readdirSync(dir).sort(), before, 'no file changed')
  await db.close()
  t.same([...(await roughContents(dir))], [['a', '1']], 'the database still opens with its data')
})

test('repair: a log cut off mid-record keeps every complete record', async (t) => {
  const dir = newDir('torn-log')
  const db = await Db.open(dir, OPTIONS)
  for (let i = 0; i < 50; i++) await db.put(key('p', i), value(key('p', i), i))
  await db.close()
  const [logName] = names(dir, /\.log$/)
  const logPath = path.join(dir, logName)
  const data = fs.readFileSync(logPath)
  fs.writeFileSync(logPath, data.subarray(0, data.length - 20))
  const report = await repairDb(dir, OPTIONS)
  t.equal(report.logsConverted[0].batches, 49, 'the 49 complete records are converted')
  t.ok(report.logsConverted[0].droppedBytes > 0, 'the torn tail is counted as dropped')
  const rough = await roughContents(dir)
  t.equal(rough.size, 49, '49 entries read back')
  t.notOk(rough.has(key('p', 49)), 'the torn record is gone')
})

test('repair: a failure switching CURRENT leaves the old MANIFEST in force, no new one behind, and every log in place', async (t) => {
  const dir = newDir('current-fault')
  const model = await writeMixed(dir)
  const before = { current: fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), manifests: names(dir, /^MANIFEST-/), logs: names(dir, /\.log$/) }
  const fsys = new CrashFileSystem()
  const fault = fsys.fail({ op: 'rename', kind: 'current' })
  const err = await repairDb(dir, { ...OPTIONS, fs: fsys }).then(() => undefined, (e: Error & { code?: string }) => e)
  t.is(fault.fired, 1, 'the fault fired')
  t.is(err?.code, 'LEVEL_IO_ERROR', `the repair fails: ${err?.message}`)
  t.is(fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), before.current, 'CURRENT still names the old MANIFEST')
  t.same(names(dir, /^MANIFEST-/), before.manifests, 'the old MANIFEST is there, and no new one')
  t.same(names(dir, /\.log$/), before.logs, 'the logs are not archived')
  t.same(names(dir, /\.dbtmp$/), [], 'no temp file')
  t.same(diff(model, await roughContents(dir)), [], 'the database opens with every entry')
})

test('repair: scanning a large table gives the event loop turns between its blocks', async (t) => {
  const dir = newDir('turns')
  // One table of about 4 MiB: a write buffer larger than what is written keeps it all in one memtable.
  const big = { ...OPTIONS, writeBufferSize: 64 * 1024 * 1024, compression: false }
  const db = await Db.open(dir, big)
  for (let i = 0; i < 40000; i += 1000) {
    await db.write((b) => { for (let j = i; j < i + 1000; j++) b.put(key('t', j), value(key('t', j), j)) })
  }
  await db.close()
  await (await Db.open(dir, big)).close() // recovery writes the log as one table
  const tables = names(dir, /\.ldb$/)
  t.is(tables.length, 1, `one table of ${fs.statSync(path.join(dir, tables[0])).size} bytes`)
  let ticks = 0
  let scanning = false
  const timer = setInterval(() => { if (scanning) ticks++ }, 1)
  let start = 0
  let ms = 0
  const report = await repairDb(dir, OPTIONS, ({ kind }) => {
    // Told after each file: the table's scan runs between the last log's report and its own.
    if (kind === 'log') { scanning = true; start = performance.now() } else { scanning = false; ms = performance.now() - start }
  })
  clearInterval(timer)
  t.same(report.tablesKept, [parseInt(tables[0], 10)], 'the table is kept')
  t.ok(ticks >= 3, `a 1 ms timer ran ${ticks} times during the ${ms.toFixed(0)} ms scan`)
})
