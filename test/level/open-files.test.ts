// File descriptors as users limit them: a child process under `ulimit -n 64` (hard and soft: Node raises a
// lower soft limit to the hard one by itself) runs, with default options, a workload of over a hundred
// tables with flushes, compactions, twenty iterators held open on old snapshots and read together, rounds
// of writes while the rest of the process takes every descriptor it can (EMFILE from elsewhere), a
// compactRange and a reopen, checking every entry against a model; and with maxOpenFiles: 20 and an ample
// limit the database holds about 20 descriptors. A read-only open under the same limit reads a database of
// over a hundred live tables whole and follows a writer beside it (test/fixtures/read-only-files-child.ts).
// The parent counts the child's /proc/<pid>/fd throughout.
// (classic-level runs the same kind of workload in about 25 descriptors: LevelDB maps tables into memory.)
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { spawn } from 'node:child_process'
import { writeTables } from '../fixtures/read-only-files-child'

const CHILD = path.join(__dirname, '..', 'fixtures', 'open-files-child.js')
const READ_ONLY_CHILD = path.join(__dirname, '..', 'fixtures', 'read-only-files-child.js')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-open-files-'))
let dirs = 0
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

interface Report {
  ok: boolean
  error?: string
  tables?: number
  liveTables?: number
  iterators?: number
  entries?: number
  /** Descriptors open in the child right after its first open (before any worker thread started). */
  baseline?: number
  // The read-only child's (read-only-files-child.ts).
  refreshes?: number
  changed?: number
  restarted?: number
  counter?: number
  final?: number
}

interface Run {
  code: number | null
  report: Report | undefined
  stderr: string
  /** Most descriptors the child had open at once, sampled every millisecond or so. */
  peak: number
}

/** Runs the child under `ulimit -n <limit>` (bash's ulimit sets the soft and the hard limit). */
function runChild (limit: number, args: string[], script = CHILD): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    let peak = 0
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, fs.readdirSync(`/proc/${child.pid}/fd`).length)
      } catch {
        // The child has exited (or not yet exec'ed).
      }
    }, 1)
    child.on('error', reject)
    child.on('close', (code) => {
      clearInterval(sampler)
      const line = stdout.trim().split('\n').pop() ?? ''
      let report: Report | undefined
      try {
        report = JSON.parse(line) as Report
      } catch {
        report = undefined
      }
      resolve({ code, report, stderr, peak })
    })
  })
}

test('under ulimit -n 64, default options: 100+ tables, flushes, compactions, 20 open iterators, writes while the process has no descriptor to spare, and a reopen lose nothing', async (t) => {
  if (process.platform !== 'linux') {
    t.comment('descriptors are counted in /proc/<pid>/fd: Linux only')
    return
  }
  const run = await runChild(64, [path.join(root, String(dirs++)), '1', 'starve'])
  t.equal(run.report?.error, undefined, 'the child reports no error')
  t.equal(run.code, 0, `the child succeeds${run.stderr === '' ? '' : `: ${run.stderr.slice(0, 500)}`}`)
  t.ok((run.report?.tables ?? 0) >= 100, `it wrote over a hundred tables (${run.report?.tables}; ${run.report?.liveTables} live at the end of the rounds)`)
  t.equal(run.report?.iterators, 20, 'with 20 iterators open on old snapshots')
  // The kernel enforces the limit itself: the peak is reported, not asserted.
  t.comment(`peak descriptors under ulimit -n 64: ${run.peak}`)
})

test('maxOpenFiles: 20 bounds the database\'s descriptors when the process limit is ample', async (t) => {
  if (process.platform !== 'linux') {
    t.comment('descriptors are counted in /proc/<pid>/fd: Linux only')
    return
  }
  const run = await runChild(4096, [path.join(root, String(dirs++)), '2', 'calm', '20'])
  t.equal(run.report?.error, undefined, 'the child reports no error')
  t.equal(run.code, 0, 'the child succeeds')
  const baseline = run.report?.baseline ?? 0
  t.ok(baseline > 0, `the child counted its descriptors before the workload (${baseline})`)
  // The budget, plus the two worker threads' own event loops (4 each), plus at most a descriptor or two in
  // flight past the budget (a table being written or read on a thread that had none of its own to close).
  const allowed = 20 + 8 + 3
  t.ok(run.peak - baseline <= allowed, `the database held at most ${allowed} descriptors (peak ${run.peak}, ${baseline} before it opened any)`)
  t.comment(`peak descriptors with maxOpenFiles 20: ${run.peak} (${run.peak - baseline} above the baseline)`)
})

test('under ulimit -n 64, a read-only open of 100+ live tables reads every entry, and follows a writer beside it through flushes and compactions', async (t) => {
  if (process.platform !== 'linux') {
    t.comment('descriptors are counted in /proc/<pid>/fd: Linux only')
    return
  }
  const dir = path.join(root, String(dirs++))
  const tables = await writeTables(dir)
  t.ok(tables >= 100, `the writer left ${tables} live tables (over a hundred, more than the limit)`)
  const run = await runChild(64, [dir], READ_ONLY_CHILD)
  t.equal(run.report?.error, undefined, 'the child reports no error')
  t.equal(run.code, 0, `the child succeeds${run.stderr === '' ? '' : `: ${run.stderr.slice(0, 500)}`}`)
  t.ok((run.report?.entries ?? 0) > 0, `it read every table entry by getMany, getSync and an iterator (${run.report?.entries})`)
  t.ok((run.report?.changed ?? 0) > 0, `its refreshes followed the writer (${run.report?.refreshes} refreshes, ${run.report?.changed} with something new)`)
  t.ok((run.report?.final ?? 0) > 0 && run.report?.counter !== undefined, `and saw every batch the writer acknowledged (${run.report?.final})`)
  t.comment(`reads started again after a table of their view was deleted while closed: ${run.report?.restarted}`)
  t.comment(`peak descriptors of the read-only child (and its writer's pipes) under ulimit -n 64: ${run.peak}`)
})
