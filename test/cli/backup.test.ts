// rough-level backup <dir> <dest> as a child process: of a database no process has open (its live log
// included), and of one a classic-level in this process holds open and keeps writing; each backup opens in
// rough-level and classic-level with exactly the entries written before it began, and the source is
// unchanged. A destination that is not empty is refused.
import test from 'tape'
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'
import { snapshotDir } from '../fixtures/dir-snapshot'
import { removeDir, runCli, tempDir } from './run-cli'

type Entries = Array<[string, string]>

async function entriesOf (db: RoughLevel | ClassicLevel<string, string>): Promise<Entries> {
  await db.open()
  try {
    return await db.iterator().all()
  } finally {
    await db.close()
  }
}

const put = (from: number, count: number, tag: string): Array<{ type: 'put', key: string, value: string }> =>
  Array.from({ length: count }, (_, k) => ({ type: 'put', key: `k${String(from + k).padStart(8, '0')}`, value: `${tag}-${from + k}` }))

test('cli backup: of a closed database (its live log too) and of one classic-level holds open and keeps writing; each opens in rough-level and classic-level with what was written before', async (t) => {
  const root = tempDir('backup')
  const dir = path.join(root, 'db')
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  for (let r = 0; r < 10; r++) await db.batch(put(r * 300, 300, 'table'))
  await db.batch(put(100, 50, 'log'))
  await db.close()
  const before = snapshotDir(dir)
  // Read-only: a writable open would turn the live log into a table.
  const expected = await entriesOf(new RoughLevel(dir, { readOnly: true }))
  t.same(snapshotDir(dir), before, 'reading the expectation read-only changed nothing')

  const closed = await runCli(['backup', dir, path.join(root, 'closed')])
  t.is(closed.status, 0, `backup of a closed database: ${closed.stdout.trim()}${closed.stderr}`)
  t.ok(/the live logs as one table/.test(closed.stdout), 'what its live log holds was written as a table')
  t.same(snapshotDir(dir), before, 'the source is unchanged, byte for byte')
  t.same(await entriesOf(new RoughLevel(path.join(root, 'closed'), { createIfMissing: false })), expected, 'the backup opens in rough-level with every entry, the log\'s included')
  t.same(await entriesOf(new ClassicLevel(path.join(root, 'closed'), { createIfMissing: false })), expected, 'and in classic-level')

  const live = new ClassicLevel<string, string>(dir, { writeBufferSize: 64 * 1024 })
  await live.open()
  await live.batch(put(5000, 200, 'classic'))
  const expectedLive = await live.iterator().all()
  let writing = true
  let written = 0
  const writes = (async () => {
    while (writing) {
      await live.batch(put(10000 + written * 20, 20, 'during'))
      written++
    }
  })()
  const during = await runCli(['backup', dir, path.join(root, 'live')])
  writing = false
  await writes
  await live.close()
  t.is(during.status, 0, `backup while classic-level holds the database and writes: ${during.stdout.trim()}${during.stderr}`)
  t.ok(written > 0, `classic-level wrote ${written} batches during the backup`)
  const got = await entriesOf(new RoughLevel(path.join(root, 'live'), { createIfMissing: false }))
  t.same(got.slice(0, expectedLive.length), expectedLive, 'the backup holds everything written before it began')
  const extra = got.slice(expectedLive.length)
  const batches = Math.floor(extra.length / 20)
  t.same(extra, put(10000, batches * 20, 'during').map(({ key, value }) => [key, value]), `and then a whole prefix of the batches written during it (${batches} of ${written})`)
  t.same(await entriesOf(new ClassicLevel(path.join(root, 'live'), { createIfMissing: false })), got, 'classic-level reads the same')

  const refused = await runCli(['backup', dir, path.join(root, 'live')])
  t.ok(refused.status !== 0 && /LEVEL_INVALID_ARGUMENT/.test(refused.stderr) && /not empty/.test(refused.stderr), `a destination that is not empty is refused: ${refused.stderr.trim()}`)
  removeDir(root)
})
