// A damaged directory: verify names each damaged place (file, offset, what is lost), dump reads around
// the damage, repair salvages the rest, and nothing crashes (one error line, never a stack trace).
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { filesEnding, jsonLines, noStack, removeDir, runCli, tempDir } from './run-cli'

const TABLE_ENTRIES = 3000
const LOG_ENTRIES = 1000

/** Tables holding k00000..k02999, then a log (not yet replayed) holding m00000..m00999. */
async function buildDatabase (dir: string): Promise<void> {
  let db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  for (let i = 0; i < TABLE_ENTRIES; i += 100) {
    await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: `k${String(i + j).padStart(5, '0')}`, value: `value ${i + j} `.repeat(10) })))
  }
  await db.close()
  db = new RoughLevel(dir)
  await db.open()
  await db.close() // the first session's log becomes a table
  db = new RoughLevel(dir)
  // Records of uneven sizes, so that one spans the first block boundary in fragments.
  for (let i = 0; i < LOG_ENTRIES; i++) await db.put(`m${String(i).padStart(5, '0')}`, 'x'.repeat(100 + (i % 5)))
  await db.close()
}

function flipByte (file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+')
  const b = Buffer.alloc(1)
  fs.readSync(fd, b, 0, 1, offset)
  b[0] ^= 0x5a
  fs.writeSync(fd, b, 0, 1, offset)
  fs.closeSync(fd)
}

test('cli verify, dump and repair on a damaged table block and a damaged log record', async (t) => {
  const dir = tempDir('damage')
  await buildDatabase(dir)
  const table = filesEnding(dir, '.ldb')[0]
  const [log] = filesEnding(dir, '.log')

  // Where things are, from dumps of the intact files.
  const tableDump = jsonLines((await runCli(['dump', table, '--json'])).stdout)
  const block1 = tableDump.filter((l) => l.kind === 'index')[1]
  const block1Entries = tableDump.filter((l) => l.kind === 'entry' && l.block === 1).length
  const tableEntries = tableDump.filter((l) => l.kind === 'entry').length
  const logRecords = jsonLines((await runCli(['dump', log, '--json'])).stdout).filter((l) => l.kind === 'record')
  t.is(logRecords.length, LOG_ENTRIES, 'the intact log holds every write')
  const record5 = logRecords[5]
  flipByte(table, (block1.offset as number) + 10)
  flipByte(log, (record5.offset as number) + 7 + 3) // in the payload: the header is 7 bytes

  const r = await runCli(['verify', dir, '--json'])
  t.is(r.status, 1, 'verify exits 1')
  t.ok(noStack(r.stderr), 'no stack trace')
  const report = jsonLines(r.stdout)[0]
  const problems = report.problems as Array<Record<string, unknown>>
  t.is(problems.length, 2, 'two damaged places')
  const tableProblem = problems.find((p) => p.file === table)
  t.is(tableProblem?.offset, block1.offset, 'the table block, at its offset')
  t.ok(/checksum/.test(String(tableProblem?.reason)), 'its checksum fails')
  t.ok(/a block of \d+ bytes: the entries with keys after 'k\d+' up to 'k\d+'/.test(String(tableProblem?.lost)), `what is lost: ${String(tableProblem?.lost)}`)
  const logProblem = problems.find((p) => p.file === log)
  t.is(logProblem?.offset, record5.offset, 'the log record, at its offset')
  const end = logProblem?.end as number
  const lost = logRecords.filter((l) => (l.offset as number) >= (record5.offset as number) && (l.offset as number) < end)
  const spanning = logRecords.find((l) => (l.offset as number) < 32768 && (l.offset as number) + 7 + (l.length as number) > 32768)
  const resume = logRecords.find((l) => (l.offset as number) > 32768)
  t.ok(spanning !== undefined, 'a record spans the block boundary')
  t.is(end, resume?.offset, 'lost: the rest of the 32 KiB block and the fragment after it; reading resumes at the next record, as LevelDB\'s reader resyncs')

  const text = await runCli(['verify', dir])
  t.ok(text.stdout.includes(`damaged: ${table} at offset ${String(block1.offset)}`) && text.stdout.includes(`damaged: ${log} at offset ${String(record5.offset)}`), 'text names file and offset')

  const dumped = await runCli(['dump', table])
  t.is(dumped.status, 1, 'dump of the damaged table exits 1')
  t.is(dumped.stdout.split('\n').filter((l) => / @ \d+ : val => /.test(l)).length - tableDump.filter((l) => l.kind === 'index').length, tableEntries - block1Entries, 'and prints every entry of the other blocks')
  const dumpedLog = jsonLines((await runCli(['dump', log, '--json'])).stdout)
  t.same(dumpedLog.filter((l) => l.kind === 'record').map((l) => l.sequence),
    logRecords.filter((l) => !lost.includes(l)).map((l) => l.sequence), 'the log dump keeps every record outside the damaged region')

  const repaired = await runCli(['repair', dir])
  t.is(repaired.status, 0, `repair exits 0 ${repaired.stderr}`)
  t.ok(/salvaged: \d+ entries kept/.test(repaired.stdout), 'the report says the table was salvaged')
  t.ok(/lost: \d+ bytes/.test(repaired.stdout), 'and what was lost')
  const after = await runCli(['verify', dir])
  t.is(after.status, 0, `verify passes after repair: ${after.stdout.trim()}`)
  const db = new RoughLevel(dir)
  const keys = await db.keys().all()
  await db.close()
  t.is(keys.length, TABLE_ENTRIES - block1Entries + LOG_ENTRIES - lost.length, 'every entry outside the damaged block and region is back')
  removeDir(dir)
})

