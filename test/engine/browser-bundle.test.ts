// The engine in the browser build relies on no Buffer (issue 16): its bytes go through engine/util/bytes.ts,
// whose portable forms serve where Buffer is missing. Checked on the engine bundled as a user's bundler
// would (esbuild, platform browser, the package's `browser` field: test/browser/harness.ts), once as text
// and once run in a vm context that has the web platform's globals the engine uses but no Buffer and no
// process, where a database's round trip must read what a model says it wrote.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import vm = require('node:vm')
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { bundleWorker } from '../browser/harness'
import { modelEntries, roundTrip, sampleKeys, type RoundTrip } from './helpers/round-trip-workload'

/** What roundTrip() reads, from a model of what it writes. */
function expected (): Omit<RoundTrip, 'tables'> {
  const scan = modelEntries()
  const model = new Map(scan)
  return { scans: [scan, scan], gets: sampleKeys().map((key) => model.get(key) ?? null) }
}

/** Runs `code` in a fresh context with `globals` only; resolves with what its workload's roundTrip returns. */
async function runWithout (code: string, globals: Record<string, unknown>): Promise<RoundTrip> {
  const context = vm.createContext({ ...globals })
  vm.runInContext(code, context)
  // Through JSON: the context's arrays are of its own realm.
  const run = "workload.roundTrip(new workload.MemoryFileSystem(), '/db').then((r) => JSON.stringify(r))"
  const json = await vm.runInContext(run, context) as string
  return JSON.parse(json) as RoundTrip
}

/** What a dedicated worker offers that the engine uses, and not Buffer or process. */
const WEB_GLOBALS = {
  TextEncoder,
  TextDecoder,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  // browser.ts installs a MessageChannel-based setImmediate in a browser (engine/browser/globals.ts).
  setImmediate,
  queueMicrotask,
  console,
  performance,
  // Web Locks, granting every request: one database, one handle.
  navigator: { locks: { request: async (_name: string, _options: object, callback: (lock: object) => Promise<void>) => await callback({}) } }
}

const workloadEntry = path.join(__dirname, 'helpers/round-trip-workload.js')

test('the round trip reads what the model says it wrote, run in Node', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-round-trip-'))
  const got = await roundTrip(new PosixFileSystem(), dir)
  fs.rmSync(dir, { recursive: true, force: true })
  const want = expected()
  t.ok(got.tables[0] > 1 && got.tables[1] > 0, `the workload flushed tables and compacted them (${got.tables.join(' -> ')})`)
  t.same(got.scans, want.scans, 'both scans, before and after the reopen')
  t.same(got.gets, want.gets, 'the gets after the reopen')
})

test('bundled for the browser, the engine opens, writes, compacts, reopens and reads where there is no Buffer', async (t) => {
  const code = await bundleWorker(workloadEntry, 'workload')
  const got = await runWithout(code, WEB_GLOBALS)
  const want = expected()
  t.ok(got.tables[0] > 1 && got.tables[1] > 0, `the workload flushed tables and compacted them (${got.tables.join(' -> ')})`)
  t.same(got.scans, want.scans, 'both scans, before and after the reopen')
  t.same(got.gets, want.gets, 'the gets after the reopen')
})

test('the engine bundled for the browser names no Buffer but to look for it', async (t) => {
  // Between them these reach every engine module the browser build loads, but globals.ts, which installs the
  // adapter's Buffer polyfill.
  const entries = ['db/db.js', 'db/repair.js', 'db/destroy.js', 'fs/opfs-file-system.js']
  const bundles = await Promise.all(entries.map(async (entry) => await bundleWorker(path.join(__dirname, '../../engine', entry))))
  const code = bundles.join('\n')
  // Buffer as code uses it (not `ArrayBuffer`, not a property such as `globalThis.Buffer`, not comments'
  // `Buffer#copy`): a member or call, or after new or instanceof.
  const uses = [...code.matchAll(/(?<![\w$.])Buffer\s*[.([]|\b(?:new|instanceof)\s+Buffer\b/g)].map((m) => code.slice(m.index - 40, m.index + 40))
  t.same(uses, [], 'no Buffer identifier in the bundle')
  t.ok(/globalThis\.Buffer/.test(code), "the one lookup, engine/util/bytes.ts's, is there (the pattern can match)")
})
