// The descriptor budget: how many file descriptors one database may hold at once, counted across all of
// its threads (the main thread, the flush worker and the compaction worker) in a SharedArrayBuffer, so
// that a worker's table reads and outputs draw on the same count as the main thread's table cache.
//
// The limit is maxOpenFiles, lowered to what the process can spare where its limit can be read (Linux:
// the soft "Max open files" of /proc/self/limits less the descriptors open in /proc/self/fd, less those
// the database's two worker threads will open, less a fifth of the rest, left to the application).
// LevelDB needs no such count for most tables, which it maps into memory (util/env_posix.cc); Node can
// neither map a file nor read the limit elsewhere, so where it cannot be read (macOS, BSD) the budget is
// maxOpenFiles alone and EMFILE is met as it comes (see BudgetedFileSystem).
//
// The count may pass the limit: a descriptor a write needs is never refused. Each thread then closes
// idle descriptors of its own to come back under it (BudgetedFileSystem); the fifth left to the
// application absorbs the overdraft in the meantime.
import nodeFs = require('fs')  // Not 'node:', which webpack's `browser` field swap misses
import { sharedMemory } from '../util/shared-memory'
import { systemErrorCode } from '../errors'

/**
 * The fewest descriptors a database is given (the clamp of maxOpenFiles too): the log and the one
 * before it, the MANIFEST, a directory fsync or listing, a table written by each worker, and a few
 * table reads.
 */
export const MIN_OPEN_FILES = 12

/**
 * Descriptors each worker thread opens for its own event loop (epoll, eventfd, pipes: 4 on Node 20
 * on Linux, counted in /proc/self/fd). A database starts two workers after it opens.
 */
const WORKER_THREAD_DESCRIPTORS = 4
const WORKER_THREADS = 2

/** Int32 cells of the shared buffer. */
const IN_USE = 0
const LIMIT = 1

export class DescriptorBudget {
  /** What another thread rebuilds the same budget from (new DescriptorBudget(shared)). */
  readonly shared: SharedArrayBuffer
  readonly #cells: Int32Array

  /**
   * A new budget of `limit` descriptors, none in use; or, given the `shared` buffer of a budget made on
   * another thread, that same budget.
   */
  constructor (limit: number | SharedArrayBuffer) {
    if (typeof limit === 'number') {
      this.shared = sharedMemory(2 * Int32Array.BYTES_PER_ELEMENT)
      this.#cells = new Int32Array(this.shared)
      this.#cells[LIMIT] = Math.max(1, Math.floor(limit))
    } else {
      this.shared = limit
      this.#cells = new Int32Array(limit)
    }
  }

  get limit (): number {
    return Atomics.load(this.#cells, LIMIT)
  }

  /** Descriptors counted now, in every thread. */
  get inUse (): number {
    return Atomics.load(this.#cells, IN_USE)
  }

  /** Counts one more descriptor; false when the count is now over the limit (it is counted anyway). */
  take (): boolean {
    return Atomics.add(this.#cells, IN_USE, 1) + 1 <= Atomics.load(this.#cells, LIMIT)
  }

  /** Whether the count is over the limit. */
  get over (): boolean {
    return Atomics.load(this.#cells, IN_USE) > Atomics.load(this.#cells, LIMIT)
  }

  /** Uncounts a descriptor that take() counted. */
  give (): void {
    Atomics.sub(this.#cells, IN_USE, 1)
  }
}

/**
 * The budget for a database opened now with `maxOpenFiles`: see the module comment. `spare` is the
 * number of descriptors the process can still open (undefined: unknown), by default read from /proc.
 */
export function descriptorLimit (maxOpenFiles: number, spare = spareDescriptors()): number {
  if (spare === undefined) return maxOpenFiles
  const forWorkers = WORKER_THREADS * WORKER_THREAD_DESCRIPTORS
  const usable = spare - forWorkers - Math.floor((spare - forWorkers) / 5)
  return Math.max(MIN_OPEN_FILES, Math.min(maxOpenFiles, usable))
}

/** Descriptors this process can still open (Linux), or undefined where that cannot be read. */
export function spareDescriptors (): number | undefined {
  if (typeof process === 'undefined' || process.platform !== 'linux') return undefined // a browser has no process
  try {
    const limits = nodeFs.readFileSync('/proc/self/limits', 'latin1')
    const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1]
    if (soft === undefined || !/^\d+$/.test(soft)) return undefined // "unlimited"
    // The listing itself holds one descriptor of the directory while it runs.
    const open = nodeFs.readdirSync('/proc/self/fd').length - 1
    return Number(soft) - open
  } catch {
    return undefined
  }
}

/** The process (EMFILE) or the system (ENFILE) is out of file descriptors. */
export function isDescriptorShortage (err: unknown): boolean {
  const code = systemErrorCode(err)
  return code === 'EMFILE' || code === 'ENFILE'
}

/** How retryWhileShort waits out a shortage. */
export interface ShortageWait {
  /**
   * Runs after each attempt that met a shortage, before any pause: closes idle descriptors of the caller's.
   * True when it closed some, and the next attempt comes at once; false (or absent): after a pause.
   */
  relieve?: () => boolean
  /** Checked after each pause: true gives up (the database is closing), and the last outcome stands. */
  stop?: () => boolean
  /** How long to keep trying, in ms (default 30 s). */
  waitMs?: number
}

/** Default of ShortageWait.waitMs. */
const SHORTAGE_WAIT_MS = 30_000
const SHORTAGE_PAUSE_MS = 10
const SHORTAGE_MAX_PAUSE_MS = 1000

/**
 * Runs `attempt` again while its outcome is a descriptor shortage (`short(outcome)`), with pauses doubling
 * from 10 ms to 1 s, for up to `waitMs`: a shortage is a condition that passes (another thread or the
 * application closes files), and the work that failed for it (a flush, a directory fsync) would otherwise
 * put the database in its error state. Any other outcome is returned at once; nothing else is ever waited
 * for, and the wait is bounded, so a caller gets the shortage itself once it has lasted that long.
 * One mechanism for the worker jobs (BackgroundWorker.run) and the thread pool's fsyncs
 * (BudgetedFileSystem.syncDirAsync).
 */
export async function retryWhileShort<T> (attempt: () => Promise<T>, short: (outcome: T) => boolean, wait: ShortageWait = {}): Promise<T> {
  const deadline = Date.now() + (wait.waitMs ?? SHORTAGE_WAIT_MS)
  for (let pause = SHORTAGE_PAUSE_MS; ; pause = Math.min(2 * pause, SHORTAGE_MAX_PAUSE_MS)) {
    const outcome = await attempt()
    if (!short(outcome) || Date.now() + pause > deadline) return outcome
    if (wait.relieve?.() === true) continue
    await new Promise((resolve) => setTimeout(resolve, pause))
    if (wait.stop?.() === true) return outcome
  }
}
