// The messages that ask the background worker for work, and its answers. Everything crosses
// postMessage: a memtable's SharedArrayBuffer is shared, not copied; a compaction travels as plain data.
import type { FileSystemDescription } from '../fs/file-system'
import type { InfoLine } from '../info-log'
import type { MemTableShape } from '../memtable/memtable'
import type { FileMetaData } from '../version/version-edit'
import type { BuildTableOptions } from '../table/build-table'
import type { CompactionSpec } from '../compaction/compaction'
import type { CompactionOutputOptions } from '../compaction/run-compaction'
import type { TableParts } from '../table/table-parts'

/** Write a sealed memtable as table `fileNumber`. */
export interface FlushJob {
  kind: 'flush'
  id: number
  fs: FileSystemDescription
  dir: string
  fileNumber: number
  memtable: MemTableShape
  options: BuildTableOptions
}

/**
 * Write the entries of `memtables` numbered at or below `sequence` (every version and tombstone) as table
 * `fileNumber`: a checkpoint's memtables (engine/db/checkpoint.ts). They may still take writes (live shapes).
 */
export interface MemTablesAsOfJob {
  kind: 'memtables-as-of'
  id: number
  fs: FileSystemDescription
  dir: string
  fileNumber: number
  memtables: MemTableShape[]
  sequence: number
  options: BuildTableOptions
}

/** Merge a compaction's inputs into new tables numbered from `fileNumbers`. */
export interface CompactionJob {
  kind: 'compaction'
  id: number
  fs: FileSystemDescription
  dir: string
  compaction: CompactionSpec
  options: CompactionOutputOptions
  smallestSnapshot: number
  fileNumbers: number[]
  /** An Int32Array over this becomes non-zero when the Db closes: the compaction stops and cleans up. */
  cancel: SharedArrayBuffer
}

export type Job = FlushJob | MemTablesAsOfJob | CompactionJob

/**
 * `log`: lines for the info log, stamped in the worker; only the main thread writes LOG. `parts`, beside
 * `files` one for one: what a reader keeps of each table (table-parts.ts), moved, not copied; none for a
 * table written into another database (a checkpoint's).
 */
export type JobResult =
  | { id: number, ok: true, files: FileMetaData[], parts?: TableParts[], log?: InfoLine[] }
  /** `code` is the error's Level code; `errno` the platform's code behind it (EMFILE, ENOSPC), if any. */
  | { id: number, ok: false, message: string, code?: string, errno?: string, log?: InfoLine[] }
