// The checkpoint's copy fallback (engine/db/checkpoint.ts): where a table cannot be hard-linked (another file
// system: EXDEV), it is copied. Through the FileSystem seam, a file system whose link() always fails with
// EXDEV: every table is copied (new inodes, the same bytes), and the destination opens in rough-level and
// classic-level with exactly the entries of a model of the writes, after the source is gone. The file system
// cannot be rebuilt in a worker (describe() is undefined), so the memtables' table is built on this thread:
// the inline path of file systems a worker cannot rebuild.
import test from 'tape'
import { ClassicLevel } from 'classic-level'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { Db } from '../../engine/db/db'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'

/** The real file system, but every hard link fails as one across file systems does. */
class NoLinkFileSystem extends PosixFileSystem {
  links = 0

  override link (existing: string, newPath: string): void {
    this.links++
    throw Object.assign(new Error(`EXDEV: cross-device link not permitted, link '${existing}' -> '${newPath}'`), { code: 'EXDEV' })
  }

  override describe (): undefined {
    return undefined
  }
}

const BUF = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const
const key = (k: number): string => `key${String(k).padStart(5, '0')}`

async function entries (db: RoughLevel<Buffer, Buffer> | ClassicLevel<Buffer, Buffer>): Promise<string[]> {
  await db.open()
  try {
    return (await db.iterator().all()).map(([k, v]) => `${k.toString()}=${v.toString()}`)
  } finally {
    await db.close()
  }
}

test('checkpoint where tables cannot be linked (EXDEV): every table copied, and the copy opens in rough-level and classic-level with every entry', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-checkpoint-copy-'))
  const dir = path.join(root, 'src')
  const dest = path.join(root, 'dest')
  const fsys = new NoLinkFileSystem()
  const db = await Db.open(dir, { fs: fsys, writeBufferSize: 64 * 1024 })
  const model = new Map<string, string>()
  const put = async (k: string, v: string): Promise<void> => { model.set(k, v); await db.put(Buffer.from(k), Buffer.from(v)) }
  // Tables over several levels (flushes and compactions), then overwrites and deletions left in the memtable.
  for (let r = 0; r < 6; r++) {
    for (let k = 0; k < 600; k++) await put(key((k * 7 + r * 131) % 2000), `${r}-${k}-${'v'.repeat(100)}`)
    if (r === 2) await db.compactRange()
    await db.flush()
  }
  for (let k = 0; k < 100; k++) await put(key(k * 3), `memtable-${k}`)
  for (let k = 0; k < 50; k++) {
    model.delete(key(k * 11))
    await db.del(Buffer.from(key(k * 11)))
  }
  const sourceTables = new Map(fs.readdirSync(dir).filter((f) => f.endsWith('.ldb')).map((f) => [f, fs.statSync(path.join(dir, f)).ino]))

  const report = await db.checkpoint(dest)
  await db.close()
  t.ok(sourceTables.size > 2, `the source has ${sourceTables.size} tables`)
  t.is(fsys.links, sourceTables.size, 'a link was tried for each table')
  t.same({ linked: report.linked, copied: report.copied }, { linked: 0, copied: sourceTables.size }, 'and each was copied instead')
  t.ok(report.memtableBytes > 0, `the memtable was written as a table (${report.memtableBytes} bytes)`)
  const copies = [...sourceTables].filter(([f, ino]) => {
    const to = path.join(dest, f)
    return fs.existsSync(to) && fs.statSync(to).ino !== ino && fs.readFileSync(to).equals(fs.readFileSync(path.join(dir, f)))
  })
  t.is(copies.length, sourceTables.size, 'each copy is a file of its own holding the same bytes')

  fs.rmSync(dir, { recursive: true, force: true })
  const expected = [...model].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([k, v]) => `${k}=${v}`)
  t.same(await entries(new RoughLevel<Buffer, Buffer>(dest, { ...BUF, createIfMissing: false })), expected, `rough-level reads every entry of the model (${expected.length}) with the source gone`)
  t.same(await entries(new ClassicLevel<Buffer, Buffer>(dest, { ...BUF, createIfMissing: false })), expected, 'and so does classic-level')
  fs.rmSync(root, { recursive: true, force: true })
})
