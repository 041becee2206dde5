// How long a workload kept the event loop from its other work (issue 11: a server's timers and sockets wait while
// a database call, or a chain of awaited calls that settle as microtasks, holds the main thread).
// Two views of the same loop while the workload runs:
// - the longest gap between the callbacks of a 1 ms setInterval: the longest time a timer had to wait;
// - perf_hooks.monitorEventLoopDelay({ resolution: 1 }), reset per workload: the delay distribution (p99).
// Both cost about a microsecond per millisecond of workload, the same for every engine.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { LoopFigures } from './protocol'

const NS_PER_MS = 1e6

export class EventLoopMonitor {
  readonly #histogram = monitorEventLoopDelay({ resolution: 1 })
  #timer: NodeJS.Timeout | undefined
  #last = 0
  #maxGap = 0

  /** Starts watching; stop() must follow before the next start(). */
  start (): void {
    this.#histogram.reset()
    this.#histogram.enable()
    this.#maxGap = 0
    this.#last = performance.now()
    this.#timer = setInterval(() => {
      const now = performance.now()
      if (now - this.#last > this.#maxGap) this.#maxGap = now - this.#last
      this.#last = now
    }, 1)
  }

  stop (): LoopFigures {
    clearInterval(this.#timer)
    this.#timer = undefined
    // The stretch since the last callback counts too: a workload that holds the loop to its end shows it.
    const maxGapMs = Math.max(this.#maxGap, performance.now() - this.#last)
    const h = this.#histogram
    h.disable()
    const samples = h.count
    // No sample means the loop never turned while the workload ran: its one delay is the whole workload.
    const ms = (ns: number): number => (samples === 0 ? maxGapMs : ns / NS_PER_MS)
    return { maxGapMs, p99Ms: ms(h.percentile(99)), meanMs: ms(h.mean), maxMs: ms(h.max), samples }
  }
}
