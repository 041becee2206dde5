// Real table files for the table cache, version and level iterator tests: written with TableBuilder
// into a temp dir, read back through a FileSystem that counts opens and closes per file.
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import type { RandomAccessFile } from '../../../engine/fs/file-system'
import { PosixFileSystem } from '../../../engine/fs/posix-file-system'
import { compareInternalKeys, putTag, ValueType } from '../../../engine/internal-key'
import { TableBuilder, type TableBuilderOptions } from '../../../engine/table/table-builder'
import { tableFileName } from '../../../engine/filename'
import type { FileMetaData } from '../../../engine/version/version-edit'

export type Entry = [Buffer, Buffer]

export const TABLE_OPTIONS: TableBuilderOptions = { blockSize: 256, blockRestartInterval: 4, compression: 'none', bloomBitsPerKey: 10 }

export function tempDir (label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rough-${label}-`))
}

export function removeDir (dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
}

/** user key ‖ tag(sequence, type). */
export function ikey (user: string | Uint8Array, sequence: number, type: number = ValueType.Value): Buffer {
  const u = typeof user === 'string' ? Buffer.from(user, 'latin1') : Buffer.from(user)
  const b = Buffer.alloc(u.length + 8)
  u.copy(b)
  putTag(b, u.length, sequence, type)
  return b
}

export const compareEntries = (a: Entry, b: Entry): number => compareInternalKeys(a[0], 0, a[0].length, b[0], 0, b[0].length)

/** Writes `entries` (sorted here) as table `number` in dir; returns its metadata. */
export function writeTable (
  dir: string, number: number, entries: Entry[], options: Partial<TableBuilderOptions> = {}
): FileMetaData {
  if (entries.length === 0) throw new Error('a table needs entries')
  const sorted = [...entries].sort(compareEntries)
  const file = new PosixFileSystem().openWritable(tableFileName(dir, number))
  const builder = new TableBuilder({ ...TABLE_OPTIONS, ...options }, file)
  for (const [k, v] of sorted) builder.add(k, 0, k.length, v, 0, v.length)
  const fileSize = builder.finish()
  file.close()
  return { number, fileSize, smallest: sorted[0][0], largest: sorted[sorted.length - 1][0] }
}

/** A metadata record with no file behind it (for the functions that only look at key ranges). */
export function fakeFile (number: number, smallest: string, largest: string, fileSize = 1000): FileMetaData {
  return { number, fileSize, smallest: ikey(smallest, 100), largest: ikey(largest, 1) }
}

/** The real file system, counting opens and closes of random-access files by base name. */
export class CountingFileSystem extends PosixFileSystem {
  readonly opens = new Map<string, number>()
  readonly closes = new Map<string, number>()
  /** When set, opening a path it accepts fails with this errno code. */
  failOpen: ((path: string) => string | undefined) | undefined

  override openRandomAccess (p: string): RandomAccessFile {
    const code = this.failOpen?.(p)
    if (code !== undefined) throw Object.assign(new Error(`${code}: simulated failure, open '${p}'`), { code })
    const inner = super.openRandomAccess(p)
    const name = path.basename(p)
    this.opens.set(name, (this.opens.get(name) ?? 0) + 1)
    let closed = false
    return {
      path: p,
      read: (buf, offset, length, position) => {
        if (closed) throw new Error(`read of closed ${name}`)
        return inner.read(buf, offset, length, position)
      },
      size: () => inner.size(),
      close: () => {
        if (closed) throw new Error(`double close of ${name}`)
        closed = true
        this.closes.set(name, (this.closes.get(name) ?? 0) + 1)
        inner.close()
      }
    }
  }

  /** Files opened and not closed, by name. */
  openNow (): string[] {
    const out: string[] = []
    for (const [name, n] of this.opens) if (n > (this.closes.get(name) ?? 0)) out.push(name)
    return out.sort()
  }

  totalOpens (): number {
    let n = 0
    for (const v of this.opens.values()) n += v
    return n
  }
}
