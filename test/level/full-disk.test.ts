// A full disk, as users meet it: four writers (50 KB puts and batches, default options) fill a small tmpfs
// until ENOSPC; the tmpfs is remounted larger and the database reopened. The reopen must finish (it is run
// in a child killed after a timeout) and hold every acknowledged write. Each round varies the size of the
// disk and the data, so that the disk fills at a different point: the log, a table being flushed or
// compacted, the MANIFEST. The same rounds run through the FileSystem seam's full-disk model (a capacity,
// ENOSPC past it, half an append written) where mount is refused, and always over a sweep of capacities.
// Also: four writer processes with a database each on one tmpfs (each one's deletions make room for the
// others after ENOSPC), reopened at once; and a reopen on a disk still full, which must fail with
// LEVEL_IO_ERROR (not wait), change no file, and leave every write for the reopen once there is room.
//
// Mounting needs root (CI runs as root). Every mount is unmounted when its round ends, failed or not, and
// again (lazily) when the tests finish.
import test from 'tape'
import type { Test } from 'tape'
import crypto = require('node:crypto')
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { execFileSync, spawn } from 'node:child_process'

const CHILD = path.join(__dirname, '..', 'fixtures', 'full-disk-child.js')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-full-disk-'))
const mounts = new Set<string>()
test.onFinish(() => {
  for (const mnt of mounts) unmount(mnt, true)
  fs.rmSync(root, { recursive: true, force: true })
})

/** A child that is not done in this time is taken to hang (a reopen of these databases takes well under 1 s). */
const TIMEOUT_MS = 60_000
/** Rounds per test; FULL_DISK_ROUNDS=<n> runs more (a soak). */
const ROUNDS = Number(process.env.FULL_DISK_ROUNDS ?? 4)

interface ChildRun {
  lines: string[]
  code: number | null
  /** Killed after TIMEOUT_MS. */
  hung: boolean
}

function runChild (args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString('latin1') })
    child.stderr.on('data', (d: Buffer) => { err += d.toString('latin1') })
    let hung = false
    const timer = setTimeout(() => {
      hung = true
      child.kill('SIGKILL')
    }, TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const lines = out.split('\n').filter((l) => l !== '')
      if (err !== '') lines.push(`stderr ${err.slice(0, 400)}`)
      resolve({ lines, code, hung })
    })
  })
}

/** Mounts a tmpfs of `size` at mnt; false when mount is refused (not root, no tmpfs). */
function mount (mnt: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'ignore' })
  } catch {
    return false
  }
  mounts.add(mnt)
  return true
}

/** Whether a tmpfs can be mounted here (tried on a probe named `name`); if not, says what is done instead. */
function canMount (t: Test, name: string, instead: string): boolean {
  const probe = path.join(root, name)
  fs.mkdirSync(probe)
  if (!mount(probe, '1m')) {
    t.comment(`mount refused (not root?): ${instead}`)
    return false
  }
  unmount(probe)
  return true
}

function unmount (mnt: string, lazy = false): void {
  try {
    execFileSync('umount', lazy ? ['-l', mnt] : [mnt], { stdio: 'ignore' })
    mounts.delete(mnt)
  } catch {
    // Already gone; or busy, and then the lazy unmount at the end takes it.
  }
}

/** One round: fill (through `fillArgs`), make room, reopen and check. */
async function round (t: Test, label: string, dir: string, seed: number, fillArgs: string[], makeRoom: () => void): Promise<void> {
  const fill = await runChild(fillArgs)
  const acked = fill.lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4))
  const stopped = fill.lines.find((l) => l.startsWith('stopped ')) ?? ''
  t.notOk(fill.hung, `${label}: the writers stop and close by themselves`)
  t.ok(/ENOSPC/.test(stopped), `${label}: the disk filled (${acked.length} writes acknowledged; ${stopped.slice(8, 140)})`)
  makeRoom()
  const ackFile = path.join(root, `${path.basename(dir)}.acked`)
  fs.writeFileSync(ackFile, acked.join('\n'))
  const check = await runChild(['check', dir, String(seed), ackFile])
  const opened = check.lines.find((l) => l.startsWith('opened '))
  const checked = check.lines.find((l) => l.startsWith('checked ')) ?? ''
  t.ok(opened !== undefined && !check.hung, `${label}: the reopen finishes (${opened ?? (check.hung ? `killed after ${TIMEOUT_MS} ms` : `the child ended without opening: ${check.lines.slice(-1).join('')}`)})`)
  t.equal(checked, `checked ${acked.length} missing 0 wrong 0`, `${label}: every acknowledged write is there${check.code === 0 ? '' : `: ${check.lines.slice(-2).join(' | ')}`}`)
}

