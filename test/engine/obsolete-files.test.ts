// The Db's deletion of obsolete files (engine/db/db.ts, #removeObsoleteFiles): every unlink runs on the thread
// pool (unlinkAsync), none on the main thread; a flush() or compactRange() that resolves has deleted what it
// made obsolete; close() waits for the unlinks in flight; the directory ends up holding exactly the files the
// MANIFEST names (plus the live log, MANIFEST, CURRENT, LOCK and LOG), checked against a listing of the version.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { parseFileName, FileType } from '../../engine/filename'

/** Counts the two kinds of unlink, and holds each async one back by a few ms (a slow disk). */
class UnlinkCounter extends PosixFileSystem {
  syncUnlinks = 0
  asyncUnlinks = 0
  inFlight = 0

  override unlink (file: string): void {
    this.syncUnlinks++
    super.unlink(file)
  }

  override async unlinkAsync (file: string): Promise<void> {
    this.asyncUnlinks++
    this.inFlight++
    try {
      await new Promise((resolve) => setTimeout(resolve, 5))
      await super.unlinkAsync(file)
    } finally {
      this.inFlight--
    }
  }

  override describe (): undefined {
    return undefined // compactions run inline, on this file system
  }
}

function tempDir (name: string): string {
  const dir = path.join(os.tmpdir(), `rough-obsolete-${name}-${process.pid}`)
  fs.rmSync(dir, { recursive: true, force: true })
  return dir
}

/** Table numbers in the directory. */
function tablesOnDisk (dir: string): number[] {
  return fs.readdirSync(dir).map(parseFileName).filter((p) => p?.type === FileType.Table).map((p) => p!.number).sort((a, b) => a - b)
}

test('obsolete files are unlinked on the thread pool; flush, compactRange and close wait for their unlinks', async (t) => {
  const dir = tempDir('async')
  const fsys = new UnlinkCounter()
  const db = await Db.open(dir, { fs: fsys, writeBufferSize: 64 * 1024, flushInline: true })
  const value = new Uint8Array(200).fill(7)
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 1500; i++) await db.put(`key${String((i * 7919 + round) % 3000).padStart(6, '0')}`, value)
    await db.flush()
  }
  await db.compactRange()
  t.equal(fsys.inFlight, 0, 'compactRange resolved after its unlinks ended')
  // No iterator or snapshot is open: the current version's tables are the live ones.
  const live = [...(db.getProperty('leveldb.sstables') ?? '').matchAll(/^\s*(\d+):/gm)].map((m) => Number(m[1])).sort((a, b) => a - b)
  t.ok(live.length > 0, `${live.length} live tables`)
  t.same(tablesOnDisk(dir), live, 'the directory holds exactly the tables of live versions')
  t.ok(fsys.asyncUnlinks > 5, `${fsys.asyncUnlinks} files unlinked on the thread pool`)
  t.equal(fsys.syncUnlinks, 0, 'none on the main thread')
  const logs = fs.readdirSync(dir).map(parseFileName).filter((p) => p?.type === FileType.Log)
  t.equal(logs.length, 1, 'one log left: the live one')
  await db.close()
  t.equal(fsys.inFlight, 0, 'close() resolved with no unlink in flight')

  // A stray table the MANIFEST does not name: the open deletes it without waiting; close waits for that.
  const stray = path.join(dir, '000002.ldb')
  fs.writeFileSync(stray, 'not a table')
  const before = fsys.asyncUnlinks
  const reopened = await Db.open(dir, { fs: fsys, writeBufferSize: 64 * 1024, flushInline: true })
  await reopened.close()
  t.ok(fsys.asyncUnlinks - before >= 1, `the open unlinked ${fsys.asyncUnlinks - before} files (the stray table, the replaced MANIFEST and log) on the thread pool`)
  t.equal(fsys.syncUnlinks, 0, 'still none on the main thread')
  t.equal(fsys.inFlight, 0, 'close() right after the open waited for that unlink')
  t.notOk(fs.existsSync(stray), 'the stray table is gone')
  fs.rmSync(dir, { recursive: true, force: true })
  t.end()
})
