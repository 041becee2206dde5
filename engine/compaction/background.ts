// The main thread's handle on a background worker thread. Started lazily on the first job (the
// conformance suite opens hundreds of databases that never flush), and terminated when its Db closes.
// It keeps the process alive only while a job is in flight: an idle worker never holds a process open,
// but a write waiting for a flush must not be abandoned by a process exiting under it.
//
// A job that fails for want of file descriptors (EMFILE, ENFILE: the worker has none of its own to give
// up, the main thread may) is run again after `onShortage` (which closes the main thread's idle
// descriptors) and a pause, doubling from 10 ms to 1 s, for up to 30 s: a shortage is a condition that
// passes, and a flush that fails puts the database in its error state.
import path = require('node:path')
import { Worker } from 'node:worker_threads'
import { EngineError, ioError } from '../errors'
import { isDescriptorShortage } from '../fs/descriptor-budget'
import type { Job, JobResult } from './job'

/** Omit over each member of a union (plain Omit would merge the members). */
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never

type Pending = { resolve: (r: JobResult) => void, reject: (err: Error) => void }

/** How long a job is retried while it fails for want of descriptors. */
const SHORTAGE_RETRY_MS = 30_000
const SHORTAGE_PAUSE_MS = 10
const SHORTAGE_MAX_PAUSE_MS = 1000

export class BackgroundWorker {
  #worker: Worker | undefined
  #nextId = 1
  readonly #pending = new Map<number, Pending>()
  readonly #onShortage: (() => void) | undefined
  #closed = false

  /** `onShortage` runs before a job that failed for want of descriptors is retried. */
  constructor (onShortage?: () => void) {
    this.#onShortage = onShortage
  }

  async run (job: DistributiveOmit<Job, 'id'>): Promise<JobResult> {
    const deadline = Date.now() + SHORTAGE_RETRY_MS
    for (let pause = SHORTAGE_PAUSE_MS; ; pause = Math.min(2 * pause, SHORTAGE_MAX_PAUSE_MS)) {
      const result = await this.#post(job)
      if (result.ok || !isDescriptorShortage({ code: result.errno }) || Date.now() + pause > deadline) return result
      this.#onShortage?.()
      await new Promise((resolve) => setTimeout(resolve, pause))
      if (this.#closed) return result
    }
  }

  #post (job: DistributiveOmit<Job, 'id'>): Promise<JobResult> {
    const worker = this.#worker ??= this.#start()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref()
      this.#pending.set(id, { resolve, reject })
      worker.postMessage({ ...job, id })
    })
  }

  /**
   * Starts the thread now if it is not running, without a job: the caller knows a job is coming and
   * lets the thread's start (tens of ms: a Node environment and the engine's modules) overlap its own
   * work. The thread stays unref'ed until a job is posted.
   */
  warmUp (): void {
    if (!this.#closed) this.#worker ??= this.#start()
  }

  async close (): Promise<void> {
    this.#closed = true
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
  // The platform's code travels as the cause, as it does in errors thrown on this thread.
  const cause = result.errno === undefined ? undefined : Object.assign(new Error(result.message), { code: result.errno })
  if (code === 'LEVEL_CORRUPTION' || code === 'LEVEL_IO_ERROR' || code === 'LEVEL_NOT_SUPPORTED' || code === 'LEVEL_INVALID_ARGUMENT' || code === 'LEVEL_LOCKED') {
    return new EngineError(result.message, { code, cause })
  }
  return ioError(result.message, cause)
}
