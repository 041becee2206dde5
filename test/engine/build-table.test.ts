// buildTable (engine/table/build-table.ts): a memtable written as a table, read back once before it is
// reported (as LevelDB's BuildTable checks that the table is usable), with the parts a reader keeps
// (engine/table/table-parts.ts). The expectations: the memtable's entries, read back through a Table opened
// from the file alone; a table damaged on its way to the disk is LEVEL_CORRUPTION and leaves no file.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import type { WritableFile } from '../../engine/fs/file-system'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { ValueType } from '../../engine/internal-key'
import { MemTable } from '../../engine/memtable/memtable'
import { buildTable } from '../../engine/table/build-table'
import { Table, TableEntry } from '../../engine/table/table'
import { tableFileName } from '../../engine/filename'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-build-table-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

const OPTIONS = { blockSize: 4096, blockRestartInterval: 16, compression: 'snappy' as const, bloomBitsPerKey: 10 }

function memtable (n: number): { mem: MemTable, keys: Buffer[] } {
  const mem = new MemTable(4 << 20)
  const keys: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const key = Buffer.from(`key-${String(i * 7).padStart(6, '0')}`)
    const value = Buffer.from(`value ${i} `.repeat(1 + (i % 9)))
    mem.add(i + 1, ValueType.Value, key, 0, key.length, value, 0, value.length)
    keys.push(key)
  }
  return { mem, keys }
}

/** The real file system, except that the table's last append (index and footer) has one byte flipped on its way to the disk. */
class DamagingFileSystem extends PosixFileSystem {
  override openWritable (p: string): WritableFile {
    const file = super.openWritable(p)
    let pending: Uint8Array | undefined
    const flushPending = (damage: boolean): void => {
      if (pending === undefined) return
      const bytes = pending
      pending = undefined
      if (damage) bytes[bytes.length - 60] ^= 0x40 // inside the index block's trailer or contents, before the 48-byte footer
      file.append(bytes, 0, bytes.length)
    }
    return {
      path: file.path,
      append: (buf, off, len) => { flushPending(false); pending = buf.slice(off, off + len) },
      sync: () => { flushPending(true); file.sync() },
      syncAsync: async () => { flushPending(true); await file.syncAsync() },
      close: () => { flushPending(true); file.close() }
    }
  }
}

test('buildTable writes the memtable\'s entries, and the reader\'s parts, with the file read back', (t) => {
  const dir = fs.mkdtempSync(path.join(root, 'ok-'))
  const { mem, keys } = memtable(20000)
  const built = buildTable(new PosixFileSystem(), dir, 12, mem.iterator(), OPTIONS)
  t.ok(built !== undefined && built.parts !== undefined, 'a table and its parts')
  const file = new PosixFileSystem().openRandomAccess(tableFileName(dir, 12))
  const table = Table.open(file, built!.file.fileSize, file.path)
  const out = new TableEntry()
  const lookup = Buffer.alloc(64)
  let missing = 0
  for (const key of keys) {
    key.copy(lookup)
    lookup.fill(0xff, key.length, key.length + 8) // the newest possible sequence: at or after every entry of the key
    if (!table.get(lookup, 0, key.length + 8, out) || !Buffer.from(out.keyBuf.subarray(0, key.length)).equals(key)) missing++
  }
  t.is(missing, 0, `every one of the ${keys.length} keys is in the file`)
  t.ok(fs.statSync(tableFileName(dir, 12)).size === built!.file.fileSize, 'the metadata has the file\'s size')
  table.close()
  t.is(buildTable(new PosixFileSystem(), dir, 13, new MemTable(1024).iterator(), OPTIONS), undefined, 'an empty memtable: no table')
  t.notOk(fs.existsSync(tableFileName(dir, 13)), 'and no file')
  t.end()
})

test('a table damaged on its way to the disk is LEVEL_CORRUPTION, and no file is left', (t) => {
  const dir = fs.mkdtempSync(path.join(root, 'damaged-'))
  const { mem } = memtable(20000)
  t.throws(() => buildTable(new DamagingFileSystem(), dir, 14, mem.iterator(), OPTIONS),
    (err: any) => err.code === 'LEVEL_CORRUPTION' && err.message.includes('000014.ldb'), 'LEVEL_CORRUPTION naming the table')
  t.notOk(fs.existsSync(tableFileName(dir, 14)), 'the damaged file was deleted')
  t.end()
})
