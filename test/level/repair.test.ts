// RoughLevel.repair as classic-level's repair-test uses it: argument validation, a missing directory,
// and a database whose MANIFEST is lost comes back with every entry (engine/db/repair is tested in depth in
// test/engine/db/repair.test.ts).
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-repair-'))
}

test('repair: the location must be a non-empty string', async (t) => {
  for (const bad of [undefined, '', {}]) {
    try {
      await RoughLevel.repair(bad as unknown as string)
      t.fail(`accepted ${String(bad)}`)
    } catch (err: any) {
      t.ok(err instanceof TypeError && err.message === "The first argument 'location' must be a non-empty string", `rejects ${JSON.stringify(bad)}`)
    }
  }
})

test('repair: a missing directory fails with "no such file or directory"', async (t) => {
  const root = tempDir()
  try {
    await RoughLevel.repair(path.join(root, 'missing'))
    t.fail('repaired nothing')
  } catch (err: any) {
    t.ok(/no such file or directory/i.test(err.message), err.message)
  }
  t.same(fs.readdirSync(root), [], 'and created nothing')
  fs.rmSync(root, { recursive: true, force: true })
})

test('repair: a database that lost its MANIFEST and CURRENT comes back, logs turned into tables', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  const expected: Array<[string, string]> = []
  for (let i = 0; i < 1500; i++) expected.push([`k${String(i).padStart(5, '0')}`, `value ${i} `.repeat(10)])
  await db.batch(expected.slice(0, 1000).map(([key, value]) => ({ type: 'put' as const, key, value })))
  await db.compactRange('k', 'l')
  await db.batch(expected.slice(1000).map(([key, value]) => ({ type: 'put' as const, key, value })))
  await db.close()
  for (const f of fs.readdirSync(dir)) if (f.startsWith('MANIFEST-') || f === 'CURRENT') fs.unlinkSync(path.join(dir, f))
  const report = await RoughLevel.repair(dir)
  t.ok(report.files.length > 0, `the new MANIFEST names ${report.files.length} tables`)
  t.notOk(fs.readdirSync(dir).some((f) => f.endsWith('.log')), 'no log is left to replay: its records are in a table')
  const reopened = new RoughLevel(dir)
  t.same(await reopened.iterator().all(), expected, 'every entry is back, in order')
  await reopened.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
