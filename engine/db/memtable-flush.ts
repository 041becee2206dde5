// Writing a sealed memtable as a level-0 table (LevelDB's WriteLevel0Table), for the Db's flushes and for
// recovery alike, and a checkpoint's memtables as of its sequence: on the flush worker, which sees the
// memtables' arenas without a copy, or on this thread when the file system cannot be rebuilt in a worker
// (the fault-injection tests' flushInline).
import { BackgroundWorker, resultError } from '../background/background'
import type { JobResult } from '../background/job'
import { memTablesAsOf } from '../iterators/as-of-iterator'
import { buildTable, buildTableOptions, type BuiltTable } from '../table/build-table'
import type { InfoLog } from '../info-log'
import type { MemTable } from '../memtable/memtable'
import type { FileSystemDescription } from '../fs/file-system'
import type { DbOptions } from '../options'
import type { FileMetaData } from '../version/version-edit'

/** How the flush worker rebuilds options.fs, or undefined when memtables are written on this thread. */
export function workerFileSystem (options: DbOptions): FileSystemDescription | undefined {
  return options.flushInline ? undefined : options.fs.describe()
}

/**
 * Writes mem as table `number` in dir; resolves with it (its metadata, and what a reader keeps of it), or
 * undefined when mem held nothing (then no file is left). Always completes after a turn of the microtask queue at least, as a worker would.
 * Its start and end go to `info` as LevelDB's WriteLevel0Table logs them.
 */
export async function writeMemTable (
  worker: BackgroundWorker, dir: string, options: DbOptions, number: number, mem: MemTable, info: InfoLog
): Promise<BuiltTable | undefined> {
  info.log(`Level-0 table #${number}: started`)
  const start = performance.now()
  try {
    const table = await buildMemTable(worker, dir, options, number, mem)
    info.log(`Level-0 table #${number}: ${table?.file.fileSize ?? 0} bytes OK ` +
      `(${mem.entries} entries, ${mem.approximateMemoryUsage} bytes in memory, ${Math.round(performance.now() - start)} ms)`)
    return table
  } catch (err) {
    info.log(`Level-0 table #${number}: 0 bytes ${err instanceof Error ? err.message : String(err)}`)
    throw err
  }
}

async function buildMemTable (
  worker: BackgroundWorker, dir: string, options: DbOptions, number: number, mem: MemTable
): Promise<BuiltTable | undefined> {
  const tableOptions = buildTableOptions(options)
  const fs = workerFileSystem(options)
  if (fs !== undefined) {
    const result = await worker.run({ kind: 'flush', fs, dir, fileNumber: number, memtable: mem.shape(), options: tableOptions })
    const file = builtTable(result)
    return file === undefined ? undefined : { file, parts: result.ok ? result.parts?.[0] : undefined }
  }
  await undefined
  return buildTable(options.fs, dir, number, mem.iterator(), tableOptions)
}

/**
 * Writes the entries of `mems` numbered at or below `sequence` (every version and tombstone) as table
 * `number` in dir, or nothing when there are none: a checkpoint's memtables, which may still take writes.
 * Requires: mems pinned (an open iterator each) until it settles, so that no arena is recycled under the worker.
 */
export async function writeMemTablesAsOf (
  worker: BackgroundWorker, dir: string, options: DbOptions, number: number, mems: readonly MemTable[], sequence: number
): Promise<FileMetaData | undefined> {
  const tableOptions = buildTableOptions(options)
  const fs = workerFileSystem(options)
  if (fs !== undefined) {
    return builtTable(await worker.run({
      kind: 'memtables-as-of', fs, dir, fileNumber: number, memtables: mems.map((mem) => mem.shape(true)), sequence, options: tableOptions
    }))
  }
  await undefined
  const iterator = memTablesAsOf(mems, sequence)
  try {
    return buildTable(options.fs, dir, number, iterator, tableOptions)?.file
  } finally {
    iterator.close()
  }
}

/** A table job's one table, or undefined when it wrote none; its failure thrown with its Level code. */
function builtTable (result: JobResult): FileMetaData | undefined {
  if (!result.ok) throw resultError(result)
  return result.files[0]
}
