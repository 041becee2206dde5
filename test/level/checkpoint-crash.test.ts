// A process killed (SIGKILL) while it writes checkpoints (test/fixtures/checkpoint-child.ts, one after
// another, from a source of many tables plus a memtable of 20000 entries): the source opens afterwards with
// exactly its entries, every checkpoint the child reported done opens with the same entries, and an
// interrupted one never opens as a database (CURRENT is written last), in rough-level or classic-level.
// The kills land at spread delays after the child is ready, so that some fall inside a checkpoint, and, in
// the last rounds, at delays after its first checkpoint finished, so that some finished ones are checked however
// slow the machine (a loaded one took more than the longest delay over its first checkpoint).
import test from 'tape'
import { ClassicLevel } from 'classic-level'
import { fork } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { MEMTABLE_ENTRIES, memtableEntry } from '../fixtures/checkpoint-child'

const CHILD = path.join(__dirname, '..', 'fixtures', 'checkpoint-child.js')
/** Each round's kill: `delay` ms after the child's 'ready', or after its first finished checkpoint. */
const KILLS: Array<{ after: 'ready' | 'first done', delay: number }> = [
  ...[0, 5, 15, 40, 80, 150, 300, 600].map((delay) => ({ after: 'ready' as const, delay })),
  ...[0, 30].map((delay) => ({ after: 'first done' as const, delay }))
]
const TABLES = 60

type Entries = Array<[string, string]>

async function entriesOrError (db: RoughLevel | ClassicLevel<string, string>): Promise<Entries | string> {
  try {
    await db.open()
  } catch (err) {
    return (err as { cause?: { code?: string }, code?: string }).cause?.code ?? (err as { code?: string }).code ?? String(err)
  }
  try {
    return await db.iterator().all()
  } finally {
    await db.close()
  }
}

test('SIGKILL during checkpoints: the source intact, finished checkpoints whole, an interrupted one never opens', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-checkpoint-crash-'))
  const src = path.join(root, 'src')
  // Disjoint ranges, one flush each: one table each.
  const expected: Entries = []
  const db = new RoughLevel(src)
  await db.open()
  for (let r = 0; r < TABLES; r++) {
    const batch: Entries = Array.from({ length: 50 }, (_, k) => [`t/${String(r).padStart(3, '0')}/${String(k).padStart(3, '0')}`, `table-${r}-${k}`])
    await db.batch(batch.map(([key, value]) => ({ type: 'put' as const, key, value })))
    await db.compactRange(batch[0][0], batch[batch.length - 1][0])
    expected.push(...batch)
  }
  await db.close()
  for (let i = 0; i < MEMTABLE_ENTRIES; i++) expected.push(memtableEntry(i))
  expected.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)

  let finished = 0
  let interrupted = 0
  const problems: string[] = []
  for (const [round, { after, delay }] of KILLS.entries()) {
    const destRoot = path.join(root, `dest-${round}`)
    fs.mkdirSync(destRoot)
    const child = fork(CHILD, [src, destRoot], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const done = new Set<number>()
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await new Promise<void>((resolve) => {
      child.on('message', (m: 'ready' | { done: number }) => {
        const kill = (): void => { setTimeout(() => { child.kill('SIGKILL'); resolve() }, delay) }
        if (m === 'ready') {
          if (after === 'ready') kill()
        } else {
          done.add(m.done)
          if (after === 'first done' && done.size === 1) kill()
        }
      })
      child.once('exit', () => resolve())
    })
    await exited

    const source = await entriesOrError(new RoughLevel(src, { createIfMissing: false }))
    if (typeof source === 'string' || JSON.stringify(source) !== JSON.stringify(expected)) problems.push(`round ${round}: the source after the kill: ${typeof source === 'string' ? source : `${source.length} entries`}`)
    for (const name of fs.readdirSync(destRoot)) {
      const dest = path.join(destRoot, name)
      const complete = fs.existsSync(path.join(dest, 'CURRENT'))
      const rough = await entriesOrError(new RoughLevel(dest, { createIfMissing: false }))
      const classic = await entriesOrError(new ClassicLevel<string, string>(dest, { createIfMissing: false }))
      if (complete) {
        finished++
        if (typeof rough === 'string' || JSON.stringify(rough) !== JSON.stringify(expected)) problems.push(`round ${round}, checkpoint ${name}: rough-level ${typeof rough === 'string' ? rough : `${rough.length} entries`}`)
        if (typeof classic === 'string' || JSON.stringify(classic) !== JSON.stringify(expected)) problems.push(`round ${round}, checkpoint ${name}: classic-level ${typeof classic === 'string' ? classic : `${classic.length} entries`}`)
      } else {
        interrupted++
        if (done.has(Number(name))) problems.push(`round ${round}, checkpoint ${name}: reported done but has no CURRENT`)
        if (typeof rough !== 'string') problems.push(`round ${round}, interrupted checkpoint ${name} opens in rough-level`)
        if (typeof classic !== 'string') problems.push(`round ${round}, interrupted checkpoint ${name} opens in classic-level`)
      }
    }
  }
  t.same(problems, [], `${KILLS.length} kills: the source intact each time; ${finished} finished checkpoints hold every entry (rough-level and classic-level); ${interrupted} interrupted ones open in neither`)
  t.ok(interrupted > 0, `some kills fell inside a checkpoint (${interrupted})`)
  t.ok(finished > 0, `and some after checkpoints had finished (${finished})`)
  fs.rmSync(root, { recursive: true, force: true })
})
