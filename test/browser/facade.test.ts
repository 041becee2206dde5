// The abstract-level 3 conformance suite on the page of headless Chromium, the main thread, against
// RoughLevelClient (adapter/browser/client.ts), with every database a RoughLevel on OPFS in a worker served
// by serveRoughLevel: every assertion must pass. The page has no Buffer global: the client needs none.
import test from 'tape'
import path = require('node:path')
import fs = require('node:fs')
import { bundleWorker, CHROMIUM, INSTALL_HINT } from './harness'
import { judgeSuite, runSuite } from './suite-run'

const TIMEOUT_MS = 180_000

test('abstract-level suite in Chromium on the page, through RoughLevelClient to RoughLevel in a worker', async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const workerScript = await bundleWorker(path.join(__dirname, 'facade-worker.js'))
  const pageScript = await bundleWorker(path.join(__dirname, 'facade-page.js'))
  let bufferGlobal: boolean | undefined
  const started = Date.now()
  const run = await runSuite(workerScript, pageScript, TIMEOUT_MS, (message) => {
    if (message.type === 'ready') bufferGlobal = message.bufferGlobal === true
  })
  t.comment(`the suite ran in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  judgeSuite(t, run, TIMEOUT_MS, 4700)
  t.equal(bufferGlobal, false, 'the page had no Buffer global')
})
