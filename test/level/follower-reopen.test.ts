// A follower's catch-up across a classic-level reopen (engine/db/read-only.ts, why a view is a prefix). The
// reopen makes a new log and a new MANIFEST whose table holds the old log's batches, switches CURRENT, then
// deletes the old log and the old MANIFEST (LevelDB db/db_impl.cc: DB::Open, RemoveObsoleteFiles). Through
// the FileSystem seam, a refresh runs that reopen (classic-level in a child, synchronously) right after one of
// its own reads: its listing of the directory, or its read of CURRENT. The old MANIFEST is put back until the
// refresh ends, as if the writer had not reached it yet: RemoveObsoleteFiles deletes in the order it lists
// the directory, so a reader may find the old log gone and the old MANIFEST still there. In every
// interleaving the refresh must see every batch, those of the old log and those written after the reopen.
// (A catch-up that read CURRENT before listing the directory read the old MANIFEST without the old log, and
// lost the batches written before the reopen.)
import test from 'tape'
import { execFileSync } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { batchKey } from '../fixtures/classic-batches'

const CHILD = path.join(__dirname, '..', 'fixtures', 'classic-batches.js')

type Call = 'listing' | 'CURRENT'

/** The real file system, running `step` once right after the next call of the kind armed. */
class InterleavingFileSystem extends PosixFileSystem {
  armed: { after: Call, step: () => void } | undefined

  override readdir (dir: string): string[] {
    const names = super.readdir(dir)
    this.#ran('listing')
    return names
  }

  override readFile (file: string): Uint8Array {
    const data = super.readFile(file)
    if (path.basename(file) === 'CURRENT') this.#ran('CURRENT')
    return data
  }

  #ran (call: Call): void {
    const armed = this.armed
    if (armed?.after !== call) return
    this.armed = undefined
    armed.step()
  }
}

/** Writes batches first .. last with classic-level in a child, opening (and closing) the database. */
function classicSession (dir: string, first: number, last: number): void {
  execFileSync(process.execPath, [CHILD, dir, String(first), String(last)], { stdio: 'inherit' })
}

function logs (dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.log'))
}

function entries (db: Db): string[] {
  const out: string[] = []
  const it = db.iterator(db.lastSequence)
  for (it.seekToFirst(); it.valid(); it.next()) {
    out.push(`${Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)).toString()}=${Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen)).toString()}`)
  }
  it.close()
  return out
}

const batches = (last: number): string[] => Array.from({ length: last }, (_, i) => `${batchKey(i + 1)}=${i + 1}`)

for (const after of ['listing', 'CURRENT'] as const) {
  test(`a refresh across a classic-level reopen that runs right after its ${after === 'listing' ? 'listing of the directory' : 'read of CURRENT'} sees the old log's batches and the new ones`, async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-follower-reopen-'))
    const dir = path.join(root, 'db')
    const fsys = new InterleavingFileSystem()
    classicSession(dir, 1, 100)
    const reader = await Db.open(dir, { readOnly: true, fs: fsys })
    try {
      t.same(entries(reader), batches(100), 'the open reads the 100 batches of the log')
      const oldLogs = logs(dir)
      const oldManifest = path.join(dir, fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1').trim())
      const kept = path.join(root, 'kept-manifest')
      let manifestDeleted = false
      fsys.armed = {
        after,
        step: () => {
          fs.linkSync(oldManifest, kept)
          classicSession(dir, 101, 150)
          manifestDeleted = !fs.existsSync(oldManifest)
          if (manifestDeleted) fs.linkSync(kept, oldManifest)
          fs.unlinkSync(kept)
        }
      }
      t.is(await reader.refresh(), true, 'the refresh sees something new')
      t.is(fsys.armed, undefined, 'the reopen ran inside it')
      t.ok(manifestDeleted && oldLogs.every((f) => !fs.existsSync(path.join(dir, f))), `the reopen deleted the old log (${oldLogs.join(', ')}) and the old MANIFEST`)
      t.same(entries(reader), batches(150), 'and the reader holds every batch: the old log\'s, now in a table, and the 50 after the reopen')
      fs.unlinkSync(oldManifest)
      await reader.refresh()
      t.same(entries(reader), batches(150), 'as it does after the old MANIFEST is gone')
    } finally {
      await reader.close()
      fs.rmSync(root, { recursive: true, force: true })
    }
  })
}
