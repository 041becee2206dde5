// Runs a script in a dedicated worker of headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core: no browser is downloaded) and relays what it posts back to Node.
//
// The script is bundled by esbuild for the browser (the package resolved through its `browser` field, as
// a user's bundler would), served with a page by a small http server on 127.0.0.1 (a secure context, so
// OPFS exists), and started by the page as a Worker. Every message the worker posts goes to the page, which
// logs it as one JSON line; Node reads the page's console. The worker posts { type: 'done' } at the end,
// or { type: 'error' } from its own catch (an unhandled rejection in a worker never reaches onerror).
import http = require('node:http')
import fs = require('node:fs')
import path = require('node:path')
import type { AddressInfo } from 'node:net'
import { build } from 'esbuild'

// playwright-core's own declarations need the DOM's types, which this project does not compile against: what
// is used of it is declared here.
interface ConsoleMessage { text (): string }
export interface Page {
  on (event: 'console', listener: (msg: ConsoleMessage) => void): void
  on (event: 'pageerror', listener: (err: Error) => void): void
  goto (url: string): Promise<unknown>
  evaluate<A> (fn: (arg: A) => void, arg: A): Promise<void>
}
interface Browser {
  newPage (): Promise<Page>
  close (): Promise<void>
}
const { chromium } = require('playwright-core') as {
  chromium: { launch (options: { executablePath: string, args: string[], timeout: number }): Promise<Browser> }
}

export const CHROMIUM = process.env.ROUGH_LEVEL_CHROMIUM ?? '/usr/bin/chromium'
export const INSTALL_HINT = `no Chromium at ${CHROMIUM}: install Debian's (apt-get update && apt-get install -y chromium), as .ci/run does`

/**
 * The flags this machine needs (root, no X, no network beyond loopback). Each launch gets a fresh profile:
 * playwright makes a temporary user-data-dir of its own (it refuses --user-data-dir with launch()).
 */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']

export interface WorkerMessage {
  type: string
  [field: string]: unknown
}

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
const started = {}
window.startWorker = (id) => {
  const worker = new Worker('/worker.js?' + id)
  started[id] = worker
  worker.onmessage = (e) => console.log(JSON.stringify({ worker: id, ...e.data }))
  worker.onerror = (e) => console.log(JSON.stringify({ worker: id, type: 'error', message: 'worker onerror: ' + e.message }))
}
window.terminateWorker = (id) => { started[id].terminate(); delete started[id] }
window.postToWorker = (id, data) => started[id].postMessage(data)
</script>`
/** With a page script (served as /page.js), which logs its own JSON lines, as the facade's test does. */
const PAGE_WITH_SCRIPT = PAGE + '<script src="/page.js"></script>'

/**
 * Bundles entry (a compiled worker script under dist/) for the browser; returns the bundle's text. With
 * `globalName`, the bundle declares a global of that name holding the entry's exports.
 */
export async function bundleWorker (entry: string, globalName?: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName,
    write: false,
    logLevel: 'silent',
    // tape, which runs the suites in the worker, needs Node's stream and path: it gets the npm `events`
    // package's EventEmitter with pipe() as its Stream (test/browser/stream-stand-in.ts) and the
    // browser build's node:path stand-in. The package itself needs no alias: that is the point.
    // tape's failure report names its own folder.
    define: { __dirname: '"/"' },
    alias: { stream: path.resolve(__dirname, 'stream-stand-in.js'), path: path.resolve(__dirname, '../../engine/browser/node-path.js') }
  })
  return result.outputFiles[0].text
}

export interface Session {
  page: Page
  /** Starts a worker; its messages arrive through onMessage. */
  startWorker (id: string): Promise<void>
  terminateWorker (id: string): Promise<void>
  postToWorker (id: string, data: unknown): Promise<void>
  close (): Promise<void>
}

/**
 * Serves the page and the worker's bundle, launches Chromium with a fresh profile and opens the page.
 * `isolated` adds COOP/COEP, so that SharedArrayBuffer exists (crossOriginIsolated). `pageScript`, a bundle
 * the page runs as it loads, may start workers of its own from /worker.js.
 */
export async function openSession (workerScript: string, onMessage: (message: WorkerMessage & { worker: string }) => void, isolated = false, pageScript?: string): Promise<Session> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(INSTALL_HINT)
  const headers: Record<string, string> = isolated
    ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
    : {}
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    if (url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html', ...headers }).end(pageScript === undefined ? PAGE : PAGE_WITH_SCRIPT)
    } else if (url === '/page.js' && pageScript !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/javascript', ...headers }).end(pageScript)
    } else if (url.startsWith('/worker.js')) {
      res.writeHead(200, { 'Content-Type': 'text/javascript', ...headers }).end(workerScript)
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  let browser: Browser | undefined
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 })
    const page = await browser.newPage()
    page.on('console', (msg) => {
      const text = msg.text()
      if (!text.startsWith('{')) return
      try {
        onMessage(JSON.parse(text) as WorkerMessage & { worker: string })
      } catch {
        // Not one of ours.
      }
    })
    page.on('pageerror', (err) => onMessage({ worker: 'page', type: 'error', message: err.message }))
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    const opened = browser
    return {
      page,
      startWorker: (id) => page.evaluate((i) => { (globalThis as unknown as { startWorker: (i: string) => void }).startWorker(i) }, id),
      terminateWorker: (id) => page.evaluate((i) => { (globalThis as unknown as { terminateWorker: (i: string) => void }).terminateWorker(i) }, id),
      postToWorker: (id, data) => page.evaluate(([i, d]) => {
        (globalThis as unknown as { postToWorker: (i: unknown, d: unknown) => void }).postToWorker(i, d)
      }, [id, data] as const),
      close: async () => {
        await opened.close()
        server.close()
      }
    }
  } catch (err) {
    await browser?.close()
    server.close()
    throw err
  }
}
