// Messages between bench/run.ts (the parent) and bench/engine-runner.ts (one child per engine and workload set),
// sent over the IPC channel that child_process.fork opens. Plain JSON-serialisable objects only.

export const ENGINES = ['rough', 'classic', 'memory'] as const
export type EngineName = (typeof ENGINES)[number]

export const SETS = ['small', 'large'] as const
export type SetName = (typeof SETS)[number]

/** Workloads in the order they run and are reported; engine-runner.ts implements exactly these. */
export const SMALL_WORKLOADS = [
  'put', 'put-buffer', 'put-inflight-1000', 'batch-1000', 'put-sync', 'put-sync-inflight-100',
  'get', 'getSync', 'getMany-1000', 'has',
  'nextv-1000-forward', 'nextv-1000-reverse', 'for-await-forward', 'for-await-reverse',
  'get-buffer'
] as const
export const LARGE_WORKLOADS = [
  'fillrandom-batch-100', 'reopen', 'readrandom', 'scan-nextv-1000-forward', 'scan-nextv-1000-reverse'
] as const
export type SmallWorkload = (typeof SMALL_WORKLOADS)[number]
export type LargeWorkload = (typeof LARGE_WORKLOADS)[number]
export type WorkloadName = SmallWorkload | LargeWorkload

export const WORKLOADS: Record<SetName, readonly WorkloadName[]> = { small: SMALL_WORKLOADS, large: LARGE_WORKLOADS }

/** How a workload's figure is shown: a rate, or (for a one-off operation such as a reopen) a duration. */
export type Unit = 'ops/s' | 'ms'

export interface WorkloadResult {
  name: string
  unit: Unit
  /** 'ok': measured; 'n/a': the engine lacks the feature; 'error': the workload threw or returned wrong data. */
  status: 'ok' | 'n/a' | 'error'
  /** Operations counted (entries written, keys read, entries iterated). */
  ops: number
  /** Wall time of the timed section, in milliseconds. */
  ms: number
  /** ops / seconds; for unit 'ms' this is the number of such operations per second (1000 / ms for one op). */
  opsPerSec: number
  note?: string
}

export interface RunnerOptions {
  engine: EngineName
  set: SetName
  /** Entries in the small (memtable) set. */
  n: number
  /** Entries in the large (tables) set. */
  largeN: number
  /** Random gets in the large set. */
  reads: number
  /** Sync puts in the small set. */
  syncN: number
  seed: number
  /** Workload names to run; empty means all. */
  only: string[]
}

export type ChildMessage =
  | { type: 'start', engine: EngineName, set: SetName, version: string, rssBeforeOpenMB: number, warning?: string }
  | { type: 'unavailable', engine: EngineName, set: SetName, error: string }
  | { type: 'scratch', engine: EngineName, set: SetName, dir: string }
  | { type: 'begin', engine: EngineName, set: SetName, name: string }
  | { type: 'workload', engine: EngineName, set: SetName, result: WorkloadResult }
  | { type: 'done', engine: EngineName, set: SetName, maxRssMB: number }
  | { type: 'fatal', engine: EngineName, set: SetName, error: string }

export function isChildMessage (value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
}
