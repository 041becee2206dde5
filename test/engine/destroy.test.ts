// destroyDb (engine/db/destroy.ts) on a file system without unlinkAsync (the browser's OPFS pool): it
// deletes one file at a time and lets the event loop turn when the main thread's slice is spent, rather than
// unlinking every file of a large database in one stretch. Each unlink here takes 2 ms (busy), so a turn is
// due after every second one (the first look at the clock after a turn opens a slice); the check counts
// unlinks between two runs of a setImmediate that schedules itself again, i.e. between two turns of the
// loop's check phase, which no load can inflate (a 1 ms timer was tried and, under a loaded suite, once
// skipped a turn: 4 unlinks between ticks).
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { destroyDb } from '../../engine/db/destroy'
import { defaultFileSystem } from '../../engine/fs/default-file-system'
import type { FileSystem } from '../../engine/fs/file-system'

const UNLINK_MS = 2

test('destroy: without unlinkAsync, files go one at a time with the event loop turning between them', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-destroy-'))
  const tables = 60
  for (let i = 1; i <= tables; i++) fs.writeFileSync(path.join(dir, `${String(i + 10).padStart(6, '0')}.ldb`), 'x')
  fs.writeFileSync(path.join(dir, '000004.log'), '')
  fs.writeFileSync(path.join(dir, 'MANIFEST-000003'), '')
  fs.writeFileSync(path.join(dir, 'CURRENT'), 'MANIFEST-000003\n')
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not the database\'s')
  const base = defaultFileSystem()
  let unlinks = 0
  const slowUnlink = (file: string): void => {
    const until = performance.now() + UNLINK_MS
    while (performance.now() < until) { /* a slow file system */ }
    base.unlink(file)
    unlinks++
  }
  const withoutAsync = new Proxy(base, {
    get (target, prop, receiver) {
      if (prop === 'unlinkAsync') return undefined
      if (prop === 'unlink') return slowUnlink
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? v.bind(target) : v
    }
  }) as FileSystem
  let unlinksAtTurn = 0
  let mostBetweenTurns = 0
  let turns = 0
  let watching = true
  const watch = (): void => {
    mostBetweenTurns = Math.max(mostBetweenTurns, unlinks - unlinksAtTurn)
    unlinksAtTurn = unlinks
    turns++
    if (watching) setImmediate(watch)
  }
  setImmediate(watch)
  await destroyDb(dir, withoutAsync)
  watching = false
  mostBetweenTurns = Math.max(mostBetweenTurns, unlinks - unlinksAtTurn)
  t.ok(unlinks >= tables + 3, `${unlinks} files unlinked through the file system`)
  t.ok(mostBetweenTurns <= 2, `at most ${mostBetweenTurns} unlinks (of ${UNLINK_MS} ms each) between two turns of the event loop (${turns} turns)`)
  t.same(fs.readdirSync(dir), ['notes.txt'], 'every file of the database is gone, and only those')
  fs.rmSync(dir, { recursive: true, force: true })
})