/** The seam's rounds: the same writers through a FileSystem that holds `capacity` bytes. */
async function seamRound (t: Test, label: string, seed: number, capacity: number): Promise<void> {
  const dir = path.join(root, `seam-${seed}`)
  await round(t, label, dir, seed, ['fill-seam', dir, String(seed), String(capacity)], () => {})
}

test('a tmpfs filled until ENOSPC by four writers, remounted with room: the reopen finishes with every acknowledged write', async (t) => {
  if (!canMount(t, 'probe', 'the rounds run through the FileSystem seam instead')) {
    for (let r = 0; r < ROUNDS; r++) await seamRound(t, `seam round ${r}`, 1000 + r, (6 + (r % 5)) * 1024 * 1024)
    return
  }
  for (let r = 0; r < ROUNDS; r++) {
    const mnt = path.join(root, `tmpfs-${r}`)
    fs.mkdirSync(mnt)
    // 8 MiB as reported, and sizes around it: the disk fills at a different write each time.
    const size = r === 0 ? '8m' : `${6 * 1024 + ((r * 613) % (4 * 1024))}k`
    t.ok(mount(mnt, size), `round ${r}: a ${size} tmpfs`)
    try {
      const dir = path.join(mnt, 'db')
      await round(t, `round ${r} (${size})`, dir, r, ['fill', dir, String(r)], () => {
        execFileSync('mount', ['-o', 'remount,size=64m', mnt], { stdio: 'ignore' })
      })
    } finally {
      unmount(mnt)
    }
  }
})

test('four writer processes, a database each, fill one tmpfs; remounted with room, the four reopen at once, each with every acknowledged write', async (t) => {
  // The issue's "four writers" read as four processes: they share the disk, so one's deleted files (a
  // compaction's inputs, a flushed log) make room for another's writes after it met ENOSPC. Without mount,
  // each process gets the seam's disk of its own.
  const tmpfs = canMount(t, 'probe-four', 'each writer gets the FileSystem seam\'s disk of 2 MiB')
  for (let r = 0; r < Math.max(1, ROUNDS / 4); r++) {
    const mnt = path.join(root, `four-${r}`)
    fs.mkdirSync(mnt)
    if (tmpfs) t.ok(mount(mnt, r === 0 ? '8m' : `${7 * 1024 + r * 509}k`), `round ${r}: a small tmpfs`)
    try {
      const seeds = [0, 1, 2, 3].map((w) => 4000 + 10 * r + w)
      const dirs = seeds.map((seed) => path.join(mnt, `db${seed}`))
      const fills = await Promise.all(seeds.map((seed, w) => runChild(tmpfs
        ? ['fill', dirs[w], String(seed)]
        : ['fill-seam', dirs[w], String(seed), String(2 * 1024 * 1024)])))
      if (tmpfs) execFileSync('mount', ['-o', 'remount,size=64m', mnt], { stdio: 'ignore' })
      const acked = fills.map((f) => f.lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4)))
      const checks = await Promise.all(seeds.map((seed, w) => {
        const ackFile = path.join(root, `four-${r}-${w}.acked`)
        fs.writeFileSync(ackFile, acked[w].join('\n'))
        return runChild(['check', dirs[w], String(seed), ackFile])
      }))
      // A writer that starts when the others have filled the disk meets ENOSPC in its open.
      t.ok(fills.every((f) => !f.hung && f.lines.some((l) => /^(stopped|error) .*ENOSPC/.test(l))),
        `round ${r}: every writer met ENOSPC and ended (${acked.map((a) => a.length).join(', ')} writes acknowledged; ` +
        `${fills.map((f) => f.lines.find((l) => /^(stopped|error) /.test(l))?.slice(0, 60) ?? f.lines.slice(-1).join('')).join(' | ')})`)
      checks.forEach((check, w) => {
        const opened = check.lines.find((l) => l.startsWith('opened '))
        t.ok(opened !== undefined && !check.hung, `round ${r} db ${w}: the reopen finishes (${opened ?? (check.hung ? `killed after ${TIMEOUT_MS} ms` : check.lines.slice(-1).join(''))})`)
        t.equal(check.lines.find((l) => l.startsWith('checked ')), `checked ${acked[w].length} missing 0 wrong 0`, `round ${r} db ${w}: every acknowledged write is there`)
      })
    } finally {
      if (tmpfs) unmount(mnt)
    }
  }
})

