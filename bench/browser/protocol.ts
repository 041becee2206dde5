// What the browser benchmark's driver (run.ts, in Node) and its worker (worker.ts, in Chromium) say to each
// other: the driver posts a RunRequest to a new worker per engine and round; the worker posts one
// { type: 'figure' } per workload, then { type: 'finished' }, or { type: 'error' } (test/browser/worker-scope.ts).

export const BROWSER_ENGINES = ['rough', 'browser-level'] as const
export type BrowserEngine = (typeof BROWSER_ENGINES)[number]

/** In the order they run, on one engine. */
export const BROWSER_WORKLOADS = ['put', 'batch-1000', 'reopen', 'get', 'getSync', 'nextv-1000'] as const
export type BrowserWorkload = (typeof BROWSER_WORKLOADS)[number]

export interface BrowserBenchOptions {
  /** Entries of the main database, filled by batch-1000 and then read. */
  entries: number
  /** Awaited puts of the put workload, into a database of their own. */
  puts: number
  /** Random keys each of get and getSync reads. */
  reads: number
  seed: number
  /** Rounds, each running both engines; a workload's figure is its best round. */
  rounds: number
}

export interface RunRequest {
  engine: BrowserEngine
  options: BrowserBenchOptions
  /** Names this round's OPFS pool and databases, so that no round finds another's. */
  round: number
}

export interface BrowserFigure {
  engine: BrowserEngine
  workload: BrowserWorkload
  /** Operations (entries for batch-1000 and nextv-1000); 1 for reopen. */
  ops: number
  ms: number
  /**
   * Answers that differ from what was written: a get whose value is not the key's, a scan entry out of order
   * or with the wrong value, a scan that misses entries, a put that is not there afterwards. 0 or the figure
   * means nothing.
   */
  mismatches: number
  /** For the random reads: how many different keys the draw holds. */
  distinctKeys?: number
}

/** A figure as the driver keeps it: with its round. */
export interface RoundFigure extends BrowserFigure {
  round: number
}

/** What a worker posts. */
export type BrowserBenchMessage =
  | { type: 'figure', figure: BrowserFigure }
  | { type: 'finished', engine: BrowserEngine, userAgent: string }
