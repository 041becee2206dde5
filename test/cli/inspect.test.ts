// info, dump and verify as child processes, checked against what the test wrote (sequence numbers,
// types, keys, values) and against LevelDB's formats, never against the tool's own output.
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { RoughLevel } from '../../index'
import { writeZstdTable, zstdBlock } from '../fixtures/zstd-table'
import { fieldBytes, filesEnding, jsonLines, removeDir, runCli, tempDir } from './run-cli'

type Op = { type: 'put', key: Buffer, value: Buffer } | { type: 'del', key: Buffer }

/** 120 single writes (sequence i + 1), over 30 keys, some binary, with overwrites and deletes. */
function ops (): Op[] {
  const out: Op[] = []
  for (let i = 0; i < 120; i++) {
    const key = i % 3 === 0 ? Buffer.from([0, 0xff, i % 30, 0x5c]) : Buffer.from(`key-${String(i % 30).padStart(2, '0')}`)
    if (i % 7 === 6) out.push({ type: 'del', key })
    else out.push({ type: 'put', key, value: i % 5 === 0 ? Buffer.from([0xc3, 0x28, i]) : Buffer.from(`value ${i}\t\n`) })
  }
  return out
}

async function writeOps (dir: string, list: Op[]): Promise<void> {
  const db = new RoughLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  for (const op of list) {
    if (op.type === 'put') await db.put(op.key, op.value)
    else await db.del(op.key)
  }
  await db.close()
}

test('cli dump: a log prints every batch with its sequence and every operation, as written', async (t) => {
  const dir = tempDir('dump-log')
  const list = ops()
  await writeOps(dir, list)
  const [log] = filesEnding(dir, '.log')
  const r = await runCli(['dump', log, '--json'])
  t.is(r.status, 0, 'exit 0')
  const lines = jsonLines(r.stdout)
  const records = lines.filter((l) => l.kind === 'record')
  t.same(records.map((l) => [l.sequence, l.count]), list.map((_, i) => [i + 1, 1]), 'one record per write, sequences 1..120')
  const written = lines.filter((l) => l.kind === 'put' || l.kind === 'del').map((l) => ({
    sequence: l.sequence, type: l.kind, key: fieldBytes(l.key, l.keyEncoding).toString('hex'),
    value: l.kind === 'put' ? fieldBytes(l.value, l.valueEncoding).toString('hex') : undefined
  }))
  t.same(written, list.map((op, i) => ({ sequence: i + 1, type: op.type, key: op.key.toString('hex'), value: op.type === 'put' ? op.value.toString('hex') : undefined })), 'every operation: type, key and value bytes')

  const text = await runCli(['dump', log])
  t.ok(text.stdout.startsWith('--- offset 0; sequence 1; 1 operations\n  put \'\\x00\\xff\\x00\\\\\' \'\\xc3(\\x00\'\n'), 'text as leveldbutil prints it, bytes escaped')
  removeDir(dir)
})

test('cli dump: a table prints every entry with its sequence and type in internal-key order; the MANIFEST names it', async (t) => {
  const dir = tempDir('dump-table')
  const list = ops()
  await writeOps(dir, list)
  // Reopening writes the log's memtable to a level-0 table: every version of every key.
  const reopened = new RoughLevel(dir)
  await reopened.open()
  await reopened.close()
  const [table] = filesEnding(dir, '.ldb')
  t.ok(table !== undefined, 'a table was written')
  const r = await runCli(['dump', table, '--json'])
  t.is(r.status, 0, 'exit 0')
  const lines = jsonLines(r.stdout)
  const entries = lines.filter((l) => l.kind === 'entry').map((l) => [fieldBytes(l.key, l.keyEncoding).toString('hex'), l.sequence, l.type,
    l.type === 'val' ? fieldBytes(l.value, l.valueEncoding).toString('hex') : ''])
  const expected = list.map((op, i) => [op.key.toString('hex'), i + 1, op.type === 'put' ? 'val' : 'del', op.type === 'put' ? op.value.toString('hex') : ''] as [string, number, string, string])
  expected.sort((a, b) => Buffer.compare(Buffer.from(a[0], 'hex'), Buffer.from(b[0], 'hex')) || b[1] - a[1])
  t.same(entries, expected, 'every (key, sequence, type, value), user key ascending then sequence descending')
  const footer = lines.find((l) => l.kind === 'footer')!
  t.is(footer.fileSize, fs.statSync(table).size, 'the footer line gives the file size')
  const blocks = lines.filter((l) => l.kind === 'block')
  const index = lines.filter((l) => l.kind === 'index')
  t.is(blocks.length, index.length, 'one data block per index entry')
  t.ok(blocks.every((b) => b.compression === 'snappy' || b.compression === 'none'), 'compression named per block')
  t.ok(lines.some((l) => l.kind === 'filter' && l.name === 'leveldb.BuiltinBloomFilter2'), 'the bloom filter is found through the metaindex')
  const props = lines.find((l) => l.kind === 'properties')!
  t.is(props.entries, list.length, 'properties count every entry')
  t.is(props.deletions, list.filter((o) => o.type === 'del').length, 'and the deletions')

  const [manifest] = fs.readdirSync(dir).filter((f) => f.startsWith('MANIFEST-'))
  const m = await runCli(['dump', path.join(dir, manifest), '--json'])
  t.is(m.status, 0)
  const added = jsonLines(m.stdout).flatMap((l) => (l.newFiles as Array<Record<string, unknown>> | undefined) ?? [])
  const number = Number(path.basename(table, '.ldb'))
  const file = added.find((f) => f.number === number)
  t.ok(file !== undefined, 'the MANIFEST dump shows the table added')
  t.is(file?.size, fs.statSync(table).size, 'with its size')
  t.is((file?.smallest as Record<string, unknown>).sequence, expected[0][1], 'and its smallest key\'s sequence')
  removeDir(dir)
})

