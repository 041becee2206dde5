// The main thread's time budget. rough-level reads and writes synchronously and resolves promises without
// a trip through libuv: that is where its speed on awaited calls comes from, and also how a loop of awaited
// calls could keep timers, sockets and every other caller waiting. A slice opens at the first piece of work
// after the event loop last turned; work that finds the slice spent continues only after the loop has run a
// macrotask (timers, I/O callbacks, setImmediate), which closes the slice.
//
// Cheap when nothing waits: a caller reads the clock (about 0.1 us) and goes on; only a spent slice costs a
// setImmediate hop, once every SLICE_MS.
//
// One budget per thread (the event loop is the thread's, so every database in it shares it): the one piece
// of process-wide state (the lock keeps none: engine/fs/lock.ts). Worker threads never use it.
import { performance } from 'perf_hooks'  // Not 'node:', which webpack's `browser` field swap misses

/** Milliseconds of main-thread work between macrotask turns. */
export const SLICE_MS = 1

/** tick() reads the clock once per this many calls (a power of two). */
const TICKS_PER_CHECK = 8

export class EventLoopBudget {
  /**
   * The slice's length in ms. Tests that replay a workload call by call and compare the I/O it makes (the
   * crash tests) set it to Infinity, so that turns depend on the calls alone and not on the clock.
   */
  sliceMs = SLICE_MS
  /** When the open slice began; -1 when none is open (the loop turned since the last piece of work). */
  #sliceStart = -1
  #ticks = 0
  #waiters: Array<() => void> = []
  readonly #onTurn = (): void => {
    this.#sliceStart = -1
    const waiters = this.#waiters
    this.#waiters = []
    for (const resume of waiters) resume()
  }

  /**
   * True when the slice is spent: the caller must continue after a turn (afterTurn or turn). False means
   * go on now; the first call after a turn opens a slice.
   */
  spent (): boolean {
    if (this.#sliceStart < 0) {
      this.#sliceStart = performance.now()
      setImmediate(this.#onTurn)
      return false
    }
    return performance.now() - this.#sliceStart >= this.sliceMs
  }

  /**
   * spent() for small pieces of work of a few microseconds (an awaited get, one iterator step): reads the
   * clock only every TICKS_PER_CHECK calls, so that the check stays a few percent of the work it guards.
   */
  tick (): boolean {
    if (this.#sliceStart >= 0 && (++this.#ticks & (TICKS_PER_CHECK - 1)) !== 0) return false
    return this.spent()
  }

  /**
   * Says that a piece of work took far longer than tick() assumes (a table opened: its index decompressed and
   * its filter read, 0.2-1 ms; a data block read: tens of microseconds, or a disk's latency when the page
   * cache misses; where an awaited get from memory takes a few microseconds): the next tick() reads the clock,
   * so that a run of gets that each open a table or read a block cannot go TICKS_PER_CHECK pieces without a
   * look at it.
   */
  longWork (): void {
    this.#ticks |= TICKS_PER_CHECK - 1
  }

  /**
   * Says that the work just done used the slice up (milliseconds in one piece: a thread started), so that
   * the work that follows in this macrotask waits for a turn instead of opening a slice of its own.
   */
  exhaust (): void {
    if (this.#sliceStart < 0) setImmediate(this.#onTurn)
    this.#sliceStart = performance.now() - this.sliceMs
  }

  /** Runs resume once the event loop has run a macrotask (in the check phase, after timers and I/O). */
  afterTurn (resume: () => void): void {
    if (this.#sliceStart < 0) {
      // No slice open means no turn scheduled: schedule one, so that resume still follows a turn.
      this.#sliceStart = performance.now()
      setImmediate(this.#onTurn)
    }
    this.#waiters.push(resume)
  }

  /** A promise that resolves after the event loop has turned. */
  turn (): Promise<void> {
    return new Promise((resolve) => this.afterTurn(resolve))
  }

  /** Resolves after a turn if the slice is spent, else at once: `await budget.pause()` in a loop of work. */
  pause (): Promise<void> | undefined {
    return this.spent() ? this.turn() : undefined
  }
}

/** This thread's budget. */
export const eventLoopBudget = new EventLoopBudget()
