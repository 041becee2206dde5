// The page side of facade.test.ts: the abstract-level 3 suite on the main thread against RoughLevelClient,
// each database served by the worker (facade-worker.ts) over its own MessageChannel. Lines reach Node as
// JSON on the console (harness.ts).
import { RoughLevelClient } from '../../adapter/browser/client'
import type { PortLike } from '../../adapter/browser/protocol'
import { runAbstractLevelSuite } from './browser-suite'

/** The page's Worker (the project compiles against Node's types, which have none). */
interface PageWorker {
  postMessage (message: unknown, transfer: unknown[]): void
  onmessage: ((event: { data: Record<string, unknown> }) => void) | null
}
interface PageScope {
  Worker: new (url: string) => PageWorker
  MessageChannel: new () => { port1: PortLike, port2: PortLike }
  addEventListener (type: 'unhandledrejection', listener: (event: { reason: unknown }) => void): void
}
const page = globalThis as unknown as PageScope

const log = (message: object): void => console.log(JSON.stringify({ worker: 'page', ...message }))
page.addEventListener('unhandledrejection', (event) => log({ type: 'error', message: String(event.reason) }))

const worker = new page.Worker('/worker.js?facade')
// The worker posts only its errors (worker-scope.ts).
worker.onmessage = (event) => log({ ...event.data, type: 'error', message: `worker: ${String(event.data.message)}` })

log({ type: 'ready', bufferGlobal: typeof (globalThis as { Buffer?: unknown }).Buffer !== 'undefined' })
let n = 0
runAbstractLevelSuite((options?: object) => {
  const channel = new page.MessageChannel()
  worker.postMessage({ location: `/facade/${n++}`, port: channel.port2 }, [channel.port2])
  return new RoughLevelClient(channel.port1, options)
}, log, () => worker.onmessage = null)
