// Writes the entries of an internal iterator (a sealed memtable) as one table file (LevelDB
// db/builder.cc). Used by the flush worker and, when the file system cannot be rebuilt in a worker or
// during recovery, on the calling thread: the same code either way.
//
// Every entry is kept: snapshots may still read any version, and dropping shadowed entries is
// compaction's job. The file is fsynced before it is reported, because the MANIFEST will name it.
import type { FileSystem } from '../fs/file-system'
import type { InternalIterator } from '../internal-iterator'
import type { Compression, DbOptions } from '../options'
import { Table } from './table'
import { TableBuilder } from './table-builder'
import type { TableParts } from './table-parts'
import { tableFileName } from '../filename'
import type { FileMetaData } from '../version/version-edit'

export interface BuildTableOptions {
  blockSize: number
  blockRestartInterval: number
  compression: Compression
  bloomBitsPerKey: number
}

/** A table just written: its metadata (for the MANIFEST) and what a reader keeps of it (for Table.open). */
export interface BuiltTable {
  file: FileMetaData
  parts: TableParts | undefined
}

/**
 * Builds table `number` in dir from iter. Returns it, or undefined when iter is empty (then no file is
 * left behind). On failure the partial file is deleted and the error thrown.
 */
export function buildTable (
  fs: FileSystem, dir: string, number: number, iter: InternalIterator, options: BuildTableOptions
): BuiltTable | undefined {
  iter.seekToFirst()
  if (!iter.valid()) return undefined
  const path = tableFileName(dir, number)
  const file = fs.openWritable(path)
  let builder: TableBuilder | undefined
  try {
    builder = new TableBuilder(options, file)
    const smallest = iter.keyBuf.slice(iter.keyOff, iter.keyOff + iter.keyLen)
    let lastBuf = iter.keyBuf
    let lastOff = iter.keyOff
    let lastLen = iter.keyLen
    for (; iter.valid(); iter.next()) {
      lastBuf = iter.keyBuf
      lastOff = iter.keyOff
      lastLen = iter.keyLen
      builder.add(lastBuf, lastOff, lastLen, iter.valueBuf, iter.valueOff, iter.valueLen)
    }
    // The memtable's bytes never move, so the last key's view is still valid here.
    const largest = lastBuf.slice(lastOff, lastOff + lastLen)
    const fileSize = builder.finish()
    file.sync()
    file.close()
    verifyTable(fs, path, fileSize)
    return { file: { number, fileSize, smallest, largest }, parts: builder.parts }
  } catch (err) {
    builder?.abandon()
    try { file.close() } catch {}
    try { fs.unlink(path) } catch {}
    throw err
  }
}

/** Opens the table at path as a reader would (LEVEL_CORRUPTION if it does not), and closes it. */
function verifyTable (fs: FileSystem, path: string, fileSize: number): void {
  const file = fs.openRandomAccess(path)
  try {
    Table.open(file, fileSize, path).close()
  } catch (err) {
    try { file.close() } catch {}
    throw err
  }
}

/** The table-building part of the database's options. */
export function buildTableOptions (options: DbOptions): BuildTableOptions {
  return {
    blockSize: options.blockSize,
    blockRestartInterval: options.blockRestartInterval,
    compression: options.compression,
    bloomBitsPerKey: options.bloomBitsPerKey
  }
}
