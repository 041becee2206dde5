// The background worker thread's entry: builds table files from sealed memtables (flushes), from a
// checkpoint's memtables as of its sequence, and from compaction inputs, so that the main thread (every API call) is never held by either. It only writes
// tables; the main thread records them in the MANIFEST and installs the new version.
import { parentPort } from 'node:worker_threads'
import { systemErrorCode } from '../errors'
import { fileSystemFrom } from '../fs/posix-file-system'
import { infoLine, type InfoLine } from '../info-log'
import { MemTable } from '../memtable/memtable'
import { memTablesAsOf } from '../iterators/as-of-iterator'
import { TableCache } from '../table/table-cache'
import { buildTable } from '../table/build-table'
import { Compaction } from '../compaction/compaction'
import type { Job, JobResult } from './job'
import { transferables } from '../table/table-parts'
import { runCompaction } from '../compaction/run-compaction'
import { lowerThisThreadsPriority } from './thread-priority'

/**
 * Tables a compaction reads are read once and then deleted: a small cache, closed after each job. It
 * bounds parsed tables only: their descriptors count in the database's budget (job.fs.descriptors).
 */
const COMPACTION_TABLE_CACHE = 64

const port = parentPort
if (port === null) throw new Error('engine/background/worker must run in a worker thread')
lowerThisThreadsPriority()

port.on('message', (job: Job) => {
  let result: JobResult
  const log: InfoLine[] = []
  try {
    const fs = fileSystemFrom(job.fs)
    if (job.kind === 'flush') {
      const mem = new MemTable(job.memtable)
      const built = buildTable(fs, job.dir, job.fileNumber, mem.iterator(), job.options)
      result = built === undefined
        ? { id: job.id, ok: true, files: [] }
        : { id: job.id, ok: true, files: [built.file], parts: built.parts === undefined ? undefined : [built.parts] }
    } else if (job.kind === 'memtables-as-of') {
      const built = buildTable(fs, job.dir, job.fileNumber, memTablesAsOf(job.memtables.map((shape) => new MemTable(shape)), job.sequence), job.options)
      result = { id: job.id, ok: true, files: built === undefined ? [] : [built.file] }
    } else {
      const tableCache = new TableCache(job.dir, fs, COMPACTION_TABLE_CACHE)
      try {
        const cancel = new Int32Array(job.cancel)
        const out = runCompaction(new Compaction(job.compaction), {
          fs,
          dir: job.dir,
          tableCache,
          options: job.options,
          smallestSnapshot: job.smallestSnapshot,
          fileNumbers: job.fileNumbers,
          cancelled: () => Atomics.load(cancel, 0) !== 0,
          log: (message) => log.push(infoLine(message))
        })
        result = { id: job.id, ok: true, files: out.outputs, parts: out.parts, log }
      } finally {
        tableCache.close()
      }
    }
  } catch (err) {
    const e = err as Error & { code?: string }
    result = { id: job.id, ok: false, message: e.message, code: e.code, errno: systemErrorCode(err), log }
  }
  port.postMessage(result, result.ok ? transferables(result.parts ?? []) : [])
})
