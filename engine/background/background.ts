// The main thread's handle on a background worker thread. Taken lazily at the first job (the conformance
// suite opens hundreds of databases that never flush) from the pool of idle threads, or started, and handed
// back to the pool when its Db closes (engine/background/thread-pool.ts), or once it has had no job for
// IDLE_RELEASE_MS: a thread costs 10-20 MB of memory (an isolate and the engine's modules), which a
// database that only reads gives back; the next job takes a thread again.
// It keeps the process alive only while a job is in flight: an idle worker never holds a process open,
// but a write waiting for a flush must not be abandoned by a process exiting under it.
//
// A job that fails for want of file descriptors (EMFILE, ENFILE: the worker has none of its own to give
// up, the main thread may) is run again after `onShortage` (which closes the main thread's idle
// descriptors) and a pause (retryWhileShort: bounded, and for a shortage only): a shortage is a condition
// that passes, and a flush that fails puts the database in its error state. A cancelled compaction (its
// Db is closing) is not retried.
//
// Every job's promise settles: with the worker's answer, or rejected (LEVEL_IO_ERROR) when the thread
// fails or exits, whether the job was posted before or after that; a dead thread is never posted to.
import path = require('node:path')
import type { Worker } from 'node:worker_threads'
import { EngineError, ioError } from '../errors'
import { isDescriptorShortage, retryWhileShort } from '../fs/descriptor-budget'
import type { Job, JobResult } from './job'
import { acquire, prepareStart, release } from './thread-pool'

/** Omit over each member of a union (plain Omit would merge the members). */
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never

type Pending = { resolve: (r: JobResult) => void, reject: (err: Error) => void }

/** A running thread, the jobs posted to it that it has not answered, and this handle's listeners on it. */
interface Thread {
  worker: Worker
  pending: Map<number, Pending>
  listeners: { message: (result: JobResult) => void, error: (err: Error) => void, exit: (code: number) => void }
}

/** How long a thread without a job stays with its BackgroundWorker before it goes back to the pool. */
export const IDLE_RELEASE_MS = 2_000

export class BackgroundWorker {
  #thread: Thread | undefined
  /** Hands the idle thread back after IDLE_RELEASE_MS: set when its last job is answered, cleared by a new job. */
  #idleTimer: NodeJS.Timeout | undefined
  #nextId = 1
  readonly #onShortage: (() => void) | undefined
  /** The thread's entry module: the engine's worker.js, or a test's scripted stand-in. */
  readonly #entry: string
  #closed = false

  /** `onShortage` runs before a job that failed for want of descriptors is retried. */
  constructor (onShortage?: () => void, entry = path.join(__dirname, 'worker.js')) {
    this.#onShortage = onShortage
    this.#entry = entry
  }

  run (job: DistributiveOmit<Job, 'id'>): Promise<JobResult> {
    const cancel = job.kind === 'compaction' ? new Int32Array(job.cancel) : undefined
    return retryWhileShort(() => this.#post(job), (result) => !result.ok && isDescriptorShortage({ code: result.errno }), {
      relieve: () => {
        this.#onShortage?.()
        return false
      },
      stop: () => this.#closed || (cancel !== undefined && Atomics.load(cancel, 0) !== 0)
    })
  }

  #post (job: DistributiveOmit<Job, 'id'>): Promise<JobResult> {
    if (this.#closed) return Promise.reject(ioError('background worker is closed'))
    const { worker, pending } = this.#thread ??= this.#start()
    clearTimeout(this.#idleTimer)
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref()
      pending.set(id, { resolve, reject })
      worker.postMessage({ ...job, id })
    })
  }

  /**
   * Starts the thread now if it is not running, without a job: the caller knows a job is coming and
   * lets the thread's start (tens of ms: a Node environment and the engine's modules) overlap its own
   * work. The thread stays unref'ed until a job is posted.
   */
  warmUp (): void {
    if (!this.#closed) this.#thread ??= this.#start()
  }

  /**
   * Before a warmUp: does one part of the thread's start that can run in a turn of its own (thread-pool's
   * prepareStart) and says whether it did one; call again after a turn until false, then warmUp. False at
   * once when this handle has its thread, or the process has started one before.
   */
  prepare (): boolean {
    return this.#thread === undefined && !this.#closed && prepareStart()
  }

  /**
   * Hands the thread back to the pool, idle; a thread with a job still in flight (its Db waits for its
   * jobs before closing, so only after a failure) is stopped instead, which fails that job.
   */
  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#idleTimer)
    const thread = this.#thread
    this.#thread = undefined
    if (thread === undefined) return
    if (thread.pending.size > 0) {
      await thread.worker.terminate()
      return
    }
    await this.#handBack(thread)
  }

  /** Detaches this handle from its idle thread and parks the thread in the pool. */
  async #handBack (thread: Thread): Promise<void> {
    const { worker, listeners } = thread
    worker.off('message', listeners.message)
    worker.off('error', listeners.error)
    worker.off('exit', listeners.exit)
    await release(this.#entry, worker)
  }

  /** The thread's last job was answered: it goes back to the pool unless a job comes within IDLE_RELEASE_MS. */
  #idle (thread: Thread): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => {
      if (this.#thread !== thread || thread.pending.size > 0) return
      this.#thread = undefined
      this.#handBack(thread).catch(() => {}) // a thread that fails to stop is gone either way
    }, IDLE_RELEASE_MS).unref()
  }

  #start (): Thread {
    const worker = acquire(this.#entry)
    const pending = new Map<number, Pending>()
    // Only this thread's jobs fail with it; a thread taken after it keeps its own.
    const failAll = (err: Error): void => {
      for (const p of pending.values()) p.reject(err)
      pending.clear()
      if (this.#thread === thread) this.#thread = undefined
    }
    const thread: Thread = {
      worker,
      pending,
      listeners: {
        message: (result: JobResult) => {
          const p = pending.get(result.id)
          pending.delete(result.id)
          if (pending.size === 0) {
            worker.unref()
            this.#idle(thread)
          }
          p?.resolve(result)
        },
        error: (err) => failAll(ioError(`background worker failed: ${err.message}`, err)),
        // An exit while idle too: the next job then takes another thread rather than wait on a dead one.
        exit: (code) => failAll(ioError(`background worker exited with code ${code}`))
      }
    }
    worker.unref()
    worker.on('message', thread.listeners.message)
    worker.on('error', thread.listeners.error)
    worker.on('exit', thread.listeners.exit)
    return thread
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
