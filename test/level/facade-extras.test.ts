// approximateSize, compactRange and getProperty through RoughLevelClient (served over a worker_threads
// MessageChannel, as in test/level/facade.test.ts) against the same calls on a RoughLevel opened directly:
// the same writes into each, then the same answers, before and after the same compactions.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { RoughLevel } from '../../index'
import { RoughLevelClient } from '../../adapter/browser/client'
import { serveRoughLevel } from '../../adapter/browser/server'
import type { PortLike } from '../../adapter/browser/protocol'
import { rejection } from '../fixtures/rejection'

const portLike = (port: MessagePort): PortLike => port as unknown as PortLike

/** Small memtables, so that the writes below make several level-0 tables. */
const OPTIONS = { writeBufferSize: 64 * 1024 }

interface Extras {
  approximateSize (start: string, end: string): Promise<number>
  compactRange (start: string, end: string): Promise<void>
  batch (operations: Array<{ type: 'put', key: string, value: string }>): Promise<void>
}

/** The same puts into either database: 4 batches of 500 keys, 200-byte values, each key once. */
async function write (db: Extras): Promise<void> {
  for (let b = 0; b < 4; b++) {
    await db.batch(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: `k${String(b * 500 + i).padStart(5, '0')}`, value: String(i % 10).repeat(200) })))
  }
}

const RANGES: Array<[string, string]> = [['k00000', 'k99999'], ['k00000', 'k00500'], ['k00700', 'k01300'], ['a', 'b'], ['k01999', 'z']]
const PROPERTIES = ['leveldb.num-files-at-level0', 'leveldb.num-files-at-level1', 'leveldb.num-files-at-level2', 'leveldb.sstables', 'rough-level.no-such-property', 'nonsense']

test('approximateSize, compactRange and getProperty through the client answer as the database itself', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-facade-extras-'))
  const direct = new RoughLevel(path.join(root, 'direct'), OPTIONS)
  const { port1, port2 } = new MessageChannel()
  serveRoughLevel(portLike(port2), path.join(root, 'served'), OPTIONS)
  const client = new RoughLevelClient(portLike(port1))
  t.same(client.supports.additionalMethods, { approximateSize: true, compactRange: true, getProperty: true }, 'the client\'s manifest names them')
  // Called while the client opens: deferred until it is open, as RoughLevel's are.
  const early = client.approximateSize('a', 'z')
  await Promise.all([direct.open(), client.open()])
  t.equal(await early, 0, 'approximateSize deferred during open: an empty database has no table bytes')

  await write(direct)
  await write(client)
  for (const db of [direct, client]) await db.compactRange('k00000', 'k99999')
  const sizes = async (db: Extras): Promise<number[]> => Promise.all(RANGES.map(([a, b]) => db.approximateSize(a, b)))
  const expected = await sizes(direct)
  t.ok(expected[0] > 0 && expected[3] === 0, `the direct database has table bytes in its key range and none outside it (${expected.join(', ')})`)
  t.same(await sizes(client), expected, 'approximateSize over each range, through the client')
  const properties = async (get: (p: string) => string | Promise<string>): Promise<string[]> => Promise.all(PROPERTIES.map(get))
  const expectedProperties = await properties((p) => direct.getProperty(p))
  t.equal(expectedProperties[0], '0', 'compactRange left no level-0 table in the direct database')
  t.same(await properties((p) => client.getProperty(p)), expectedProperties, 'getProperty of each property, through the client')

  // Key encodings are applied on the page, as for every other call.
  const asBytes = { keyEncoding: 'view' }
  const key = (s: string): Uint8Array => new TextEncoder().encode(s)
  t.equal(await client.approximateSize(key('k00700'), key('k01300'), asBytes), expected[2], 'approximateSize with keyEncoding: view')
  await client.compactRange(key('k00000'), key('k00001'), asBytes)

  await Promise.all([direct.close(), client.close()])
  t.same(await Promise.all([rejection(client.approximateSize('a', 'z')), rejection(client.compactRange('a', 'z')), rejection(client.getProperty('leveldb.stats'))]),
    ['LEVEL_DATABASE_NOT_OPEN', 'LEVEL_DATABASE_NOT_OPEN', 'LEVEL_DATABASE_NOT_OPEN'], 'after close, each rejects as RoughLevel\'s do')
  port1.close()
  fs.rmSync(root, { recursive: true, force: true })
})
