import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { once } from 'node:events'
import { spawn, type ChildProcess } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { ClassicLevel } from 'classic-level'
import { acquireLock, parseProcLocks, splitDevice, type DbLock } from '../../engine/fs/lock'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'

// Compiled next to this file's directory in whichever output dir the tests were built to (dist/, dist-lock/).
const holder = path.join(__dirname, '..', 'fixtures', 'lock-holder.js')
const posix = new PosixFileSystem()

function tempDir (t: test.Test, name = 'db'): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-lock-'))
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }))
  const dir = path.join(root, name)
  fs.mkdirSync(dir)
  return dir
}

async function lockError (promise: Promise<DbLock>): Promise<{ code?: string, message: string }> {
  try {
    const lock = await promise
    await lock.release()
  } catch (err) {
    return err as { code?: string, message: string }
  }
  return { message: 'acquired' }
}

/** Starts the holder fixture in a child process; resolves its first stdout line. */
function startHolder (t: test.Test, args: string[]): { child: ChildProcess, line: Promise<string> } {
  const child = spawn(process.execPath, [holder, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const line = new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      out += chunk
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.once('exit', (code, signal) => reject(new Error(`holder exited (${String(code ?? signal)}) before reporting`)))
  })
  return { child, line }
}

async function killAndWait (child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

test('a second handle in this process is refused until the first is released', async (t) => {
  const dir = tempDir(t)
  const first = await acquireLock(dir, posix)
  t.ok(fs.existsSync(`${dir}/LOCK`), 'LOCK created')
  t.is(fs.statSync(`${dir}/LOCK`).size, 0, 'LOCK is empty, as LevelDB makes it')

  const err = await lockError(acquireLock(dir, posix))
  t.is(err.code, 'LEVEL_LOCKED')
  t.is(err.message, `IO error: lock ${dir}/LOCK: already held by process`, 'LevelDB\'s message')

  await first.release()
  await first.release()
  t.pass('release is idempotent')
  t.ok(fs.existsSync(`${dir}/LOCK`), 'LOCK stays after release')

  const again = await acquireLock(dir, posix)
  t.pass('acquired again after release')
  await again.release()
})

test('of two concurrent acquires on one directory exactly one wins', async (t) => {
  const dir = tempDir(t)
  const results = await Promise.allSettled([acquireLock(dir, posix), acquireLock(dir, posix), acquireLock(dir, posix)])
  const won = results.filter((r): r is PromiseFulfilledResult<DbLock> => r.status === 'fulfilled')
  t.is(won.length, 1, 'one winner')
  for (const r of results) {
    if (r.status === 'rejected') t.is((r.reason as { code?: string }).code, 'LEVEL_LOCKED', 'loser: LEVEL_LOCKED')
  }
  for (const w of won) await w.value.release()
})

test('an existing LOCK is kept as it is, not truncated', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(`${dir}/LOCK`, 'left by someone')
  const lock = await acquireLock(dir, posix)
  t.is(fs.readFileSync(`${dir}/LOCK`, 'utf8'), 'left by someone')
  await lock.release()
})

test('a missing directory fails with LEVEL_IO_ERROR naming LOCK', async (t) => {
  const dir = path.join(tempDir(t), 'missing')
  const err = await lockError(acquireLock(dir, posix))
  t.is(err.code, 'LEVEL_IO_ERROR')
  t.ok(err.message.startsWith(`IO error: ${dir}/LOCK: `), err.message)
})

test('databases in different directories lock independently', async (t) => {
  const a = await acquireLock(tempDir(t, 'a'), posix)
  const b = await acquireLock(tempDir(t, 'b'), posix)
  t.pass('both acquired')
  await a.release()
  await b.release()
})

test('the same directory reached through a symlink is the same lock', async (t) => {
  const dir = tempDir(t)
  const link = path.join(path.dirname(dir), 'link')
  fs.symlinkSync(dir, link)
  const lock = await acquireLock(dir, posix)
  const err = await lockError(acquireLock(link, posix))
  t.is(err.code, 'LEVEL_LOCKED')
  t.is(err.message, `IO error: lock ${link}/LOCK: already held by process`, 'message names the path given')
  await lock.release()
  const viaLink = await acquireLock(link, posix)
  t.is((await lockError(acquireLock(dir, posix))).code, 'LEVEL_LOCKED', 'and the other way round')
  await viaLink.release()
})

test('a lock held by another process refuses us until that process is killed', async (t) => {
  const dir = tempDir(t)
  const { child, line } = startHolder(t, ['hold', dir])
  t.is(await line, 'locked', 'child holds the lock')
  const err = await lockError(acquireLock(dir, posix))
  t.is(err.code, 'LEVEL_LOCKED')
  t.is(err.message, `IO error: lock ${dir}/LOCK: already held by process`)

  await killAndWait(child)
  const lock = await acquireLock(dir, posix)
  t.pass('a lock left by a dead process does not block')
  await lock.release()
})

test('a held lock does not keep its process alive', async (t) => {
  const dir = tempDir(t)
  const { child, line } = startHolder(t, ['exit', dir])
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.is(await line, 'locked', 'child took the lock and never releases it')
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('still running after 5 s'), 5000) })
  const outcome = await Promise.race([exited.then(([code, signal]) => `exit ${String(code ?? signal)}`), timeout])
  clearTimeout(timer)
  t.is(outcome, 'exit 0', 'child exits by itself with code 0')
})