test('cli info: numbers, levels, key ranges and leveldb.stats of a database that another handle has open', async (t) => {
  const dir = tempDir('info')
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  for (let i = 0; i < 2000; i += 100) await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: `k${String(i + j).padStart(5, '0')}`, value: 'x'.repeat(100) })))
  await db.compactRange('k', 'l')
  for (let i = 0; i < 10; i++) await db.put(`late${i}`, 'y')
  // The database stays open (locked) while info reads it.
  const r = await runCli(['info', dir, '--json'])
  t.is(r.status, 0, `exit 0 while the database is open elsewhere ${r.stderr}`)
  const info = jsonLines(r.stdout)[0]
  t.is(info.comparator, 'leveldb.BytewiseComparator')
  // The MANIFEST CURRENT names, and the log the open database writes (the newest .log in the directory).
  const current = fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1').trim()
  const newestLog = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort().pop()
  t.is(info.manifest, current, `the MANIFEST is the one CURRENT names (${current})`)
  t.is(info.manifestNumber, Number(/^MANIFEST-(\d+)$/.exec(current)?.[1]), 'and its number')
  t.is(info.logNumber, Number(newestLog?.slice(0, -4)), `the log number is the live log's (${newestLog ?? 'none'})`)
  t.is(info.lastSequence, 2010, 'last sequence counts the writes still in the log')
  const levels = info.levels as Array<Record<string, unknown>>
  const withFiles = levels.filter((l) => (l.files as number) > 0)
  t.is(withFiles.reduce((s, l) => s + (l.files as number), 0), Number(db.getProperty('leveldb.num-files-at-level0')) +
    [1, 2, 3, 4, 5, 6].reduce((s, n) => s + Number(db.getProperty(`leveldb.num-files-at-level${n}`)), 0), 'files per level as the open database counts them')
  t.is(withFiles[0].smallest, 'k00000', 'key range: smallest')
  t.is(withFiles[withFiles.length - 1].largest, 'k01999', 'key range: largest')
  t.is(info.stats, db.getProperty('leveldb.stats'), 'leveldb.stats as the database reports it')
  const text = await runCli(['info', dir])
  t.ok(/last sequence +2010 \(MANIFEST 2000; the rest is in the logs\)/.test(text.stdout), 'text names the MANIFEST\'s and the logs\' share')
  await db.close()
  removeDir(dir)
})

test('cli verify: a healthy database (written by rough-level, open elsewhere) passes', async (t) => {
  const dir = tempDir('verify-ok')
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  for (let i = 0; i < 1500; i += 100) await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: `k${i + j}`, value: 'v'.repeat(200) })))
  const r = await runCli(['verify', dir])
  t.is(r.status, 0, 'exit 0')
  t.ok(/OK: no damage found/.test(r.stdout), r.stdout.trim())
  const m = /checked (\d+) tables \([^,]+, \d+ blocks, (\d+) entries\) and 1 logs? \([^,]+, \d+ records, (\d+) entries\)/.exec(r.stdout)
  t.ok(m !== null && Number(m[1]) > 1, 'it read several tables and the log')
  t.is(Number(m?.[2]) + Number(m?.[3]), 1500, 'and every entry written, in tables or in the log')
  t.is(r.stderr, '', 'no progress bar or message on a pipe')
  await db.close()
  removeDir(dir)
})

test('cli dump: a table with a zstd-compressed block (LevelDB upstream\'s type 2) prints its entries', async (t) => {
  const dir = tempDir('zstd')
  const file = path.join(dir, '000007.ldb')
  const out = new PosixFileSystem().openWritable(file)
  writeZstdTable(out)
  out.close()
  const r = await runCli(['dump', file, '--json'])
  t.is(r.status, 0, `exit 0 ${r.stderr}`)
  const lines = jsonLines(r.stdout)
  t.same(lines.filter((l) => l.kind === 'block').map((l) => l.compression), ['zstd'], 'the block is named zstd')
  const { entries } = zstdBlock()
  t.same(lines.filter((l) => l.kind === 'entry').map((l) => [l.key, l.sequence, l.type, l.value]),
    entries.map(([k, v], i) => [k.subarray(0, k.length - 8).toString(), i + 1, 'val', v.toString()]), 'every entry, as the block was built')
  removeDir(dir)
})
