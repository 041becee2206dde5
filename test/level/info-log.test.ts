// LevelDB's LOG as a user sees it: a database that writes, flushes, compacts and reopens has a LOG with its
// recovery, flush and compaction lines in LevelDB's format, and LOG.old holds the previous run's; infoLog:
// false leaves none; classic-level opens a directory holding our LOG (and rotates it as LevelDB does, its
// own lines parsing with the same pattern); destroy removes LOG and LOG.old; repair writes its own LOG.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-info-log-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

/** util/posix_logger.h: `YYYY/MM/DD-HH:MM:SS.uuuuuu <thread id> <message>`. */
const LINE = /^(\d{4})\/(\d{2})\/(\d{2})-(\d{2}):(\d{2}):(\d{2})\.(\d{6}) (\S+) (.*)$/

interface Line { time: number, thread: string, message: string }

/** Every line of a LOG, parsed; a line that does not parse fails the test. */
function readLog (file: string, t: test.Test): Line[] {
  const out: Line[] = []
  const text = fs.readFileSync(file, 'utf8')
  t.ok(text.endsWith('\n'), `${path.basename(file)} ends with a newline`)
  const bad = text.split('\n').filter((l) => l !== '' && !LINE.test(l))
  t.same(bad, [], `every line of ${path.basename(file)} is in LevelDB's format`)
  for (const l of text.split('\n')) {
    const m = LINE.exec(l)
    if (m === null) continue
    out.push({ time: new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]).getTime() + +m[7] / 1000, thread: m[8], message: m[9] })
  }
  return out
}

/** Keys in an order that makes flushed tables overlap (so that level 0 fills and compacts). */
const key = (i: number, n: number): string => 'k' + String((i * 7919) % n).padStart(6, '0')

/** 3000 puts through a 64 KiB write buffer: a few flushes. */
async function writeSmall (dir: string, options: { infoLog?: boolean } = {}): Promise<void> {
  const db = new RoughLevel(dir, { ...options, writeBufferSize: 64 * 1024 })
  await db.open()
  for (let i = 0; i < 3000; i++) await db.put(key(i, 3000), 'v'.repeat(60))
  await db.close()
}

