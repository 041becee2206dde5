// Where @node-rs/crc32's native addon cannot load, rough-level falls back to its pure-TypeScript crc32c and
// still writes, reopens and reads a database whose data lies in tables: a child process runs with the addon
// refused (test/fixtures/no-native-crc32), and this process, with the native binding where it loads, reads
// the same directory again (tables checksummed by one implementation verified by the other).
import test from 'tape'
import { spawnSync } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { nativeCrc32c } from '../../engine/util/crc32c'
import type { CrcFallbackReport } from '../fixtures/crc-fallback-child'
import { applyToModel, workload, type Model } from '../fixtures/level-child'

const PRELOAD = path.join(__dirname, '..', 'fixtures', 'no-native-crc32.js')
const CHILD = path.join(__dirname, '..', 'fixtures', 'crc-fallback-child.js')
const SEED = 1414
const COUNT = 1500

test('crc32c fallback: without the native addon, a database written into tables reopens with every entry', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-crc-fallback-'))
  const env = { ...process.env }
  delete env.ROUGH_LEVEL_PURE_CRC
  const child = spawnSync(process.execPath, ['--require', PRELOAD, CHILD, dir, String(SEED), String(COUNT)], { env, encoding: 'utf8' })
  t.is(child.status, 0, `the child exits cleanly${child.status === 0 ? '' : `: ${child.stderr}`}`)
  t.match(child.stderr, /^refused .*crc32[^\n]*\.node$/m, 'the child tried to load the native addon and was refused')
  const report = JSON.parse(child.stdout) as CrcFallbackReport
  t.is(report.native, false, 'the child has no native crc32c')
  t.is(report.pure, true, 'every checksum in the child went through the pure-TypeScript crc32c')
  // How many tables remain depends on how far compaction got (it merges them): one is enough.
  t.ok(report.tables >= 1, `the data lies in tables (${report.tables})`)
  t.ok(report.dataBlockReads > 0, `reads after the reopen verified blocks from tables (${report.dataBlockReads})`)

  const model: Model = new Map()
  for (const op of workload(SEED, COUNT)) applyToModel(model, op)
  t.is(report.entries, model.size, `the child iterates every live entry (${model.size})`)
  t.is(report.wrong, 0, `and reads every key ever written (${report.keysChecked}) as the model says`)

  t.comment(`this process: native crc32c ${nativeCrc32c}`)
  const db = new RoughLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  const entries = await db.iterator().all()
  const expected = [...model.values()].sort((a, b) => Buffer.compare(a[0], b[0]))
  t.ok(entries.length === expected.length && entries.every(([k, v], i) => k.equals(expected[i][0]) && v.equals(expected[i][1])),
    'this process reads the same entries from the tables the fallback checksummed')
  await db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
