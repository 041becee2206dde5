// Durability in the browser: a worker putting keys with sync: true is terminated at a random point (its
// writes crossing memtable switches, inline flushes and compactions: crash-workload.ts), then another worker
// reopens the database. Every put the writer acknowledged must be there with its value, and what is there
// must be a prefix of the puts made (no gap, nothing else). Three rounds, each appending to the last, then a
// fourth that kills the whole browser mid-write and reopens the database in a browser started anew on the same
// profile. Storage is on disk (an off-the-record profile would keep OPFS in memory, proving nothing), on a
// cross-origin isolated page (the memtable in a SharedArrayBuffer; abstract-level.test.ts covers the other).
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { bundleWorker, CHROMIUM, INSTALL_HINT, openSession, type Session, type WorkerMessage } from './harness'
import { crashKey, crashValue } from './crash-workload'

/** Rounds that terminate the writing worker; one more crashes the browser. */
const WORKER_ROUNDS = 3
const TIMEOUT_MS = 60_000

type Entry = [string, string]

test('browser: sync puts survive a terminated worker and a killed browser', async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const script = await bundleWorker(path.join(__dirname, 'crash-worker.js'))
  let acked = -1
  let contents: Entry[] | undefined
  let writing: WorkerMessage | undefined
  let flushes = 0
  let compactions = 0
  const errors: string[] = []
  let wake = (): void => {}
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-crash-'))
  let port: number | undefined
  const open = (): Promise<Session> => openSession(script, (message: WorkerMessage & { worker: string }) => {
    if (message.type === 'ack' && typeof message.i === 'number') acked = Math.max(acked, message.i)
    if (message.type === 'writing') writing = message
    if (message.type === 'contents') {
      contents = message.entries as Entry[]
      flushes += Number(message.flushes)
      compactions += Number(message.compactions)
    }
    if (message.type === 'error') errors.push(`${message.worker}: ${String(message.message)}`)
    wake()
  }, { isolated: true, profileDir, port })
  let session = await open()
  port = session.port
  /** Resolves when ready() holds, rejects after TIMEOUT_MS or on a worker's error. */
  const until = (what: string, ready: () => boolean): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TIMEOUT_MS)
    wake = () => {
      if (errors.length > 0 || ready()) {
        clearTimeout(timer)
        if (errors.length > 0) reject(new Error(errors.join('\n')))
        else resolve()
      }
    }
    wake()
  })
  try {
    let present = 0
    for (let round = 0; round <= WORKER_ROUNDS; round++) {
      const browserCrash = round === WORKER_ROUNDS
      // At least ~6 memtables of puts per round (~200 puts fill one), so that every writer flushes four
      // times and compacts before it is terminated: with as few as 100 puts a round, all three rounds could
      // end before any compaction (the check below failed so on a CI run).
      const stopAfter = present + 1200 + Math.floor(Math.random() * 800)
      acked = present - 1
      await session.startWorker(`writer${round}`)
      await session.postToWorker(`writer${round}`, { cmd: 'write', from: present })
      await until(`ack ${stopAfter}`, () => acked >= stopAfter)
      if (browserCrash) {
        await session.crash()
        session = await open()
      } else {
        await session.terminateWorker(`writer${round}`)
      }
      const seen = acked
      const how = browserCrash ? 'the browser killed' : 'the worker terminated'
      contents = undefined
      await session.startWorker(`checker${round}`)
      await session.postToWorker(`checker${round}`, { cmd: 'check' })
      await until('the reopened contents', () => contents !== undefined)
      const entries = (contents as Entry[] | undefined) ?? []
      t.ok(entries.length > seen, `round ${round}: ${how} after ack ${seen}; ${entries.length} entries after reopen`)
      const found = new Map(entries)
      let wrong = -1
      for (let i = 0; i < entries.length && wrong < 0; i++) if (found.get(crashKey(i)) !== crashValue(i)) wrong = i
      t.equal(wrong, -1, `round ${round}: the entries are puts 0..${entries.length - 1}, each with its value`)
      present = entries.length
    }
    t.same([writing?.process, writing?.sharedMemory], ['undefined', 'function'], 'the writer had no process, and shared memory (isolated page)')
    t.ok(flushes > 0 && compactions > 0, `the writers flushed (${flushes}) and compacted (${compactions}) before they were terminated`)
  } catch (err) {
    t.error(err)
  } finally {
    await session.close()
    fs.rmSync(profileDir, { recursive: true, force: true })
  }
})