test('LOG: write, flush, compact and reopen leave recovery, flush and compaction lines in LevelDB\'s format, and LOG.old holds the previous run', async (t) => {
  const dir = tempDir()
  const start = Date.now()
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  await db.open()
  const n = 40000
  for (let i = 0; i < n; i += 100) {
    await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: key(i + j, n), value: 'v'.repeat(60) })))
  }
  await db.compactRange('k', 'l')
  await db.put('after', 'compaction')
  await db.close()
  const end = Date.now()

  const first = readLog(path.join(dir, 'LOG'), t)
  const messages = first.map((l) => l.message)
  t.ok(first.every((l) => l.time >= start - 1000 && l.time <= end + 1000), 'every timestamp is local wall-clock time within the run')
  // A worker's lines carry the time they happened and are written when its job returns: only the main
  // thread's lines are in file order.
  const main = first.filter((l) => l.thread === first[0].thread)
  t.ok(main.every((l, i) => i === 0 || l.time >= main[i - 1].time), 'the main thread\'s lines are in time order')
  t.ok(messages[0].startsWith(`Creating DB ${dir} since it was missing.`), `the first line: ${messages[0]}`)
  const flushes = messages.filter((m) => /^Level-0 table #\d+: started$/.test(m)).length
  const flushed = messages.filter((m) => /^Level-0 table #\d+: \d+ bytes OK/.test(m)).length
  t.ok(flushes >= 10 && flushed === flushes, `every flush is logged when it starts and ends (${flushes})`)
  const compacting = messages.filter((m) => /^Compacting \d+@\d+ \+ \d+@\d+ files$/.test(m))
  const compacted = messages.filter((m) => /^Compacted \d+@\d+ \+ \d+@\d+ files => \d+ bytes \(read \d+ bytes, \d+ ms\)$/.test(m))
  t.ok(compacting.length >= 2, `compactions are logged with their inputs per level (${compacting.length}: ${compacting[0]})`)
  t.is(compacted.length, compacting.length, 'and each one\'s bytes in and out and duration when it is installed')
  const generated = first.filter((l) => /^Generated table #\d+@\d+: \d+ keys, \d+ bytes$/.test(l.message))
  t.ok(generated.length >= compacted.length, `each output table is logged (${generated.length})`)
  t.ok(generated.every((l) => l.thread !== first[0].thread), 'by the compaction worker, on its own thread id')
  t.ok(messages.some((m) => /^compacted to: files\[( \d+){7} \]$/.test(m)), 'with the level summary')
  t.ok(messages.some((m) => /^Delete type=2 #\d+$/.test(m)), 'compacted tables are deleted (type 2)')
  t.ok(messages.some((m) => /^Delete type=0 #\d+$/.test(m)), 'flushed logs are deleted (type 0)')
  t.ok(messages.some((m) => m === 'Current memtable full; waiting...' || m.startsWith('Too many L0 files')), 'a write stall is logged')
  const stallRuns = messages.filter((m, i) => m === 'Current memtable full; waiting...' && messages[i - 1] === m).length
  t.is(stallRuns, 0, 'a stall is logged once, not per wait')

  const reopened = new RoughLevel(dir)
  await reopened.open()
  t.is(await reopened.get('after'), 'compaction', 'the reopened database reads the last write')
  await reopened.close()
  const old = readLog(path.join(dir, 'LOG.old'), t)
  t.same(old.map((l) => l.message), messages, 'LOG.old holds the first run\'s lines')
  const second = readLog(path.join(dir, 'LOG'), t).map((l) => l.message)
  const recovering = second.findIndex((m) => /^Recovering log #\d+$/.test(m))
  t.ok(recovering >= 0, 'the reopen logs the log it replays')
  // The replayed memtable's table is written right after the open resolves (engine/db/recovery.ts).
  const started = /^Level-0 table #(\d+): started$/.exec(second[recovering + 1] ?? '')
  const done = started === null ? -1 : second.findIndex((m, i) => i > recovering + 1 && m.startsWith(`Level-0 table #${started[1]}: `))
  t.ok(started !== null && done > recovering + 1 && /^Level-0 table #\d+: \d+ bytes OK/.test(second[done]),
    `and the table of what it replayed (${second.slice(recovering, recovering + 2).join(' | ')} ... ${second[done]})`)
  t.ok(!second.some((m) => m.startsWith('Creating DB')), 'no creation the second time')
})

test('LOG: writes that fill no memtable add no line', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel(dir)
  await db.open()
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
  await turn()
  const before = fs.readFileSync(path.join(dir, 'LOG'), 'utf8')
  t.ok(before.length > 0, 'the open\'s lines are written after a turn of the event loop')
  for (let i = 0; i < 2000; i++) await db.put(key(i, 2000), 'v')
  await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'del' as const, key: key(i, 2000) })))
  await turn()
  t.is(fs.readFileSync(path.join(dir, 'LOG'), 'utf8'), before, 'LOG is unchanged by 2000 puts and a batch')
  await db.close()
})

test('LOG: infoLog: false writes no LOG and leaves an existing one alone', async (t) => {
  const dir = tempDir()
  await writeSmall(dir, { infoLog: false })
  t.same(fs.readdirSync(dir).filter((f) => f.startsWith('LOG')), [], 'no LOG and no LOG.old')
  fs.writeFileSync(path.join(dir, 'LOG'), 'kept\n')
  const again = new RoughLevel(dir, { infoLog: false })
  await again.open()
  await again.close()
  t.is(fs.readFileSync(path.join(dir, 'LOG'), 'utf8'), 'kept\n', 'an existing LOG is neither rotated nor written')
  t.notOk(fs.existsSync(path.join(dir, 'LOG.old')), 'no LOG.old')
})

test('LOG: a failed open leaves LOG and LOG.old as they were', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel(dir)
  await db.open()
  await db.put('a', 'b')
  await db.close()
  const again = new RoughLevel(dir)
  await again.open()
  await again.close()
  const before = [fs.readFileSync(path.join(dir, 'LOG'), 'utf8'), fs.readFileSync(path.join(dir, 'LOG.old'), 'utf8')]
  const failing = new RoughLevel(dir, { errorIfExists: true })
  const err = await failing.open().then(() => undefined, (e: Error) => e)
  t.ok(err !== undefined, 'the open fails (errorIfExists)')
  t.same([fs.readFileSync(path.join(dir, 'LOG'), 'utf8'), fs.readFileSync(path.join(dir, 'LOG.old'), 'utf8')], before, 'LOG and LOG.old are unchanged')
})

