// Checkpoints back to back while a writer fills memtable after memtable (a 256 KiB write buffer): the flush
// worker reads the writable memtable while it takes later writes, and the memtables a checkpoint reads stay
// pinned while flushes retire them and new memtables start (an arena recycled under the worker would show
// as wrong entries). Each checkpoint must equal an explicit snapshot taken at the same call, entry by entry.
// (The inline path, for file systems a worker cannot rebuild, is checkpoint-copy.test.ts's.)
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { prng } from '../fixtures/level-child'

const BUF = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const
const CHECKPOINTS = 24

const hex = (entries: Array<[Buffer, Buffer]>): string[] => entries.map(([k, v]) => `${k.toString('hex')}=${v.toString('hex')}`)

test('checkpoints back to back beside a writer filling 256 KiB memtables: each equals a snapshot at its call', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-checkpoint-writes-'))
  const db = new RoughLevel<Buffer, Buffer>(path.join(root, 'src'), { ...BUF, writeBufferSize: 256 * 1024 })
  await db.open()
  const random = prng(7)
  let round = 0
  const batch = async (): Promise<void> => {
    const r = round++
    await db.batch(Array.from({ length: 200 }, () => {
      const key = Buffer.from(`k${String(Math.floor(random() * 5000)).padStart(5, '0')}`)
      return random() < 0.1 ? { type: 'del' as const, key } : { type: 'put' as const, key, value: Buffer.from(`${r}-`.padEnd(200, 'v')) }
    }))
  }
  for (let i = 0; i < 20; i++) await batch()
  let writing = true
  const writes = (async () => { while (writing) await batch() })()

  const logs = (): number => fs.readdirSync(path.join(root, 'src')).filter((f) => f.endsWith('.log')).length
  const problems: string[] = []
  let entries = 0
  const startRound = round
  for (let i = 0; i < CHECKPOINTS; i++) {
    const dest = path.join(root, String(i))
    // Most calls land while a flush is in flight (two logs: the flushed memtable's and the writable one's),
    // so that the flush finishes, and its arena would be reused by the next memtable, while the job reads it.
    for (let wait = 0; i % 4 !== 0 && wait < 200 && logs() < 2; wait++) await new Promise((resolve) => setImmediate(resolve))
    // One synchronous step: the snapshot and the checkpoint see the same sequence.
    const snapshot = db.snapshot()
    const done = db.checkpoint(dest)
    const expected = hex(await db.iterator({ snapshot }).all())
    await snapshot.close()
    await done
    const copy = new RoughLevel<Buffer, Buffer>(dest, { ...BUF, createIfMissing: false })
    await copy.open()
    const got = hex(await copy.iterator().all())
    await copy.close()
    entries += got.length
    if (got.length !== expected.length || got.some((e, j) => e !== expected[j])) {
      problems.push(`checkpoint ${i}: ${got.length} entries, the snapshot ${expected.length}; first difference at ${got.findIndex((e, j) => e !== expected[j])}`)
    }
    fs.rmSync(dest, { recursive: true, force: true })
  }
  writing = false
  await writes
  const flushes = fs.readdirSync(path.join(root, 'src')).filter((f) => f.endsWith('.ldb')).length
  await db.close()
  t.same(problems, [], `${CHECKPOINTS} checkpoints (${entries} entries in all) equal their snapshots`)
  t.ok(round - startRound > CHECKPOINTS, `the writer went on meanwhile (${round - startRound} batches of 200, ${flushes} tables in the source at the end)`)
  fs.rmSync(root, { recursive: true, force: true })
})
