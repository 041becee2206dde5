// exportDatabase and importDatabase on Node's disk (test/browser/files.test.ts carries them across OPFS and
// classic-level): a closed database exported by location and imported elsewhere reads the same; the export
// leaves no directory behind; an import refuses, writing nothing, what would not be a database.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { exportDatabase, importDatabase, type DatabaseFile } from '../../adapter/database-files'
import { model, workload } from '../browser/files-workload'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-files-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

async function written (name: string): Promise<string> {
  const location = path.join(root, name)
  const db = new RoughLevel(location, { writeBufferSize: 64 * 1024 })
  const ops = workload(3, 3000)
  for (let i = 0; i < ops.length; i += 100) await db.batch(ops.slice(i, i + 100))
  await db.close()
  return location
}

test('a closed database exported by location imports elsewhere with every entry', async (t) => {
  const location = await written('source')
  const files = await exportDatabase(location)
  t.same(fs.readdirSync(root).sort(), ['source'], 'the export left no directory behind')
  await importDatabase(path.join(root, 'copy'), files)
  const db = new RoughLevel(path.join(root, 'copy'), { createIfMissing: false })
  t.same(await db.iterator().all(), model(workload(3, 3000)), 'every entry equals the model')
  await db.close()
})

test('an import refuses, writing nothing, what would not be a database', async (t) => {
  const files = await exportDatabase(await written('refusals'))
  const current = files.find((f) => f.name === 'CURRENT') as DatabaseFile
  const cases: Array<[string, DatabaseFile[]]> = [
    ['a name LevelDB does not write', [...files, { name: '../escape.ldb', bytes: new Uint8Array(1) }]],
    ['a name given twice', [...files, current]],
    ['no CURRENT', files.filter((f) => f.name !== 'CURRENT')],
    ['no MANIFEST named by CURRENT', files.filter((f) => !f.name.startsWith('MANIFEST-'))],
    ['CURRENT naming a MANIFEST another way', files.map((f) => f.name === 'CURRENT' ? { name: 'CURRENT', bytes: Buffer.from('MANIFEST-5\n') } : f)]
  ]
  for (const [what, set] of cases) {
    const target = path.join(root, 'refused')
    const err = await importDatabase(target, set).then(() => undefined, (e: unknown) => e as { code?: string })
    t.is(err?.code, 'LEVEL_INVALID_ARGUMENT', `${what}: LEVEL_INVALID_ARGUMENT`)
    t.notOk(fs.existsSync(target), `${what}: nothing written`)
  }
  const occupied = path.join(root, 'occupied')
  fs.mkdirSync(occupied)
  fs.writeFileSync(path.join(occupied, 'mine'), 'x')
  const err = await importDatabase(occupied, files).then(() => undefined, (e: unknown) => e as { code?: string })
  t.is(err?.code, 'LEVEL_INVALID_ARGUMENT', 'a directory with a file in it: LEVEL_INVALID_ARGUMENT')
  t.same(fs.readdirSync(occupied), ['mine'], 'and it is left as it was')
})
