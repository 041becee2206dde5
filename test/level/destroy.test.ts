// RoughLevel.destroy, as classic-level's destroy-test checks it (LevelDB's DestroyDB): argument
// validation, missing directories, LevelDB files removed and foreign files kept, and an open database
// refused.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-destroy-'))
}

test('destroy: the location must be a non-empty string', async (t) => {
  for (const bad of [undefined, null, '', {}, 1]) {
    try {
      await RoughLevel.destroy(bad as unknown as string)
      t.fail(`accepted ${String(bad)}`)
    } catch (err: any) {
      t.ok(err instanceof TypeError && err.message === "The first argument 'location' must be a non-empty string", `rejects ${JSON.stringify(bad)}`)
    }
  }
})

test('destroy: a missing directory or parent is already destroyed', async (t) => {
  const root = tempDir()
  await RoughLevel.destroy(path.join(root, 'missing'))
  await RoughLevel.destroy(path.join(root, 'missing', 'deeper'))
  t.same(fs.readdirSync(root), [], 'resolves and creates nothing')
  fs.rmSync(root, { recursive: true, force: true })
})

test('destroy: removes a database and its directory (tables, logs, MANIFEST, CURRENT, LOCK)', async (t) => {
  const root = tempDir()
  const dir = path.join(root, 'db')
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  await db.open()
  await db.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: 'v'.repeat(100) })))
  await db.compactRange('k', 'l')
  await db.put('in-the-log', 'x')
  await db.close()
  t.ok(fs.readdirSync(dir).some((f) => f.endsWith('.ldb')) && fs.readdirSync(dir).some((f) => f.endsWith('.log')), 'the database has tables and a log')
  await RoughLevel.destroy(dir)
  t.notOk(fs.existsSync(dir), 'the directory is gone')
  fs.rmSync(root, { recursive: true, force: true })
})

test('destroy: foreign files stay, and so does the directory holding them', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel(dir)
  await db.put('a', 'b')
  await db.close()
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine')
  fs.mkdirSync(path.join(dir, 'sub'))
  await RoughLevel.destroy(dir)
  t.same(fs.readdirSync(dir).sort(), ['notes.txt', 'sub'], 'only the foreign entries are left')
  t.is(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine', 'untouched')
  fs.rmSync(dir, { recursive: true, force: true })
})

test('destroy: a directory that is not a database is left as it was', async (t) => {
  const dir = tempDir()
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x')
  fs.writeFileSync(path.join(dir, 'b.json'), '{}')
  await RoughLevel.destroy(dir)
  t.same(fs.readdirSync(dir).sort(), ['a.txt', 'b.json'], 'same files, no LOCK left behind')
  fs.rmSync(dir, { recursive: true, force: true })
})

test('destroy: an open database is refused with LEVEL_LOCKED and nothing is deleted', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel(dir)
  await db.put('a', 'b')
  const before = fs.readdirSync(dir).sort()
  try {
    await RoughLevel.destroy(dir)
    t.fail('destroyed an open database')
  } catch (err: any) {
    t.is(err.code, 'LEVEL_LOCKED', 'LEVEL_LOCKED while a RoughLevel holds it')
  }
  t.same(fs.readdirSync(dir).sort(), before, 'every file is still there')
  t.is(await db.get('a'), 'b', 'and the database still works')
  await db.close()

  const classic = new ClassicLevel(dir)
  await classic.open()
  try {
    await RoughLevel.destroy(dir)
    t.fail('destroyed a database classic-level holds')
  } catch (err: any) {
    t.is(err.code, 'LEVEL_LOCKED', 'LEVEL_LOCKED while a native LevelDB holds it')
  }
  t.is(await classic.get('a'), 'b', 'classic-level still reads it')
  await classic.close()
  await RoughLevel.destroy(dir)
  t.notOk(fs.existsSync(dir), 'destroyed once closed')
})
