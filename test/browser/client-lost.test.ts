// RoughLevelClient on the page of headless Chromium when its worker is terminated (client-port.ts): the
// server's Web Lock is freed with the worker, and every pending call (a batch, a get, an iterator's next)
// and every later one rejects with LEVEL_CONNECTION_LOST instead of waiting forever; the client still closes.
// Node's case (a MessagePort's close) is test/level/facade-lost.test.ts.
import test from 'tape'
import path = require('node:path')
import fs = require('node:fs')
import { bundleWorker, CHROMIUM, INSTALL_HINT, openSession, type WorkerMessage } from './harness'

/** A run took a few seconds here; without the fix the pending calls never settle, and this fails the test. */
const TIMEOUT_MS = 60_000

test('a client whose worker is terminated rejects pending and later calls with LEVEL_CONNECTION_LOST', async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const workerScript = await bundleWorker(path.join(__dirname, 'facade-worker.js'))
  const pageScript = await bundleWorker(path.join(__dirname, 'client-lost-page.js'))
  const messages: WorkerMessage[] = []
  let finish = (): void => {}
  const finished = new Promise<void>((resolve) => { finish = resolve })
  const session = await openSession(workerScript, (message) => {
    messages.push(message)
    if (message.type === 'done' || message.type === 'error') finish()
  }, { pageScript })
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([finished, new Promise<void>((resolve) => { timer = setTimeout(resolve, TIMEOUT_MS) })])
  } finally {
    clearTimeout(timer)
    await session.close()
  }
  const lost = 'LEVEL_CONNECTION_LOST'
  t.same(messages.filter((m) => m.type === 'error'), [], 'no error on the page or in the worker')
  const result = messages.find((m) => m.type === 'result')
  t.ok(result !== undefined, `the page finished within ${TIMEOUT_MS / 1000} s`)
  t.equal(result?.before, '1', 'the connection worked before')
  t.same(result?.pending, [lost, lost, lost], 'the pending batch, get and next reject')
  t.same(result?.later, [lost, lost, lost], 'later put, get and iterator reject')
  t.equal(result?.status, 'closed', 'the client closes')
})
