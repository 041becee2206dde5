// Runs a script in a dedicated worker of headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core: no browser is downloaded) and relays what it posts back to Node.
//
// The script is a bundle's text: esbuild's of a compiled file under dist/ (bundleWorker: the package resolved
// through its `browser` field, as a user's bundler would), or another bundler's (test/browser/bundlers.ts).
// It is served with a page by a small http server on 127.0.0.1 (a secure context, so OPFS exists), and
// started by the page as a Worker. Every message the worker posts goes to the page, which
// logs it as one JSON line; Node reads the page's console. The worker posts { type: 'done' } at the end,
// or { type: 'error' } from its own catch (an unhandled rejection in a worker never reaches onerror).
import http = require('node:http')
import fs = require('node:fs')
import os = require('node:os')
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
/** A Browser of launch() or the BrowserContext of launchPersistentContext(): what a session uses of either. */
interface Browser {
  newPage (): Promise<Page>
  close (): Promise<void>
}
interface LaunchOptions { executablePath: string, args: string[], timeout: number }
const { chromium } = require('playwright-core') as {
  chromium: {
    launch (options: LaunchOptions): Promise<Browser>
    launchPersistentContext (userDataDir: string, options: LaunchOptions): Promise<Browser>
  }
}

export const CHROMIUM = process.env.ROUGH_LEVEL_CHROMIUM ?? '/usr/bin/chromium'
export const INSTALL_HINT = `no Chromium at ${CHROMIUM}: install Debian's (apt-get update && apt-get install -y chromium), as .ci/run does`

/**
 * The flags this machine needs (root, no X, no network beyond loopback). Each launch gets a fresh profile:
 * playwright makes a temporary user-data-dir of its own (it refuses --user-data-dir with launch()), or, on
 * disk, openSession makes one.
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

export interface SessionOptions {
  /** Adds COOP/COEP, so that SharedArrayBuffer exists (crossOriginIsolated). */
  isolated?: boolean
  /** A bundle the page runs as it loads (served as /page.js); it may start workers of its own from /worker.js. */
  pageScript?: string
  /**
   * Storage on disk, in a profile directory of the session's own (Session.profileDir, removed by close()).
   * Without it the page lives in launch()'s default context, which is off the record: OPFS and IndexedDB are
   * then kept in memory, and neither durability nor speed on them says anything about a disk.
   */
  onDisk?: boolean
  /**
   * Storage on disk in this profile directory, which the caller owns (close() keeps it): a later session on
   * the same directory and port (the origin's) finds what an earlier one left, as a browser restarted after a
   * crash does.
   */
  profileDir?: string
  /** The port to serve the page on (default: any free one); storage belongs to an origin, port included. */
  port?: number
}

export interface Session {
  page: Page
  port: number
  /** The profile directory (on disk only): OPFS is under Default/File System, IndexedDB under Default/IndexedDB. */
  profileDir: string | undefined
  /**
   * Kills every process of this browser at once (SIGKILL; on disk only, found by the profile directory in
   * their command lines): a browser crash, with nothing saved on the way out. The session is then closed.
   */
  crash (): Promise<void>
  /** Starts a worker; its messages arrive through onMessage. */
  startWorker (id: string): Promise<void>
  terminateWorker (id: string): Promise<void>
  postToWorker (id: string, data: unknown): Promise<void>
  close (): Promise<void>
}

/** The ids of the processes whose command line names profileDir: every process of the browser using it. */
function processesOf (profileDir: string): number[] {
  const pids: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(profileDir)) pids.push(Number(name))
    } catch {
      // Exited meanwhile.
    }
  }
  return pids
}

/**
 * Serves the page and the worker's bundle (any bundler's, as text), launches Chromium with a fresh profile and
 * opens the page.
 */
export async function openSession (workerScript: string, onMessage: (message: WorkerMessage & { worker: string }) => void, options: SessionOptions = {}): Promise<Session> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(INSTALL_HINT)
  const { isolated = false, pageScript, onDisk = false } = options
  const owned = onDisk && options.profileDir === undefined
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
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const profileDir = owned ? fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-chromium-')) : options.profileDir
  const removeProfile = (): void => { if (owned && profileDir !== undefined) fs.rmSync(profileDir, { recursive: true, force: true }) }
  let browser: Browser | undefined
  try {
    const launch: LaunchOptions = { executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 }
    browser = profileDir === undefined ? await chromium.launch(launch) : await chromium.launchPersistentContext(profileDir, launch)
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
    const port = (server.address() as AddressInfo).port
    await page.goto(`http://127.0.0.1:${port}/`)
    const opened = browser
    return {
      page,
      port,
      profileDir,
      startWorker: (id) => page.evaluate((i) => { (globalThis as unknown as { startWorker: (i: string) => void }).startWorker(i) }, id),
      terminateWorker: (id) => page.evaluate((i) => { (globalThis as unknown as { terminateWorker: (i: string) => void }).terminateWorker(i) }, id),
      postToWorker: (id, data) => page.evaluate(([i, d]) => {
        (globalThis as unknown as { postToWorker: (i: unknown, d: unknown) => void }).postToWorker(i, d)
      }, [id, data] as const),
      crash: async () => {
        if (profileDir === undefined) throw new Error('crash() needs a session on disk')
        for (const pid of processesOf(profileDir)) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // Gone already: a child that died with its parent.
          }
        }
        // Playwright sees its browser gone; closing what is left of the context may fail.
        await opened.close().catch(() => {})
        server.close()
        removeProfile()
      },
      close: async () => {
        await opened.close()
        server.close()
        removeProfile()
      }
    }
  } catch (err) {
    await browser?.close()
    server.close()
    removeProfile()
    throw err
  }
}
