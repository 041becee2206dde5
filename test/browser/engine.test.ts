// The engine's own tests that need nothing of Node (engine-files.ts) in dedicated workers of headless
// Chromium, one worker per file (engine-worker.ts), against the same compiled files run in Node, one process
// per file: each file must run the same tests, by name and in order, with the same number of assertions in
// each, and none may fail on either side.
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { bundleWorker, CHROMIUM, INSTALL_HINT, openSession, type WorkerMessage } from './harness'
import { BROWSER_FILES, NODE_ONLY } from './engine-files'
import { testRecords, type TapeEvent, type TestRecord } from './tape-events'

/** The slowest file (merging-iterator) took ~20 s here under load; a hang fails its file, not the whole run. */
const FILE_TIMEOUT_MS = 120_000
const ENGINE_TESTS = path.join(__dirname, '..', 'engine')

interface FileRun {
  tests: TestRecord[]
  /** An error thrown outside tape's assertions, or a timeout, or a run that never said it was done. */
  errors: string[]
}

/** Each file in its own worker, one after the other, in one browser. */
async function runInBrowser (names: string[]): Promise<Map<string, FileRun>> {
  const script = await bundleWorker(path.join(__dirname, 'engine-worker.js'))
  const runs = new Map<string, FileRun>()
  let events: TapeEvent[] = []
  let errors: string[] = []
  let finish = (): void => {}
  const session = await openSession(script, (message: WorkerMessage & { worker: string }) => {
    if (message.type === 'error') errors.push(String(message.message))
    else events.push(message as unknown as TapeEvent)
    if (message.type === 'done' || message.type === 'error') finish()
  })
  try {
    for (const name of names) {
      events = []
      errors = []
      let timer: NodeJS.Timeout | undefined
      await Promise.all([
        new Promise<void>((resolve) => {
          finish = resolve
          timer = setTimeout(() => {
            errors.push(`timed out after ${FILE_TIMEOUT_MS / 1000} s`)
            resolve()
          }, FILE_TIMEOUT_MS)
        }),
        session.startWorker(name)
      ])
      clearTimeout(timer)
      await session.terminateWorker(name)
      runs.set(name, { tests: testRecords(events), errors: finished(events, errors) })
    }
  } finally {
    await session.close()
  }
  return runs
}

async function runInNode (name: string): Promise<FileRun> {
  const runner = path.join(__dirname, 'engine-node-run.js')
  const { stdout } = await promisify(execFile)(process.execPath, [runner, path.join(ENGINE_TESTS, `${name}.test.js`)], { maxBuffer: 64 << 20 })
  const events = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as TapeEvent)
  return { tests: testRecords(events), errors: finished(events, []) }
}

function finished (events: TapeEvent[], errors: string[]): string[] {
  return events.some((event) => event.type === 'done') ? errors : [...errors, 'the run did not reach its end']
}

test('every engine test file is run in the browser or named as needing Node', (t) => {
  const files = fs.readdirSync(ENGINE_TESTS).filter((f) => f.endsWith('.test.js')).map((f) => f.slice(0, -'.test.js'.length)).sort()
  t.same([...BROWSER_FILES, ...Object.keys(NODE_ONLY)].sort(), files, 'the two lists together are test/engine, each file once')
  t.end()
})

test('the engine\'s tests in Chromium workers: the same tests and assertions as in Node, none failing', async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const browser = await runInBrowser(BROWSER_FILES)
  let tests = 0
  let assertions = 0
  for (const name of BROWSER_FILES) {
    const inBrowser = browser.get(name) as FileRun
    const inNode = await runInNode(name)
    for (const error of inBrowser.errors) t.comment(`${name} in the browser: ${error}`)
    t.same(inBrowser.errors, [], `${name}: no error in the browser`)
    t.same(inNode.errors, [], `${name}: no error in Node`)
    const failed = (run: FileRun): string[] => run.tests.flatMap((r) => r.failures.map((f) => `${r.name}: ${f}`))
    t.same(failed(inBrowser), [], `${name}: no failed assertion in the browser`)
    t.same(failed(inNode), [], `${name}: no failed assertion in Node`)
    const shape = (run: FileRun): string[] => run.tests.map((r) => `${r.name} (${r.assertions})`)
    t.same(shape(inBrowser), shape(inNode), `${name}: the same ${inNode.tests.length} tests with the same assertion counts`)
    t.ok(inNode.tests.length > 0, `${name}: ran tests`)
    tests += inBrowser.tests.length
    for (const r of inBrowser.tests) assertions += r.assertions
  }
  t.comment(`${BROWSER_FILES.length} files, ${tests} tests, ${assertions} assertions in the browser`)
})
