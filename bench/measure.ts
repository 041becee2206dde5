// Measuring one workload: the clock and the monitors that run beside it, the shapes of concurrency the workloads
// use, and what a workload returns. The clock covers only what is passed to timed() (or, with timedCalls(), only
// the calls handed to `call`); everything a workload needs is prepared before the clock starts.

import type { Dirs, Engine } from './engines'
import { EventLoopMonitor } from './event-loop-monitor'
import { UsageMeter } from './process-usage'
import type { LatencyFigures, LoopFigures, RunnerOptions, Unit, UsageFigures, WorkloadName } from './protocol'

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc

/** Collects garbage if the process was started with --expose-gc (run.ts starts its children so). */
export function collect (): void {
  if (gc !== undefined) gc()
}

/** One timed section: its wall time, and what the event loop and the process went through meanwhile. */
export interface Timing {
  ms: number
  loop: LoopFigures
  usage: UsageFigures
}

/** What a workload reports: a measurement (with a problem if the engine answered wrongly), or why it cannot run. */
export type Outcome =
  | {
    kind: 'ok'
    ops: number
    timing: Timing
    unit?: Unit
    problem?: string
    distinctKeys?: number
    latencies?: Record<string, LatencyFigures>
    facts?: Record<string, number>
  }
  | { kind: 'n/a', reason: string }

/**
 * The clock and its monitors, one per child process: the event loop, peak RSS and bytes written are the
 * process's, so two timed sections never overlap.
 */
export class Meter {
  readonly #loop = new EventLoopMonitor()
  readonly #usage: UsageMeter

  /** scratchDir: where the databases live (bytes written are counted there where /proc/self/io is missing). */
  constructor (scratchDir: string) {
    this.#usage = new UsageMeter(scratchDir)
  }

  /** Times body alone, after a collection so that garbage from preparation is not charged to it. */
  async timed (body: () => Promise<void>): Promise<Timing> {
    return await this.timedCalls((call) => call(body))
  }

  /**
   * Times only the calls made through `call`, summed, while the monitors watch the whole of body: for loops that
   * prepare each call's arguments just before it (a batch of a 5M-entry fill) rather than holding them all.
   */
  async timedCalls (body: (call: (op: () => Promise<unknown>) => Promise<void>) => Promise<void>): Promise<Timing> {
    collect()
    let ns = 0n
    const call = async (op: () => Promise<unknown>): Promise<void> => {
      const start = process.hrtime.bigint()
      await op()
      ns += process.hrtime.bigint() - start
    }
    this.#usage.start()
    this.#loop.start()
    let loop: LoopFigures
    try {
      await body(call)
    } finally {
      // Stop the 1 ms timer even when the workload threw, or it would keep the process alive.
      loop = this.#loop.stop()
    }
    const usage = this.#usage.stop()
    return { ms: Number(ns) / 1e6, loop, usage }
  }

  processPeakRssMB (): number {
    return this.#usage.processPeakMB()
  }
}

/** Runs op(0) .. op(total - 1) with at most width of them pending at once (a sliding window, not waves). */
export async function window (total: number, width: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < total) await op(next++)
  }
  const lanes: Array<Promise<void>> = []
  for (let w = 0; w < Math.min(width, total); w++) lanes.push(lane())
  await Promise.all(lanes)
}

/** items cut into arrays of size (the last may be shorter). */
export function chunk<T> (items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

/** A problem note when count of total answers were wrong, else undefined. */
export function missing (what: string, count: number, total: number): string | undefined {
  return count === 0 ? undefined : `${count} of ${total} ${what}`
}

export interface Workload<N extends WorkloadName> {
  name: N
  run: () => Promise<Outcome>
}

/** A set's workloads, in the order of protocol.ts, and how to release what they share once they are done. */
export interface WorkloadSet<N extends WorkloadName> {
  workloads: Array<Workload<N>>
  close: () => Promise<void>
}

/** What a set is given: its engine, the options, where its databases go, and the clock. */
export interface SetContext {
  engine: Engine
  opts: RunnerOptions
  dirs: Dirs
  meter: Meter
}
