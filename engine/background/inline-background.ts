// engine/background/background.ts in the browser build (package.json `browser` maps it here). The browser
// build's file system (engine/fs/opfs-file-system.ts) cannot be described to another worker (its sync
// access handles belong to the worker that opened them), so the Db runs every flush and compaction inline
// (engine/db/memtable-flush.ts's workerFileSystem is undefined) and never posts a job: this stand-in has the
// BackgroundWorker's shape, starts no thread, and refuses a job should one ever come.
import { type EngineError, ioError, notSupported } from '../errors'
import type { JobResult } from './job'

export class BackgroundWorker {
  constructor (_onShortage?: () => void, _entry?: string) {}

  run (_job: unknown): Promise<JobResult> {
    return Promise.reject(notSupported('the browser build runs flushes and compactions inline: no background worker'))
  }

  warmUp (): void {}

  prepare (): boolean {
    return false
  }

  async close (): Promise<void> {}
}

/** Never reached (run never resolves): a failure report as an I/O error. */
export function resultError (result: Extract<JobResult, { ok: false }>): EngineError {
  return ioError(result.message)
}
