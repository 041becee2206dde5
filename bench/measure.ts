// Measuring one workload: the clock, the shapes of concurrency the workloads use, and what a workload returns.
// The clock covers only what is passed to timed(); everything a workload needs is prepared before it is called.

import type { Unit, WorkloadName } from './protocol'

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc

/** Collects garbage if the process was started with --expose-gc (run.ts starts its children so). */
export function collect (): void {
  if (gc !== undefined) gc()
}

/** What a workload reports: a measurement (with a problem if the engine answered wrongly), or why it cannot run. */
export type Outcome =
  | { kind: 'ok', ops: number, ms: number, unit?: Unit, problem?: string }
  | { kind: 'n/a', reason: string }

/** Times body alone, in milliseconds, after a collection so that garbage from preparation is not charged to it. */
export async function timed (body: () => Promise<void>): Promise<number> {
  collect()
  const start = process.hrtime.bigint()
  await body()
  const end = process.hrtime.bigint()
  return Number(end - start) / 1e6
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
