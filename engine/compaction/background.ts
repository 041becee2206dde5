// The main thread's handle on a background worker thread. Started lazily on the first job (the
// conformance suite opens hundreds of databases that never flush), and terminated when its Db closes.
// It keeps the process alive only while a job is in flight: an idle worker never holds a process open,
// but a write waiting for a flush must not be abandoned by a process exiting under it.
import path = require('node:path')
import { Worker } from 'node:worker_threads'
import { EngineError, ioError } from '../errors'
import type { Job, JobResult } from './job'

/** Omit over each member of a union (plain Omit would merge the members). */
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never

type Pending = { resolve: (r: JobResult) => void, reject: (err: Error) => void }

export class BackgroundWorker {
  #worker: Worker | undefined
  #nextId = 1
  readonly #pending = new Map<number, Pending>()

  run (job: DistributiveOmit<Job, 'id'>): Promise<JobResult> {
    const worker = this.#worker ??= this.#start()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref()
      this.#pending.set(id, { resolve, reject })
      worker.postMessage({ ...job, id })
    })
  }

  async close (): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    if (worker !== undefined) await worker.terminate()
  }

  #start (): Worker {
    const worker = new Worker(path.join(__dirname, 'worker.js'))
    worker.unref()
    worker.on('message', (result: JobResult) => {
      const p = this.#pending.get(result.id)
      this.#pending.delete(result.id)
      if (this.#pending.size === 0) worker.unref()
      p?.resolve(result)
    })
    const failAll = (err: Error): void => {
      for (const p of this.#pending.values()) p.reject(err)
      this.#pending.clear()
      if (this.#worker === worker) this.#worker = undefined
    }
    worker.on('error', (err) => failAll(ioError(`background worker failed: ${err.message}`, err)))
    worker.on('exit', (code) => {
      if (this.#pending.size > 0) failAll(ioError(`background worker exited with code ${code}`))
    })
    return worker
  }
}

/** Turns a worker's failure report back into an error with its Level code. */
export function resultError (result: Extract<JobResult, { ok: false }>): EngineError {
  const code = result.code
  if (code === 'LEVEL_CORRUPTION' || code === 'LEVEL_IO_ERROR' || code === 'LEVEL_NOT_SUPPORTED' || code === 'LEVEL_INVALID_ARGUMENT' || code === 'LEVEL_LOCKED') {
    return new EngineError(result.message, { code })
  }
  return ioError(result.message)
}
