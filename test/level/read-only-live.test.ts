// Read-only opens beside a live writer in another process (test/fixtures/counter-writer.ts): rough-level,
// and classic-level holding LevelDB's lock. Each open must succeed, see a prefix of the writer's batches
// (batch n puts counter = n, k/0..k/7 = n and b/<n>: so counter = c, every k/* = c and exactly b/1..b/c),
// and at least every batch acknowledged before the open began: those with sync: true, and the others too,
// since both writers hand a batch to the operating system before acknowledging it. The writer keeps writing
// throughout. Its 64 KiB write buffer makes it flush and compact every few dozen batches, so that files the
// reader is about to open get deleted: the opens count their restarts (rough-level.open-retries), and the
// test goes on until it has seen some. At the end, a read-only open sees every batch the writer acknowledged.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { CounterWriter, readSeen, type Seen } from '../fixtures/counter-history'

const WRITE_BUFFER = 64 * 1024
const MIN_OPENS = 8
const MAX_OPENS = 300
const MAX_MS = 30000
/** On tmpfs an fdatasync costs nothing, so the writer flushes and compacts as fast as the CPU lets it. */
const TMP = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()

interface OpenSeen extends Seen {
  retries: number
}

/** Opens dir read-only and checks that it holds a whole prefix of the writer's batches. */
async function readPrefix (dir: string): Promise<OpenSeen> {
  const db = new RoughLevel(dir, { readOnly: true })
  try {
    await db.open()
  } catch (err) {
    // abstract-level's error says only that the open failed: the engine's reason is its cause.
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    throw new Error(`read-only open failed: ${cause?.code ?? ''} ${cause?.message ?? String(err)}`)
  }
  try {
    return { ...await readSeen(db), retries: Number(db.getProperty('rough-level.open-retries')) }
  } finally {
    await db.close()
  }
}

for (const kind of ['rough', 'classic']) {
  const name = kind === 'rough' ? 'rough-level' : 'classic-level (holding its lock)'
  test(`read-only opens beside a live ${name} writer that flushes and compacts: prefixes, batch-atomic, every write acknowledged before, with retries`, async (t) => {
    const dir = fs.mkdtempSync(path.join(TMP, 'rough-level-read-only-live-'))
    const writer = new CounterWriter(kind, dir, WRITE_BUFFER)
    try {
      await writer.until(() => writer.acked >= 300)
      const started = Date.now()
      const ackedAtStart = writer.acked
      let opens = 0
      let retries = 0
      let lastCounter = 0
      const problems: string[] = []
      while (opens < MAX_OPENS && Date.now() - started < MAX_MS && (opens < MIN_OPENS || retries === 0)) {
        const syncBefore = writer.syncAcked
        const ackedBefore = writer.acked
        const seen = await readPrefix(dir)
        opens++
        retries += seen.retries
        if (seen.problem !== undefined) problems.push(seen.problem)
        if (seen.counter < syncBefore) problems.push(`counter ${seen.counter} but batch ${syncBefore} was acknowledged with sync before the open`)
        if (seen.counter < ackedBefore) problems.push(`counter ${seen.counter} but batch ${ackedBefore} was acknowledged before the open`)
        lastCounter = seen.counter
      }
      t.same(problems, [], `${opens} opens, each a whole prefix of the batches holding every batch acknowledged before it (the last saw ${lastCounter})`)
      t.ok(retries > 0, `files vanished under the opens and they started again (${retries} restarts in ${opens} opens)`)
      await writer.until(() => writer.acked > Math.max(ackedAtStart, lastCounter) + 50)
      t.pass(`the writer kept writing (batch ${writer.acked} acknowledged)`)
      await writer.stop()
      const end = await readPrefix(dir)
      t.is(end.problem, undefined, 'after the writer closed: a whole prefix')
      t.is(end.counter, writer.final, `and every batch it acknowledged (${writer.final})`)
    } finally {
      await writer.kill()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}
