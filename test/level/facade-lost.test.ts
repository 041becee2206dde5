// RoughLevelClient when its server is gone (adapter/browser/client-port.ts), in Node: the server's end of a
// worker_threads MessageChannel is closed with a get, an iterator's next and a batch pending. Each rejects
// with LEVEL_CONNECTION_LOST instead of waiting forever, as does every later call; closing the client still
// works. The browser's case (a terminated worker, seen through a Web Lock) is test/browser/client-lost.test.ts.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { RoughLevelClient } from '../../adapter/browser/client'
import { serveRoughLevel } from '../../adapter/browser/server'
import type { PortLike } from '../../adapter/browser/protocol'
import { rejection } from '../fixtures/rejection'

const portLike = (port: MessagePort): PortLike => port as unknown as PortLike

test('a client whose server port closes rejects pending and later calls with LEVEL_CONNECTION_LOST', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-facade-lost-'))
  const { port1, port2 } = new MessageChannel()
  const server = serveRoughLevel(portLike(port2), dir)
  const db = new RoughLevelClient(portLike(port1))
  await db.open()
  await db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'b', value: '2' }])
  t.equal(await db.get('a'), '1', 'the connection works before')

  const iterator = db.iterator()
  // The server answers in a later turn of the event loop: closing its port in this one leaves all three pending.
  const pending = [db.get('b'), iterator.next(), db.put('c', '3')].map(rejection)
  await server.close()
  port2.close()
  t.same(await Promise.all(pending), ['LEVEL_CONNECTION_LOST', 'LEVEL_CONNECTION_LOST', 'LEVEL_CONNECTION_LOST'], 'the pending get, next and put reject')
  t.same(await Promise.all([rejection(db.get('a')), rejection(db.del('a')), rejection(db.iterator().all())]),
    ['LEVEL_CONNECTION_LOST', 'LEVEL_CONNECTION_LOST', 'LEVEL_CONNECTION_LOST'], 'later calls reject too')
  await db.close()
  t.equal(db.status, 'closed', 'the client closes (its iterators with it)')
  fs.rmSync(dir, { recursive: true, force: true })
})
