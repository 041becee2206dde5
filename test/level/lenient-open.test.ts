// paranoidChecks (LevelDB's name): strict by default, a damaged record in the middle of a log fails the open;
// with paranoidChecks: false the open skips it as LevelDB does by default, holds every record before and
// after it, and reports the drop in LOG and in the rough-level.recovery-skipped property. classic-level opens
// the same damaged directory (it is lenient) and holds the same entries. A damaged MANIFEST and a missing
// table fail the open either way, as in LevelDB 1.23 (and in classic-level).
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'
import { BLOCK, HEADER, recordsOf, type ModelRecord } from '../engine/helpers/log-model'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-lenient-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

type Entry = [Buffer, Buffer]
const BUF = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const

interface Skipped { file: string, offset: number, bytes: number, reason: string }

const keyOf = (i: number): Buffer => Buffer.from(`k${String(i).padStart(4, '0')}`)
/** A value that names its key, 1000 bytes: about 31 records per 32 KiB block. */
const valueOf = (i: number): Buffer => Buffer.alloc(1000, `value of ${i};`)

function copyDir (dir: string): string {
  const to = tempDir()
  fs.cpSync(dir, to, { recursive: true })
  return to
}

function show (entries: Entry[]): string {
  return entries.map(([k]) => k.toString()).join(',')
}

/**
 * Writes `count` puts, one log record each, into the log (the write buffer holds them all), and closes.
 * Returns the log's path.
 */
async function writeLog (dir: string, count: number): Promise<string> {
  const db = new RoughLevel<Buffer, Buffer>(dir, BUF)
  await db.open()
  for (let i = 0; i < count; i++) await db.put(keyOf(i), valueOf(i))
  await db.close()
  const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort()
  return path.join(dir, logs[logs.length - 1])
}

