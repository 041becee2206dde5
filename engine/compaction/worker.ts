// The background worker thread's entry: builds table files from sealed memtables so that the main
// thread (every API call) is never held by a flush. It only writes the table; the main thread records
// it in the MANIFEST and installs the new version.
import { parentPort } from 'node:worker_threads'
import { fileSystemFrom } from '../fs/posix-file-system'
import { MemTable } from '../memtable/memtable'
import { buildTable } from './build-table'
import type { FlushJob, FlushResult } from './flush-job'

const port = parentPort
if (port === null) throw new Error('engine/compaction/worker must run in a worker thread')

port.on('message', (job: FlushJob) => {
  let result: FlushResult
  try {
    const mem = new MemTable(job.memtable)
    const file = buildTable(fileSystemFrom(job.fs), job.dir, job.fileNumber, mem.iterator(), job.options)
    result = { id: job.id, ok: true, file }
  } catch (err) {
    const e = err as Error & { code?: string }
    result = { id: job.id, ok: false, message: e.message, code: e.code }
  }
  port.postMessage(result)
})