test('socket-file path: a live holder refuses us, a dead one\'s file is cleaned up', async (t) => {
  // What macOS and BSD do (no abstract namespace), run here by asking for a socket directory.
  const dir = tempDir(t)
  const socketDir = tempDir(t, 'sockets')
  const own = await acquireLock(dir, posix, { socketDir })
  t.is(fs.readdirSync(socketDir).length, 1, 'one socket file')
  t.is((await lockError(acquireLock(dir, posix, { socketDir }))).code, 'LEVEL_LOCKED', 'same process refused')
  await own.release()
  t.same(fs.readdirSync(socketDir), [], 'release removes the socket file')

  const { child, line } = startHolder(t, ['hold', dir, socketDir])
  t.is(await line, 'locked', 'child holds the lock')
  const err = await lockError(acquireLock(dir, posix, { socketDir }))
  t.is(err.code, 'LEVEL_LOCKED', 'live holder: connect succeeds, refused')
  await killAndWait(child)
  t.is(fs.readdirSync(socketDir).length, 1, 'the dead holder left its socket file')
  const lock = await acquireLock(dir, posix, { socketDir })
  t.pass('stale socket file replaced')
  await lock.release()
})

test('a worker thread holding the lock refuses the main thread until it ends', async (t) => {
  const dir = tempDir(t)
  const worker = new Worker(holder, { workerData: { dir } })
  const [line] = await once(worker, 'message') as [string]
  t.is(line, 'locked', 'worker holds the lock')
  t.is((await lockError(acquireLock(dir, posix))).code, 'LEVEL_LOCKED')
  await worker.terminate()
  const lock = await acquireLock(dir, posix)
  t.pass('acquired once the worker is gone')
  await lock.release()
})

test('cluster workers exclude each other (their listen is not shared through the primary)', async (t) => {
  const dir = tempDir(t)
  const { child, line } = startHolder(t, ['cluster', dir])
  t.is(await line, 'error LEVEL_LOCKED', 'second worker refused while the first holds the lock')
  await once(child, 'exit')
})

test('a native LevelDB holding LOCK refuses us, and keeps its lock', async (t) => {
  if (process.platform !== 'linux') {
    t.comment('native detection reads /proc/locks: Linux only')
    return
  }
  const dir = tempDir(t)
  const db = new ClassicLevel(dir)
  await db.open()
  const err = await lockError(acquireLock(dir, posix))
  t.is(err.code, 'LEVEL_LOCKED')
  t.is(err.message, `IO error: lock ${dir}/LOCK: held by another process (a native LevelDB?)`)

  // The refused attempt must not have dropped classic-level's fcntl lock (closing any fd of LOCK would).
  // A second ClassicLevel here cannot tell: LevelDB refuses it from its in-process set of locked paths.
  const ino = fs.statSync(`${dir}/LOCK`, { bigint: true }).ino
  const ours = parseProcLocks(fs.readFileSync('/proc/locks', 'latin1'))
    .filter((l) => l.pid === process.pid && l.ino === ino && l.type === 'POSIX' && !l.waiting)
  t.is(ours.length, 1, 'classic-level still holds its fcntl lock on LOCK (/proc/locks)')

  await db.close()
  const lock = await acquireLock(dir, posix)
  t.pass('acquired after classic-level closed (the refused attempt released its socket)')
  await lock.release()
})

test('/proc/locks lines parse; waiters and unreadable lines are told apart', (t) => {
  const text = [
    '1: POSIX  ADVISORY  WRITE 12345 fd:01:1234567 0 EOF',
    '1: -> POSIX  ADVISORY  WRITE 12346 fd:01:1234567 0 EOF',
    '2: OFDLCK ADVISORY  READ  -1 00:28:18446744073709551615 0 EOF',
    '3: FLOCK  ADVISORY  WRITE 77 103:02:42 0 EOF',
    '4: POSIX  ADVISORY  WRITE 9 <none>:0 0 EOF',
    ''
  ].join('\n')
  t.same(parseProcLocks(text), [
    { type: 'POSIX', waiting: false, pid: 12345, major: 0xfd, minor: 1, ino: 1234567n },
    { type: 'POSIX', waiting: true, pid: 12346, major: 0xfd, minor: 1, ino: 1234567n },
    { type: 'OFDLCK', waiting: false, pid: -1, major: 0, minor: 0x28, ino: 18446744073709551615n },
    { type: 'FLOCK', waiting: false, pid: 77, major: 0x103, minor: 2, ino: 42n }
  ])
  t.end()
})

test('st_dev splits into major and minor as glibc packs them', (t) => {
  t.same(splitDevice(0xfe00n), { major: 254, minor: 0 }, '/dev/vda: 254:0')
  t.same(splitDevice(0x29n), { major: 0, minor: 41 }, 'anonymous device 0:41')
  // makedev(0x12345, 0x6789a): major bits 0..11 at 8, 12..31 at 44; minor bits 0..7 at 0, 8..31 at 20.
  const dev = ((0x12345n & 0xfffn) << 8n) | ((0x12345n & ~0xfffn) << 32n) | (0x6789an & 0xffn) | ((0x6789an & ~0xffn) << 12n)
  t.same(splitDevice(dev), { major: 0x12345, minor: 0x6789a }, 'wide major and minor')
  t.end()
})
