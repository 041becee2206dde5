// Read-only opens beside a live writer in another process (test/fixtures/counter-writer.ts): rough-level,
// and classic-level holding LevelDB's lock. Each open must succeed, see a prefix of the writer's batches
// (batch n puts counter = n, k/0..k/7 = n and b/<n>: so counter = c, every k/* = c and exactly b/1..b/c),
// and at least every batch acknowledged before the open began: those with sync: true, and the others too,
// since both writers hand a batch to the operating system before acknowledging it. The writer keeps writing
// throughout. Its 64 KiB write buffer makes it flush and compact every few dozen batches, so that files the
// reader is about to open get deleted: the opens count their restarts (rough-level.open-retries), and the
// test goes on until it has seen some. At the end, a read-only open sees every batch the writer acknowledged.
import test from 'tape'
import { fork, type ChildProcess } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { batchKey, SAME_KEYS, type WriterReport } from '../fixtures/counter-writer'

const CHILD = path.join(__dirname, '..', 'fixtures', 'counter-writer.js')
const WRITE_BUFFER = 64 * 1024
const MIN_OPENS = 8
const MAX_OPENS = 300
const MAX_MS = 30000
/** On tmpfs an fdatasync costs nothing, so the writer flushes and compacts as fast as the CPU lets it. */
const TMP = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()

class Writer {
  readonly child: ChildProcess
  acked = 0
  syncAcked = 0
  final: number | undefined
  error: string | undefined
  readonly #waiters = new Set<() => void>()

  constructor (kind: string, dir: string) {
    this.child = fork(CHILD, [kind, dir, String(WRITE_BUFFER)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child.on('message', (m: WriterReport) => {
      if (m.acked !== undefined) this.acked = m.acked
      if (m.syncAcked !== undefined) this.syncAcked = m.syncAcked
      if (m.final !== undefined) this.final = m.final
      if (m.error !== undefined) this.error = m.error
      for (const w of this.#waiters) w()
    })
    this.child.on('exit', () => { for (const w of this.#waiters) w() })
  }

  /** Resolves once done() holds (checked at each report), or rejects if the writer fails or exits first. */
  async until (done: () => boolean): Promise<void> {
    while (!done()) {
      if (this.error !== undefined) throw new Error(`writer: ${this.error}`)
      if (this.child.exitCode !== null) throw new Error(`writer exited (${this.child.exitCode})`)
      await new Promise<void>((resolve) => {
        const w = (): void => { this.#waiters.delete(w); resolve() }
        this.#waiters.add(w)
      })
    }
  }
}

interface Seen {
  counter: number
  retries: number
  problem: string | undefined
}

/** Opens dir read-only and checks that it holds a whole prefix of the writer's batches. */
async function readPrefix (dir: string): Promise<Seen> {
  const db = new RoughLevel(dir, { readOnly: true })
  try {
    await db.open()
  } catch (err) {
    // abstract-level's error says only that the open failed: the engine's reason is its cause.
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    throw new Error(`read-only open failed: ${cause?.code ?? ''} ${cause?.message ?? String(err)}`)
  }
  try {
    const counter = Number(await db.get('counter') ?? '0')
    const same = await db.getMany(Array.from({ length: SAME_KEYS }, (_, k) => `k/${k}`))
    const batches = await db.keys({ gte: 'b/', lt: 'b0' }).all()
    const retries = Number(db.getProperty('rough-level.open-retries'))
    let problem: string | undefined
    const stray = same.find((v) => Number(v ?? '0') !== counter)
    if (stray !== undefined) problem = `counter ${counter} but a k/* key holds ${stray}: half a batch`
    else if (batches.length !== counter) problem = `counter ${counter} but ${batches.length} b/* keys`
    else if (counter > 0 && (batches[0] !== batchKey(1) || batches[counter - 1] !== batchKey(counter))) problem = `b/* keys ${batches[0]} .. ${batches[counter - 1]} for counter ${counter}: not a prefix`
    return { counter, retries, problem }
  } finally {
    await db.close()
  }
}

for (const kind of ['rough', 'classic']) {
  const name = kind === 'rough' ? 'rough-level' : 'classic-level (holding its lock)'
  test(`read-only opens beside a live ${name} writer that flushes and compacts: prefixes, batch-atomic, every write acknowledged before, with retries`, async (t) => {
    const dir = fs.mkdtempSync(path.join(TMP, 'rough-level-read-only-live-'))
    const writer = new Writer(kind, dir)
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
      writer.child.send('stop')
      await writer.until(() => writer.final !== undefined)
      const end = await readPrefix(dir)
      t.is(end.problem, undefined, 'after the writer closed: a whole prefix')
      t.is(end.counter, writer.final, `and every batch it acknowledged (${writer.final})`)
    } finally {
      if (writer.child.exitCode === null) writer.child.kill()
      await new Promise((resolve) => { if (writer.child.exitCode !== null) resolve(undefined); else writer.child.once('exit', resolve) })
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}
