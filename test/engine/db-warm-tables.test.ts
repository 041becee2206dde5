// Tables a flush or compaction installs are opened into the main thread's table cache soon after, a table per
// turn of the event loop (engine/db/db.ts, #warmTables), so that no get has to open several at once, and
// from what the worker that built them kept (engine/table/table-parts.ts): the open reads nothing. The
// expectation: the live tables named by the MANIFEST ('leveldb.sstables') against the tables the main
// thread's FileSystem was asked to open, and the reads made of them, with no get made at all.
import test from 'tape'
import crypto = require('node:crypto')
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import type { RandomAccessFile } from '../../engine/fs/file-system'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-warm-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

/** Records the table numbers this (main-thread) FileSystem opened for reading, and the reads of each. */
class RecordingFileSystem extends PosixFileSystem {
  readonly opened = new Set<number>()
  readonly reads = new Map<number, number>()
  override openRandomAccess (p: string): RandomAccessFile {
    const file = super.openRandomAccess(p)
    const m = /(\d+)\.(ldb|sst)$/.exec(p)
    if (m === null) return file
    const number = Number(m[1])
    this.opened.add(number)
    const reads = this.reads
    return {
      path: file.path,
      read (buf, offset, length, position) {
        reads.set(number, (reads.get(number) ?? 0) + 1)
        return file.read(buf, offset, length, position)
      },
      size: () => file.size(),
      close: () => file.close()
    }
  }
}

function liveTables (db: Db): number[] {
  const listing = db.getProperty('leveldb.sstables') ?? ''
  return [...listing.matchAll(/^ (\d+):/gm)].map((m) => Number(m[1])).sort((a, b) => a - b)
}

const turns = async (n: number): Promise<void> => { for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve)) }

test('new tables from flushes and compactions are opened by the main thread without a read', async (t) => {
  const fsys = new RecordingFileSystem()
  const db = await Db.open(path.join(root, 'db'), { fs: fsys, writeBufferSize: 64 * 1024 })
  const pool = crypto.randomBytes(1 << 16) // values that do not compress, so that compactRange writes several tables
  for (let i = 0; i < 24000; i++) {
    await db.put(Buffer.from(`key-${String((i * 7919) % 24000).padStart(6, '0')}`), pool.subarray(i % 60000, i % 60000 + 200))
  }
  await db.flush()
  await turns(200)
  let live = liveTables(db)
  t.ok(live.length >= 2, `after the writes' flushes and compactions: ${live.length} live tables`)
  t.same(live.filter((n) => !fsys.opened.has(n)), [], 'every live table is open in the main thread\'s table cache')
  t.same(live.filter((n) => fsys.reads.has(n)), [], 'and was opened without a read (from its builder\'s parts)')
  await db.compactRange() // every table rewritten by compactions, on the worker
  await turns(200)
  live = liveTables(db)
  t.ok(live.length >= 2, `after compactRange: ${live.length} live tables`)
  t.same(live.filter((n) => !fsys.opened.has(n)), [], 'every live table is open in the main thread\'s table cache')
  t.same(live.filter((n) => fsys.reads.has(n)), [], 'and was opened without a read (from its builder\'s parts)')
  // Tables opened from parts answer as tables opened from their files would: every key and its value, and
  // misses (through the filter and index handed over) for keys beside them.
  const wrong: string[] = []
  for (let i = 0; i < 24000; i += 7) {
    const key = `key-${String((i * 7919) % 24000).padStart(6, '0')}`
    const value = pool.subarray(i % 60000, i % 60000 + 200)
    if (!db.get(Buffer.from(key), db.lastSequence, true) || !value.equals(db.valueBuf.subarray(db.valueOff, db.valueOff + db.valueLen))) wrong.push(key)
    if (db.get(Buffer.from(key + 'x'), db.lastSequence, true)) wrong.push(key + 'x')
  }
  t.same(wrong, [], 'every 7th key is found with its value, and the key after it is not')
  t.ok(live.some((n) => fsys.reads.has(n)), 'the gets read data blocks of those tables')
  await db.close()
})
