// The abstract-level 3 conformance suite against RoughLevel on OPFS, in a dedicated worker of headless
// Chromium (test/browser/suite-worker.ts): every assertion must pass, as in Node (test/level/abstract-level).
// The page is not cross-origin isolated, the harder case: no SharedArrayBuffer anywhere.
import test from 'tape'
import path = require('node:path')
import fs = require('node:fs')
import { bundleWorker, CHROMIUM, INSTALL_HINT, openSession, type WorkerMessage } from './harness'

/** The suite took ~20 s here; a hang fails the test instead of the whole run. */
const TIMEOUT_MS = 180_000

test('abstract-level suite in Chromium, RoughLevel on OPFS in a worker', async (t) => {
  // Never a silent skip: without Chromium this test fails, saying how to install it.
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const script = await bundleWorker(path.join(__dirname, 'suite-worker.js'))
  const failures: string[] = []
  const errors: string[] = []
  let passed = 0
  let inFailure = false
  let plan: number | undefined
  let isolated: boolean | undefined
  let finish!: () => void
  const finished = new Promise<void>((resolve) => { finish = resolve })
  const session = await openSession(script, (message: WorkerMessage) => {
    if (message.type === 'ready') isolated = message.crossOriginIsolated === true
    if (message.type === 'tap' && typeof message.line === 'string') for (const line of message.line.split('\n')) {
      if (line.startsWith('ok ')) {
        passed++
        inFailure = false
      } else if (line.startsWith('not ok ')) {
        failures.push(line)
        inFailure = true
      } else if (inFailure && line.startsWith('  ')) {
        // The failure's YAML block: what was expected and what came.
        failures[failures.length - 1] += '\n' + line
      }
      const planned = /^1\.\.(\d+)/.exec(line)
      if (planned !== null) plan = Number(planned[1])
    }
    if (message.type === 'error') {
      errors.push(String(message.message))
      finish()
    }
    if (message.type === 'done') finish()
  })
  let timer: NodeJS.Timeout | undefined
  try {
    await session.startWorker('suite')
    const timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), TIMEOUT_MS) })
    ])
    t.notOk(timedOut, `the suite finished within ${TIMEOUT_MS / 1000} s (${passed} assertions passed by then)`)
    for (const error of errors) t.comment(`worker error: ${error}`)
    for (const failure of failures.slice(0, 20)) t.comment(failure)
    t.same(errors.length, 0, 'no error in the worker')
    t.equal(isolated, false, 'the page was not cross-origin isolated')
    t.equal(failures.length, 0, `no failed assertion (${failures.length} failed)`)
    // As many as in Node (test/level/abstract-level.test.ts runs the same suite: 5168 assertions).
    t.equal(plan, passed + failures.length, `the suite's plan (${String(plan)}) was run to its end`)
    t.ok(passed >= 5000, `${passed} assertions passed`)
  } finally {
    clearTimeout(timer)
    await session.close()
  }
})
