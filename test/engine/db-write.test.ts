// Group commit (design.md "Group commit"): concurrent writers share one WAL append, sync writers share
// one fdatasync begun after their bytes were written, and a failed write or sync fails its writers and
// every later write with LEVEL_IO_ERROR.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { FaultFileSystem } from './helpers/fault-file-system'

function tempDir (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-write-'))
}

function value (db: Db, key: string): string | undefined {
  return db.get(key, db.lastSequence) ? Buffer.from(db.valueBuf.subarray(db.valueOff, db.valueOff + db.valueLen)).toString('utf8') : undefined
}

const isIoError = (err: any): boolean => err?.code === 'LEVEL_IO_ERROR'

test('writes issued in one tick share one WAL append and get consecutive sequences', async (t) => {
  const dir = tempDir()
  const fsys = new FaultFileSystem()
  const db = await Db.open(dir, { fs: fsys })
  const before = fsys.appends
  const writes: Array<Promise<void>> = []
  for (let i = 0; i < 200; i++) writes.push(db.put(`key${i}`, `value${i}`))
  writes.push(db.write((b) => { b.put('batch-a', '1'); b.del('key7') }))
  await Promise.all(writes)
  t.is(fsys.appends - before, 1, 'one append for 201 writes')
  t.is(db.lastSequence, 202, 'one sequence number per record')
  t.is(value(db, 'key199'), 'value199', 'last put visible')
  t.is(value(db, 'batch-a'), '1', 'batch visible')
  t.is(value(db, 'key7'), undefined, 'a delete later in the group wins over the earlier put')
  await db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('sync writers in one group share one fdatasync; later ones wait for the next', async (t) => {
  const dir = tempDir()
  const fsys = new FaultFileSystem()
  const db = await Db.open(dir, { fs: fsys })
  fsys.holdSyncs = true
  const settled: string[] = []
  const first = Array.from({ length: 50 }, (_, i) => db.put(`a${i}`, 'x', true).then(() => { settled.push('a') }))
  const plain = db.put('plain', 'x').then(() => { settled.push('plain') })
  await plain
  t.same(settled, ['plain'], 'a non-sync writer in the same group resolves once written, before the sync')
  t.is(fsys.heldSyncs, 1, 'one fdatasync began for the first group')
  // Written while that sync is in flight: must not be acknowledged by it.
  const second = Array.from({ length: 50 }, (_, i) => db.put(`b${i}`, 'x', true).then(() => { settled.push('b') }))
  await new Promise((resolve) => setImmediate(resolve))
  t.is(fsys.heldSyncs, 1, 'no second fdatasync while the first runs')
  fsys.release()
  await Promise.all(first)
  t.is(settled.filter((s) => s === 'b').length, 0, 'the second group is not acknowledged by the first sync')
  await new Promise((resolve) => setImmediate(resolve))
  t.is(fsys.heldSyncs, 1, 'the second group gets its own fdatasync, begun after the first ended')
  fsys.release()
  await Promise.all(second)
  t.is(fsys.syncs, 2, 'two fdatasyncs for 100 sync writers')
  await db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a failed WAL write rejects its group, hides its data, and fails every later write', async (t) => {
  const dir = tempDir()
  const fsys = new FaultFileSystem()
  const db = await Db.open(dir, { fs: fsys })
  await db.put('before', '1')
  fsys.failAppends = true
  const results = await Promise.allSettled([db.put('lost', '1'), db.put('lost2', '2', true)])
  t.ok(results.every((r) => r.status === 'rejected' && isIoError(r.reason)), 'both writers rejected with LEVEL_IO_ERROR')
  t.is(value(db, 'lost'), undefined, 'nothing of the failed group is visible')
  t.is(value(db, 'before'), '1', 'earlier data still readable')
  fsys.failAppends = false
  t.throws(() => db.put('after', '1'), isIoError, 'later writes fail at once with LEVEL_IO_ERROR')
  await db.close()

  const reopened = await Db.open(dir)
  t.is(value(reopened, 'before'), '1', 'acknowledged data survives a reopen')
  t.is(value(reopened, 'lost'), undefined, 'the failed write did not reach the log')
  await reopened.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a failed fdatasync rejects the sync writers and fails later writes', async (t) => {
  const dir = tempDir()
  const fsys = new FaultFileSystem()
  const db = await Db.open(dir, { fs: fsys })
  fsys.failSyncs = true
  const [synced, plain] = await Promise.allSettled([db.put('s', '1', true), db.put('p', '1')])
  t.ok(synced.status === 'rejected' && isIoError(synced.reason), 'sync writer rejected with LEVEL_IO_ERROR')
  t.is(plain.status, 'fulfilled', 'the non-sync writer was acknowledged when written')
  t.throws(() => db.put('after', '1'), isIoError, 'the database is in its error state')
  await db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a batch written in parts keeps its place in line, is all or nothing, and is logged in parts', async (t) => {
  const dir = tempDir()
  const fsys = new FaultFileSystem()
  const db = await Db.open(dir, { fs: fsys, writeBufferSize: 64 * 1024 * 1024 })
  const value4k = 'v'.repeat(4096)
  // 2,000 records of 4 KiB, 100 per part: an 8 MiB log record, appended in parts.
  let part = 0
  const before = fsys.appends
  const large = db.writeInParts((b) => {
    for (let i = 0; i < 100; i++) b.put(`big${String(part * 100 + i).padStart(5, '0')}`, value4k)
    return ++part === 20
  })
  // Issued after the large batch began: committed after it, whatever the turns in between.
  const later = db.put('big00000', 'overwritten')
  await Promise.all([large, later])
  t.is(value(db, 'big00000'), 'overwritten', 'a write issued after the batch began commits after it (its value wins)')
  t.is(value(db, 'big01999'), value4k, 'the whole batch is there')
  t.ok(fsys.appends - before > 10, `the 8 MiB record went to the log in ${fsys.appends - before} appends`)

  // A fill that throws part-way: nothing of that batch is written, and the writes around it go on.
  let calls = 0
  const failing = db.writeInParts((b) => {
    b.put(`failed${calls}`, 'x')
    if (++calls === 3) throw new Error('the caller failed')
    return false
  })
  const after = db.put('after', 'y')
  await failing.then(() => t.fail('the failed batch resolved'), (err: Error) => t.is(err.message, 'the caller failed', 'the batch rejects with the fill\'s error'))
  await after
  t.is(value(db, 'failed0'), undefined, 'nothing of the failed batch is visible')
  t.is(value(db, 'after'), 'y', 'the write after it committed')
  await db.close()

  // What was acknowledged is in the log, whole: a reopen replays it.
  const again = await Db.open(dir, { fs: new FaultFileSystem() })
  t.is(value(again, 'big01999'), value4k, 'the batch written in parts is replayed from the log')
  t.is(value(again, 'big00000'), 'overwritten', 'in its place in line')
  t.is(value(again, 'failed0'), undefined, 'the failed batch left nothing in the log')
  await again.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
