// A follower (readOnly + refresh) beside a live writer in another process, rough-level and classic-level
// holding LevelDB's lock (test/fixtures/counter-writer.ts, 64 KiB write buffer: it flushes and compacts every few dozen batches,
// deleting the tables and logs the followers read). Two followers refresh in a loop: one in this process and
// one in a child of its own (test/fixtures/follower-child.ts). After the open and every refresh each checks
// that what it sees is a whole prefix of the writer's batches (batch-atomic), never older than before
// (monotonic), and holds at least every batch acknowledged before the open or refresh began; a snapshot taken after each refresh reads
// the same after the next. An iterator and a snapshot opened early keep their view through the refreshes, while the tables under them are compacted away. When the writer
// stops, one more refresh sees every batch it acknowledged.
import test from 'tape'
import { fork, type ChildProcess } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { batchKey } from '../fixtures/counter-writer'
import { CounterWriter, prefixProblem, readSeen } from '../fixtures/counter-history'
import type { FollowerReport } from '../fixtures/follower-child'

const CHILD = path.join(__dirname, '..', 'fixtures', 'follower-child.js')
const WRITE_BUFFER = 64 * 1024
/** Refreshes of this process's follower: enough for many flushes and compactions between them. */
const MIN_REFRESHES = 150
const MIN_COMPACTED_BATCHES = 1500
const MAX_MS = 40000
/** On tmpfs an fdatasync costs nothing, so the writer flushes and compacts as fast as the CPU lets it. */
const TMP = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()

for (const kind of ['rough', 'classic']) {
  const name = kind === 'rough' ? 'rough-level' : 'classic-level (holding its lock)'
  test(`followers in this process and in another refresh beside a live ${name} writer that flushes and compacts: prefixes, batch-atomic, monotonic; early iterators keep their view; the last refresh sees every batch`, async (t) => {
    const dir = fs.mkdtempSync(path.join(TMP, 'rough-level-follower-live-'))
    const writer = new CounterWriter(kind, dir, WRITE_BUFFER)
    let db: RoughLevel | undefined
    let child: ChildProcess | undefined
    try {
      // abstract-level opens from the constructor, so the reader is made once the writer has written: an
      // open racing the writer's start legitimately sees an empty database. What the open must see is every
      // batch acknowledged before it began.
      await writer.until(() => writer.acked >= 100)
      const ackedBeforeOpen = writer.acked
      db = new RoughLevel(dir, { readOnly: true })
      child = fork(CHILD, [dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      let childReport: FollowerReport | undefined
      const childDone = new Promise<void>((resolve) => {
        child!.on('message', (m: FollowerReport) => { childReport = m; if (m.final !== undefined || m.error !== undefined) resolve() })
        child!.on('exit', () => resolve())
      })
      await db.open()
      const early = await readSeen(db)
      t.is(early.problem, undefined, `the open sees a whole prefix (batch ${early.counter})`)
      t.ok(early.counter >= ackedBeforeOpen, `holding every batch acknowledged before the open (${ackedBeforeOpen})`)
      const snapshot = db.snapshot()
      const iterator = db.iterator({ gte: 'b/', lt: 'b0' })
      const tablesEarly = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))

      const problems: string[] = []
      let refreshes = 0
      let changed = 0
      let counter = early.counter
      const started = Date.now()
      // A snapshot taken after each refresh must read the same after the next one.
      let previous = { snapshot: db.snapshot(), seen: early }
      while (Date.now() - started < MAX_MS && (refreshes < MIN_REFRESHES || counter < early.counter + MIN_COMPACTED_BATCHES)) {
        const ackedBefore = writer.acked
        if (await db.refresh()) changed++
        refreshes++
        const seen = await readSeen(db)
        if (seen.problem !== undefined) problems.push(seen.problem)
        if (seen.counter < counter) problems.push(`counter went back from ${counter} to ${seen.counter}`)
        if (seen.counter < ackedBefore) problems.push(`counter ${seen.counter} but batch ${ackedBefore} was acknowledged before the refresh`)
        const again = await readSeen(db, previous.snapshot)
        if (again.counter !== previous.seen.counter || again.problem !== undefined) problems.push(`a snapshot of batch ${previous.seen.counter} reads ${again.counter} (${again.problem ?? 'a prefix'}) after a refresh`)
        await previous.snapshot.close()
        previous = { snapshot: db.snapshot(), seen }
        counter = seen.counter
      }
      await previous.snapshot.close()
      const retries = db.getProperty('rough-level.refresh-retries')
      t.same(problems, [], `${refreshes} refreshes (${changed} saw something new, ${retries} restarts), each a whole prefix, monotonic, holding every batch acknowledged before it (the last saw ${counter})`)
      t.ok(counter >= early.counter + MIN_COMPACTED_BATCHES, `the writer wrote ${counter - early.counter} batches meanwhile`)
      const gone = tablesEarly.filter((f) => !fs.existsSync(path.join(dir, f)))
      t.ok(gone.length > 0, `and compacted away tables of the open's view (${gone.length} of ${tablesEarly.length})`)

      const atSnapshot = await readSeen(db, snapshot)
      t.same(atSnapshot, early, `the snapshot still reads the open's view (batch ${early.counter})`)
      const keys: string[] = []
      for (let e = await iterator.next(); e !== undefined; e = await iterator.next()) keys.push(e[0])
      await iterator.close()
      t.is(prefixProblem(early.counter, [], keys), undefined, `the iterator opened before the refreshes reads the open's view: b/1 .. b/${early.counter}`)
      t.is(keys.at(-1), batchKey(early.counter), 'ending at the batch the open saw')
      await snapshot.close()

      const final = await writer.stop()
      t.is(await db.refresh(), true, 'after the writer closed, a refresh sees something new')
      const end = await readSeen(db)
      t.is(end.problem, undefined, 'a whole prefix')
      t.is(end.counter, final, `and every batch the writer acknowledged (${final})`)

      if (child.connected) child.send('stop')
      await childDone
      t.is(childReport?.error, undefined, 'the follower in another process ran without error')
      t.same(childReport?.problems, [], `its ${childReport?.refreshes ?? 0} refreshes (${childReport?.changed ?? 0} saw something new) were whole prefixes, monotonic`)
      t.is(childReport?.final, final, 'and its last saw every batch')
    } finally {
      await db?.close()
      if (child !== undefined && child.exitCode === null) child.kill()
      await writer.kill()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}
