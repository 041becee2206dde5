// The page side of client-lost.test.ts: a RoughLevelClient whose worker (facade-worker.ts) is terminated
// with a batch, a get and an iterator's next pending. Posts { type: 'result', ... } with the code each call
// rejected with ('resolved' if it did not), then { type: 'done' }.
import { RoughLevelClient } from '../../adapter/browser/client'
import type { PortLike } from '../../adapter/browser/protocol'
import { rejection } from '../fixtures/rejection'

interface PageWorker {
  postMessage (message: unknown, transfer: unknown[]): void
  terminate (): void
}
interface PageScope {
  Worker: new (url: string) => PageWorker
  MessageChannel: new () => { port1: PortLike, port2: PortLike }
}
const page = globalThis as unknown as PageScope

const log = (message: object): void => console.log(JSON.stringify({ worker: 'page', ...message }))

async function main (): Promise<void> {
  const worker = new page.Worker('/worker.js?lost')
  const channel = new page.MessageChannel()
  worker.postMessage({ location: '/lost/db', port: channel.port2 }, [channel.port2])
  const db = new RoughLevelClient(channel.port1)
  await db.open()
  await db.put('a', '1')
  const before = await db.get('a')

  // The worker takes the batch first, a long synchronous stretch (50,000 entries), so the get and the
  // iterator's next wait behind it: the worker is terminated in this same task, before it can answer either.
  const value = 'v'.repeat(100)
  const batch = db.batch(Array.from({ length: 50_000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value })))
  const get = db.get('a')
  const iterator = db.iterator()
  const next = iterator.next()
  worker.terminate()
  const pending = await Promise.all([batch, get, next].map(rejection))
  const later = await Promise.all([rejection(db.put('b', '2')), rejection(db.get('a')), rejection(db.iterator().all())])
  await db.close()
  log({ type: 'result', before, pending, later, status: db.status })
}

main().then(() => log({ type: 'done' }), (err: unknown) => log({ type: 'error', message: String(err) }))