test('paranoidChecks: a damaged record in the middle of a log fails a strict open; a lenient one skips it, keeps every record before and after, and reports the drop; classic-level holds the same', async (t) => {
  const dir = tempDir()
  const count = 100
  const log = await writeLog(dir, count)
  const bytes = fs.readFileSync(log)
  const records = recordsOf(bytes)
  t.is(records.length, count, 'one log record per put')

  // The victim: a whole record in the second block. LevelDB's reader drops the rest of a block after a bad
  // checksum, so every record with a fragment in [victim, end of its block) is lost, and no other.
  const victim = records.findIndex((r) => r.fragments.length === 1 && r.offset > BLOCK + 2000)
  const from = records[victim].offset
  const blockEnd = (Math.floor(from / BLOCK) + 1) * BLOCK
  const inDamage = (r: ModelRecord): boolean => r.fragments.some((f) => f.offset >= from && f.offset < blockEnd)
  const lost = new Set(records.map((r, i) => inDamage(r) ? i : -1).filter((i) => i >= 0))
  t.ok(lost.size >= 2 && !lost.has(victim - 1) && !lost.has(count - 1), `records ${[...lost].join(', ')} are lost; those before and after are not`)
  bytes[from + HEADER + 500] ^= 0x20
  fs.writeFileSync(log, bytes)
  const expected: Entry[] = []
  for (let i = 0; i < count; i++) if (!lost.has(i)) expected.push([keyOf(i), valueOf(i)])
  const classicDir = copyDir(dir)

  // Strict (the default): refused, naming the file and the offset.
  const strict = new RoughLevel<Buffer, Buffer>(dir, BUF)
  const err = await strict.open().then(() => undefined, (e: Error & { cause?: Error & { code?: string } }) => e)
  t.is(err?.cause?.code, 'LEVEL_CORRUPTION', 'a strict open fails with LEVEL_CORRUPTION')
  t.ok(String(err?.cause?.message).includes(`${path.basename(log)} at offset ${from}`), `naming the file and offset (${String(err?.cause?.message)})`)

  // Lenient.
  const db = new RoughLevel<Buffer, Buffer>(dir, { ...BUF, paranoidChecks: false })
  await db.open()
  const held = await db.iterator().all()
  t.is(show(held), show(expected), `the lenient open holds every record before and after the damage (${held.length} of ${count})`)
  t.ok(held.every(([k, v], i) => k.equals(expected[i][0]) && v.equals(expected[i][1])), 'with their values')
  const skipped = JSON.parse(db.getProperty('rough-level.recovery-skipped')) as Skipped[]
  t.ok(skipped.length >= 1 && skipped[0].offset === from && skipped[0].file === log && skipped[0].reason.includes('checksum mismatch'),
    `the property reports the drop from the victim's offset (${JSON.stringify(skipped[0])})`)
  const covered = (offset: number): boolean => skipped.some((s) => s.file === log && offset >= s.offset && offset < s.offset + s.bytes)
  t.ok(records.every((r, i) => r.fragments.every((f) => covered(f.offset) === lost.has(i))),
    'the reported ranges hold every fragment of the lost records and none of the others')
  await db.close()

  const lines = fs.readFileSync(path.join(dir, 'LOG'), 'utf8')
  for (const s of skipped) {
    t.ok(lines.includes(`(ignoring error) ${log}: dropping ${s.bytes} bytes at offset ${s.offset}; ${s.reason}`), `LOG reports the drop of ${s.bytes} bytes at ${s.offset}`)
  }

  // What the lenient open kept is now in tables: a strict reopen has it all, and nothing to report.
  const reopened = new RoughLevel<Buffer, Buffer>(dir, BUF)
  await reopened.open()
  t.is(show(await reopened.iterator().all()), show(expected), 'a strict reopen holds the same entries')
  t.is(reopened.getProperty('rough-level.recovery-skipped'), '[]', 'and reports nothing skipped')
  await reopened.close()

  const c = new ClassicLevel<Buffer, Buffer>(classicDir, BUF)
  await c.open()
  const theirs = await c.iterator().all()
  await c.close()
  t.is(show(theirs), show(held), `classic-level opens the same damaged directory and holds the same keys (${theirs.length})`)
  t.ok(theirs.every(([k, v], i) => k.equals(held[i][0]) && v.equals(held[i][1])), 'and values')
})

test('paranoidChecks: false still refuses a damaged MANIFEST and a missing table, as LevelDB 1.23 (and classic-level) do', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  await db.open()
  for (let i = 0; i < 2000; i++) await db.put(keyOf(i).toString(), valueOf(i).toString().slice(0, 100))
  await db.close()
  const manifest = fs.readdirSync(dir).find((f) => f.startsWith('MANIFEST-'))!
  const tables = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))
  t.ok(tables.length >= 2, `${tables.length} tables`)

  const damaged = copyDir(dir)
  const bytes = fs.readFileSync(path.join(damaged, manifest))
  const records = recordsOf(bytes)
  t.ok(records.length >= 2, `the MANIFEST has ${records.length} records`)
  bytes[records[0].offset + HEADER + 3] ^= 0x01
  fs.writeFileSync(path.join(damaged, manifest), bytes)

  const missing = copyDir(dir)
  fs.rmSync(path.join(missing, tables[0]))

  for (const [label, where] of [['a damaged MANIFEST record', damaged], ['a missing table', missing]]) {
    const lenient = new RoughLevel(where, { paranoidChecks: false })
    const err = await lenient.open().then(() => undefined, (e: Error & { cause?: Error & { code?: string } }) => e)
    t.is(err?.cause?.code, 'LEVEL_CORRUPTION', `${label}: the lenient open fails with LEVEL_CORRUPTION (${String(err?.cause?.message)})`)
    const c = new ClassicLevel(copyDir(where))
    const cerr = await c.open().then(() => undefined, (e: Error & { cause?: Error & { code?: string } }) => e)
    t.is(cerr?.cause?.code, 'LEVEL_CORRUPTION', `${label}: classic-level refuses it too (${String(cerr?.cause?.message)})`)
  }
})
