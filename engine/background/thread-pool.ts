// Idle background threads kept for reuse. Starting a worker thread costs tens of ms of CPU (a Node
// environment and the engine's modules) and stopping one 10-15 ms of waiting here, against a few ms for
// a whole close() of classic-level: a Db that closes hands its threads back, and the next BackgroundWorker
// (another Db, the same one reopened, a repair) takes one instead of starting its own. A thread holds no
// state between jobs (engine/background/worker.ts: each job brings its file system and closes what it
// opened), so any BackgroundWorker of the same entry module may take it.
//
// A parked thread is unref'ed (it never keeps the process alive) and stops after IDLE_MS unused; at most
// MAX_PARKED are kept. One pool per thread that creates workers (module state, like the event-loop budget).
import { MessageChannel, Worker } from 'node:worker_threads'

/** How long a parked thread waits for a taker before it stops. */
export const IDLE_MS = 5_000
/** Parked threads kept at most (two per Db: its flush and compaction threads). */
export const MAX_PARKED = 4
/**
 * The young generation of a thread's heap, in MiB. A background thread's garbage is small objects of a job
 * (its bytes are in ArrayBuffers, outside the heap): V8's default young generation, sized for a main thread,
 * lets it grow to tens of MB first. At 4 MiB a fill's peak RSS is ~10 MB lower (400k entries: 155-158
 * against 165-167 MB) for the same CPU time.
 */
export const WORKER_YOUNG_GENERATION_MB = 4

interface Parked {
  entry: string
  worker: Worker
  timer: NodeJS.Timeout
  /** The pool's own listeners while parked: an error or exit then only drops the thread. */
  onGone: () => void
}

/** Only this module changes it: acquire takes from it, release adds to it, a stop or an exit removes. */
const parked: Parked[] = []
/** What prepareStart has left to do, in order; emptied by it, or at once by the first Worker made here. */
let startSteps: Array<() => void> = [
  // Node compiles its messaging and event-target code at the first MessagePort.
  () => {
    const { port1 } = new MessageChannel()
    port1.on('message', () => {})
    port1.close() // closes both ends: nothing stays to hold the process
  },
  // A Worker pipes its output to these, creating them at its first construction (a pipe's is a net.Socket):
  // made a turn earlier here, they are the same streams the Worker would have made.
  () => process.stdout,
  () => process.stderr
]

/**
 * Does one part of this thread's first Worker construction that can run in a turn of its own, and says
 * whether it did one (then call again after a turn, until it says false, and start the thread). The first
 * `new Worker` of a process held the main thread 4.6-6.3 ms here with stdout a pipe; after these steps, each
 * 0.6-2 ms, it takes 2.0-2.7 ms.
 */
export function prepareStart (): boolean {
  const step = startSteps.shift()
  step?.()
  return step !== undefined
}

/** A thread running `entry`: a parked one (newest first, the likeliest to be warm), or a new one. */
export function acquire (entry: string): Worker {
  for (let i = parked.length - 1; i >= 0; i--) {
    const p = parked[i]
    if (p.entry !== entry) continue
    parked.splice(i, 1)
    unpark(p)
    return p.worker
  }
  startSteps = []
  return new Worker(entry, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } })
}

/**
 * Hands back a thread with no job in flight and no listener of the caller's left on it. It is parked, or
 * stopped when the pool is full; the promise settles when it is parked or has stopped.
 */
export async function release (entry: string, worker: Worker): Promise<void> {
  if (parked.length >= MAX_PARKED) {
    await worker.terminate()
    return
  }
  worker.unref()
  const p: Parked = {
    entry,
    worker,
    timer: setTimeout(() => stop(p), IDLE_MS).unref(),
    onGone: () => forget(p)
  }
  worker.on('error', p.onGone)
  worker.on('exit', p.onGone)
  parked.push(p)
}

/** How many threads are parked (tests). */
export function parkedCount (): number {
  return parked.length
}

/** Stops every parked thread (tests that count threads, and a process that wants them gone now). */
export async function drain (): Promise<void> {
  await Promise.all(parked.slice().map(stop))
}

function unpark (p: Parked): void {
  clearTimeout(p.timer)
  p.worker.off('error', p.onGone)
  p.worker.off('exit', p.onGone)
}

async function stop (p: Parked): Promise<void> {
  forget(p)
  await p.worker.terminate()
}

function forget (p: Parked): void {
  const i = parked.indexOf(p)
  if (i < 0) return
  parked.splice(i, 1)
  unpark(p)
}
