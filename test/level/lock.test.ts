// The LOCK as a classic-level user relies on it: one open handle per directory, in this process or another;
// a crashed holder does not block the next open; a ClassicLevel holding the directory keeps RoughLevel out.
import test from 'tape'
import type { Test } from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { spawn, type ChildProcess } from 'node:child_process'
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'level-child.js')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-lock-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

interface Child {
  child: ChildProcess
  /** The first line the child prints. */
  line: Promise<string>
  exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

function startChild (...args: string[]): Child {
  const child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const exit = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  const line = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
    void exit.then(({ code, signal }) => reject(new Error(`child exited (${String(code)}, ${String(signal)}) before a line: ${err}`)))
  })
  line.catch(() => {})
  return { child, line, exit }
}

async function kill (c: Child): Promise<void> {
  c.child.kill('SIGKILL')
  await c.exit
}

/** Opening a new RoughLevel on dir fails with LEVEL_DATABASE_NOT_OPEN caused by LEVEL_LOCKED. */
async function expectLocked (t: Test, location: string, label: string): Promise<void> {
  const db = new RoughLevel(location)
  try {
    await db.open()
    t.fail(`${label}: open should have failed`)
    await db.close()
  } catch (err: any) {
    t.equal(err.code, 'LEVEL_DATABASE_NOT_OPEN', `${label}: open fails with LEVEL_DATABASE_NOT_OPEN`)
    t.equal(err.cause?.code, 'LEVEL_LOCKED', `${label}: its cause is LEVEL_LOCKED`)
    t.equal(db.status, 'closed', `${label}: the handle is closed`)
  }
}

test('lock: a second RoughLevel in this process fails with LEVEL_LOCKED, and opens once the first closes', async (t) => {
  const dir = tempDir()
  const first = new RoughLevel(dir)
  await first.open()
  await first.put('a', '1')
  await expectLocked(t, dir, 'second handle')
  await expectLocked(t, path.join(dir, '..', path.basename(dir)), 'second handle through another spelling of the path')
  const link = dir + '-link'
  fs.symlinkSync(dir, link)
  await expectLocked(t, link, 'second handle through a symlink')
  t.equal(await first.get('a'), '1', 'the first handle still works')
  await first.put('b', '2')
  await first.close()

  const second = new RoughLevel(link)
  await second.open()
  t.same(await second.keys().all(), ['a', 'b'], 'the second handle opens after the first closed, with its data')
  await expectLocked(t, dir, 'third handle while the second is open')
  await second.close()
  // Open and close again and again: the lock is released every time.
  for (let i = 0; i < 3; i++) {
    const db = new RoughLevel(dir)
    await db.open()
    await db.close()
  }
  t.pass('reopened three times')
})

test('lock: a RoughLevel held by another process keeps ours out until that process is killed', async (t) => {
  const dir = tempDir()
  const holder = startChild('hold', dir)
  t.equal(await holder.line, 'open', 'the child opened the database')
  await expectLocked(t, dir, 'while the child holds it')
  await kill(holder)
  const db = new RoughLevel(dir)
  await db.open()
  t.pass('opens after the holder was killed by SIGKILL')
  t.equal(await db.get('held'), 'child', 'and reads what the child wrote with sync')
  await db.close()
})

test('lock: a second process cannot open a directory we hold', async (t) => {
  const dir = tempDir()
  const db = new RoughLevel(dir)
  await db.open()
  const other = startChild('hold', dir)
  t.equal(await other.line, 'error LEVEL_DATABASE_NOT_OPEN LEVEL_LOCKED', 'the child\'s open fails with LEVEL_LOCKED as its cause')
  t.same(await other.exit, { code: 0, signal: null }, 'and the child exits by itself')
  await db.close()
})

test('lock: with a ClassicLevel open on the directory, RoughLevel fails with LEVEL_LOCKED', async (t) => {
  const dir = tempDir()
  const c = new ClassicLevel(dir)
  await c.open()
  await c.put('k', 'classic')
  await expectLocked(t, dir, 'ClassicLevel in this process')

  // Our attempt must not have dropped LevelDB's fcntl lock (closing any descriptor of LOCK in this process
  // would): another process's ClassicLevel is still refused.
  const other = startChild('classic-try', dir)
  t.equal(await other.line, 'error LEVEL_DATABASE_NOT_OPEN LEVEL_LOCKED', 'ClassicLevel in another process is still refused')
  await other.exit
  await c.close()

  // A ClassicLevel in another process, too.
  const holder = startChild('classic-hold', dir)
  t.equal(await holder.line, 'open', 'a child opened the directory with ClassicLevel')
  await expectLocked(t, dir, 'ClassicLevel in another process')
  await kill(holder)
})
