// Issue 16's browser build, as a user's project gets it: a consumer (test/fixtures/bundler-consumer) whose
// worker imports 'rough-level' and whose page imports 'rough-level/client', by name, from the package as npm
// installs it (consumer-project.ts), bundled by webpack 5, rollup and esbuild (bundlers.ts). Each bundle must
// come with no error or warning from its bundler and import no Node built-in, and then, in headless Chromium,
// the worker's RoughLevel on OPFS and the page's RoughLevelClient through it must each read back, before and
// after a reopen, what a model of the writes says (the workload of test/engine/helpers/round-trip-workload.ts).
import test from 'tape'
import fs = require('node:fs')
import { builtinModules } from 'node:module'
import { CHROMIUM, INSTALL_HINT, openSession, type WorkerMessage } from './harness'
import { bundleWithEsbuild, bundleWithRollup, bundleWithWebpack, type Bundle, type Scope } from './bundlers'
import { makeConsumerProject } from './consumer-project'
import { DELETED_EVERY, ENTRIES, entry, modelEntries, sampleKeys } from '../engine/helpers/round-trip-workload'

/** A run takes a few seconds; this bounds a hang, so that it fails the test rather than the whole run. */
const TIMEOUT_MS = 60_000
const BATCH = 500

type Operation = { type: 'put', key: string, value: string } | { type: 'del', key: string }

/** The workload's writes as abstract-level batches: every entry, BATCH at a time, then the deletions. */
function batches (): Operation[][] {
  const out: Operation[][] = []
  for (let i = 0; i < ENTRIES; i++) {
    if (i % BATCH === 0) out.push([])
    const [key, value] = entry(i)
    out[out.length - 1].push({ type: 'put', key, value })
  }
  const deletions: Operation[] = []
  for (let i = 0; i < ENTRIES; i += DELETED_EVERY) deletions.push({ type: 'del', key: entry(i)[0] })
  return [...out, deletions]
}

/** What test/fixtures/bundler-consumer/round-trip.js reads back, from the model. */
function expected (): object {
  const entries = modelEntries()
  const model = new Map(entries)
  return { before: entries, after: entries, gets: sampleKeys().map((key) => model.get(key) ?? null), last: entries.slice(-3).reverse() }
}

const BUILTINS = new Set(builtinModules)

/** Node's built-ins that the code still requires or imports, by either name ('fs', 'node:fs'). */
function builtinImports (code: string): string[] {
  const found: string[] = []
  for (const m of code.matchAll(/(?<![\w$.])require\(\s*(["'])([^"'\n]+)\1\s*\)|\bfrom\s*(["'])([^"'\n]+)\3|\bimport\(\s*(["'])([^"'\n]+)\5\s*\)/g)) {
    const specifier = m[2] ?? m[4] ?? m[6]
    if (specifier.startsWith('node:') || BUILTINS.has(specifier)) found.push(specifier)
  }
  return found
}

interface Outcome { type: string, result?: unknown, message?: unknown }

/**
 * Runs the worker bundle in a dedicated worker (told the batches) and the page bundle on the page (through a
 * second worker of the same bundle, serving it); resolves with what each reported at its end.
 */
async function runInChromium (worker: string, page: string): Promise<{ direct: Outcome, facade: Outcome }> {
  const ends = new Map<string, (outcome: Outcome) => void>()
  const end = async (id: string): Promise<Outcome> => await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ type: 'error', message: `no end in ${TIMEOUT_MS / 1000} s` }), TIMEOUT_MS)
    ends.set(id, (outcome) => {
      clearTimeout(timer)
      resolve(outcome)
    })
  })
  const session = await openSession(worker, (message: WorkerMessage & { worker: string }) => {
    if (message.type === 'done' || message.type === 'error') ends.get(message.worker)?.(message)
  }, { pageScript: page })
  const work = { batches: batches(), sample: sampleKeys() }
  try {
    const directEnd = end('direct')
    await session.startWorker('direct')
    await session.postToWorker('direct', work)
    const direct = await directEnd
    const facadeEnd = end('page')
    await session.page.evaluate(({ batches, sample }) => {
      (globalThis as unknown as { runFacadeRoundTrip: (b: unknown, s: unknown) => void }).runFacadeRoundTrip(batches, sample)
    }, work)
    return { direct, facade: await facadeEnd }
  } finally {
    await session.close()
  }
}

const BUNDLERS: Array<[name: string, bundle: (dir: string, entry: string, scope: Scope) => Promise<Bundle>]> = [
  ['webpack 5', bundleWithWebpack],
  ['rollup', bundleWithRollup],
  ['esbuild', bundleWithEsbuild]
]

for (const [name, bundle] of BUNDLERS) {
  test(`${name} bundles a consumer's worker and page, which run in Chromium and read back what the model says`, async (t) => {
    if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
    const project = makeConsumerProject()
    try {
      const started = Date.now()
      const worker = await bundle(project.dir, 'worker.js', 'webworker')
      const page = await bundle(project.dir, 'page.js', 'web')
      t.comment(`bundled in ${((Date.now() - started) / 1000).toFixed(1)} s: worker ${worker.code.length >> 10} KiB, page ${page.code.length >> 10} KiB`)
      for (const [entry, { code, problems }] of [['worker', worker], ['page', page]] as const) {
        t.same(problems, [], `${name} bundled the ${entry} without an error or a warning`)
        t.same(builtinImports(code), [], `the ${entry}'s bundle imports no Node built-in`)
      }
      // package.json's `browser` field took: OPFS in, the POSIX file system (node:fs) out.
      t.ok(worker.code.includes('createSyncAccessHandle'), 'the worker bundle has the OPFS file system')
      t.notOk(worker.code.includes('class PosixFileSystem'), 'and not the POSIX one')
      // A bundler that fails emits nothing (webpack, esbuild): there is then nothing to run.
      if (worker.code === '' || page.code === '') return t.fail('no bundle to run')
      const ran = Date.now()
      const { direct, facade } = await runInChromium(worker.code, page.code)
      t.comment(`ran in ${((Date.now() - ran) / 1000).toFixed(1)} s`)
      t.same(direct, { type: 'done', worker: 'direct', result: expected() }, 'the worker\'s RoughLevel on OPFS read back the model, before and after a reopen')
      t.same(facade, { type: 'done', worker: 'page', result: expected() }, 'the page\'s RoughLevelClient read back the model through the worker')
    } finally {
      project.remove()
    }
  })
}