test('cli: a garbage MANIFEST, a truncated table and a file of noise give one error line each, never a crash', async (t) => {
  const dir = tempDir('garbage')
  await buildDatabase(dir)
  const tables = filesEnding(dir, '.ldb')
  fs.truncateSync(tables[0], 100)
  const noise = path.join(dir, '000999.ldb')
  fs.writeFileSync(noise, Buffer.alloc(5000, 7))

  let r = await runCli(['verify', dir])
  t.is(r.status, 1, 'verify exits 1')
  t.ok(r.stdout.includes(`damaged: ${tables[0]}`), 'the truncated table is reported')
  t.ok(!r.stdout.includes('000999'), 'a table the MANIFEST does not name is not checked')
  r = await runCli(['dump', tables[0]])
  t.is(r.status, 1)
  t.ok(/^rough-level dump: LEVEL_CORRUPTION: .*000005\.ldb|^rough-level dump: LEVEL_CORRUPTION: /.test(r.stderr) && r.stderr.trim().split('\n').length === 1, `one line: ${r.stderr.trim()}`)
  r = await runCli(['dump', noise])
  t.ok(r.status === 1 && /LEVEL_CORRUPTION: .*bad magic number/.test(r.stderr) && noStack(r.stderr), `noise: ${r.stderr.trim()}`)

  const [manifest] = fs.readdirSync(dir).filter((f) => f.startsWith('MANIFEST-'))
  fs.writeFileSync(path.join(dir, manifest), Buffer.alloc(3000, 0x41))
  r = await runCli(['info', dir])
  t.is(r.status, 1, 'info exits 1')
  t.ok(/^rough-level info: LEVEL_CORRUPTION: /.test(r.stderr) && r.stderr.trim().split('\n').length === 1 && noStack(r.stderr), `one line: ${r.stderr.trim()}`)
  r = await runCli(['verify', dir, '--json'])
  const report = jsonLines(r.stdout)[0]
  t.is(r.status, 1, 'verify exits 1')
  const problems = report.problems as Array<Record<string, unknown>>
  t.ok(problems.some((p) => p.file === 'MANIFEST'), 'the MANIFEST is reported')
  t.is(report.tables, tables.length - 1, 'and every other table in the directory is read instead (the truncated one and the noise cannot be opened)')
  t.ok(problems.some((p) => p.file === noise), 'the noise file among them')
  r = await runCli(['scan', dir])
  t.ok(r.status === 1 && /^rough-level scan: LEVEL_CORRUPTION: /.test(r.stderr) && noStack(r.stderr), `scan fails in one line: ${r.stderr.trim()}`)
  removeDir(dir)
})
