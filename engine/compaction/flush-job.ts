// The message that asks the background worker to flush a sealed memtable, and its answer.
// Everything in it crosses postMessage: the memtable's SharedArrayBuffer is shared, not copied.
import type { FileSystemDescription } from '../fs/file-system'
import type { MemTableShape } from '../memtable/memtable'
import type { FileMetaData } from '../version/version-edit'
import type { BuildTableOptions } from './build-table'

export interface FlushJob {
  id: number
  fs: FileSystemDescription
  dir: string
  fileNumber: number
  memtable: MemTableShape
  options: BuildTableOptions
}

export type FlushResult =
  | { id: number, ok: true, file: FileMetaData }
  | { id: number, ok: false, message: string, code?: string }