/** name -> size and sha256 of every file in dir: what a failed open must leave as it was. */
function contents (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of fs.readdirSync(dir).sort()) {
    const bytes = fs.readFileSync(path.join(dir, name))
    out[name] = `${bytes.length} ${crypto.createHash('sha256').update(bytes).digest('hex')}`
  }
  return out
}

test('a reopen on a disk that is still full fails with LEVEL_IO_ERROR and changes no file; once there is room it opens with every acknowledged write', async (t) => {
  const tmpfs = canMount(t, 'probe-no-room', 'the disk with no room is the FileSystem seam\'s')
  for (let r = 0; r < Math.max(2, ROUNDS / 2); r++) {
    const mnt = path.join(root, `no-room-${r}`)
    fs.mkdirSync(mnt)
    const seed = 3000 + r
    if (tmpfs) t.ok(mount(mnt, r === 0 ? '8m' : `${5 * 1024 + r * 811}k`), `round ${r}: a small tmpfs`)
    try {
      const dir = path.join(mnt, 'db')
      const fill = await runChild(tmpfs ? ['fill', dir, String(seed)] : ['fill-seam', dir, String(seed), String((5 + r) * 1024 * 1024)])
      const acked = fill.lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4))
      t.ok(!fill.hung && fill.lines.some((l) => /^stopped .*ENOSPC/.test(l)), `round ${r}: the disk filled (${acked.length} writes acknowledged)`)
      const ackFile = path.join(root, `no-room-${r}.acked`)
      fs.writeFileSync(ackFile, acked.join('\n'))
      const before = contents(dir)
      const full = await runChild([tmpfs ? 'check' : 'check-no-room', dir, String(seed), ackFile])
      const failed = full.lines.find((l) => l.startsWith('error ')) ?? ''
      t.notOk(full.hung, `round ${r}: the reopen without room ends (${full.hung ? `killed after ${TIMEOUT_MS} ms` : full.lines.slice(-1).join('')})`)
      // Through RoughLevel the open's error is LEVEL_DATABASE_NOT_OPEN with the engine's as its cause.
      t.ok(/^error (LEVEL_DATABASE_NOT_OPEN )?LEVEL_IO_ERROR .*ENOSPC/.test(failed), `round ${r}: it fails with LEVEL_IO_ERROR naming ENOSPC (${failed.slice(0, 160)})`)
      const after = contents(dir)
      // LOCK may be created by the open (it is never deleted, and empty); nothing else may differ.
      delete after.LOCK
      delete before.LOCK
      t.same(after, before, `round ${r}: and leaves every file as it was`)
      if (tmpfs) execFileSync('mount', ['-o', 'remount,size=64m', mnt], { stdio: 'ignore' })
      const check = await runChild(['check', dir, String(seed), ackFile])
      t.equal(check.lines.find((l) => l.startsWith('checked ')), `checked ${acked.length} missing 0 wrong 0`,
        `round ${r}: with room, the reopen finds every acknowledged write${check.code === 0 ? '' : `: ${check.lines.slice(-2).join(' | ')}`}`)
    } finally {
      if (tmpfs) unmount(mnt)
    }
  }
})

test('the FileSystem seam\'s full disk at capacities from 1 to 9 MiB: the reopen finishes with every acknowledged write', async (t) => {
  const rounds = 2 * ROUNDS
  for (let r = 0; r < rounds; r++) {
    const capacity = 1024 * 1024 + Math.floor((r * 8 * 1024 * 1024) / rounds) + r * 4099
    await seamRound(t, `capacity ${capacity}`, 2000 + r, capacity)
  }
})
