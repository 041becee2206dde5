// The abstract-level 3 conformance suite against RoughLevel on OPFS, in a dedicated worker of headless
// Chromium (test/browser/suite-worker.ts): every assertion must pass, as in Node (test/level/abstract-level).
// The page is not cross-origin isolated, the harder case: no SharedArrayBuffer anywhere.
import test from 'tape'
import path = require('node:path')
import fs = require('node:fs')
import { bundleWorker, CHROMIUM, INSTALL_HINT } from './harness'
import { judgeSuite, runSuite } from './suite-run'

/** The suite took ~20 s here; a hang fails the test instead of the whole run. */
const TIMEOUT_MS = 180_000

test('abstract-level suite in Chromium, RoughLevel on OPFS in a worker', async (t) => {
  // Never a silent skip: without Chromium this test fails, saying how to install it.
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const script = await bundleWorker(path.join(__dirname, 'suite-worker.js'))
  let isolated: boolean | undefined
  const run = await runSuite(script, undefined, TIMEOUT_MS, (message) => {
    if (message.type === 'ready') isolated = message.crossOriginIsolated === true
  })
  judgeSuite(t, run, TIMEOUT_MS, 5000)
  t.equal(isolated, false, 'the page was not cross-origin isolated')
})