test('LOG: classic-level opens a directory holding our LOG, rotates it to LOG.old and writes its own in the same format; destroy removes both', async (t) => {
  const dir = tempDir()
  await writeSmall(dir)
  const ours = fs.readFileSync(path.join(dir, 'LOG'), 'utf8')
  const c = new ClassicLevel(dir)
  await c.open()
  t.is(await c.get(key(1234, 3000)), 'v'.repeat(60), 'classic-level reads the database')
  t.is((await c.keys().all()).length, 3000, 'every key')
  await c.close()
  t.is(fs.readFileSync(path.join(dir, 'LOG.old'), 'utf8'), ours, 'LevelDB moved our LOG to LOG.old')
  const theirs = readLog(path.join(dir, 'LOG'), t)
  t.ok(theirs.some((l) => /^Recovering log #\d+$/.test(l.message)), 'LevelDB\'s own LOG parses with the same pattern and has the same recovery message')

  const r = new RoughLevel(dir)
  await r.open()
  await r.close()
  t.ok(readLog(path.join(dir, 'LOG.old'), t).some((l) => /^Recovering log #\d+$/.test(l.message)), 'and we rotate LevelDB\'s LOG in turn')
  await RoughLevel.destroy(dir)
  t.notOk(fs.existsSync(dir), 'destroy removes LOG and LOG.old with the rest, and the directory')
})

test('LOG: repair rotates LOG and writes what it did, as LevelDB\'s repair does', async (t) => {
  const dir = tempDir()
  await writeSmall(dir)
  const ours = fs.readFileSync(path.join(dir, 'LOG'), 'utf8')
  fs.rmSync(path.join(dir, 'CURRENT'))
  const report = await RoughLevel.repair(dir)
  t.is(fs.readFileSync(path.join(dir, 'LOG.old'), 'utf8'), ours, 'the database\'s LOG is now LOG.old')
  const messages = readLog(path.join(dir, 'LOG'), t).map((l) => l.message)
  for (const n of report.tablesKept) t.ok(messages.some((m) => new RegExp(`^Table #${n}: \\d+ entries OK$`).test(m)), `table ${n} is logged`)
  t.ok(messages.some((m) => /^Log #\d+: \d+ ops saved to /.test(m)), 'the log it converted is logged')
  t.ok(messages.some((m) => m.startsWith('Archiving ') && m.includes('MANIFEST-')), 'the archived MANIFEST is logged')
  t.is(messages[messages.length - 1], `**** Repaired leveldb ${dir}; recovered ${report.files.length} files; ` +
    `${report.files.reduce((s, f) => s + f.fileSize, 0)} bytes. Some data may have been lost. ****`, 'and the result, in LevelDB\'s words')
  const again = new RoughLevel(dir)
  await again.open()
  t.is((await again.keys().all()).length, 3000, 'the repaired database has every key')
  await again.close()
})
