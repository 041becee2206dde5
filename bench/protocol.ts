// Messages between bench/run.ts (the parent) and bench/engine-runner.ts (one child per engine and workload set),
// sent over the IPC channel that child_process.fork opens. Plain JSON-serialisable objects only.

export const ENGINES = ['rough', 'classic', 'memory'] as const
export type EngineName = (typeof ENGINES)[number]

/**
 * A workload set's id: 'small', 'large', 'ycsb', 'huge', or a scale set spelled `scale-<keys>-<order>-<batch>`
 * ('scale-1m-random-100'); bench/sets.ts reads and names them.
 */
export type SetName = string

/** Workloads in the order they run and are reported; the set modules implement exactly these. */
export const SMALL_WORKLOADS = [
  'put', 'put-buffer', 'put-inflight-1000', 'batch-1000', 'put-sync', 'put-sync-inflight-100',
  'get', 'getSync', 'getMany-1000', 'has',
  'nextv-1000-forward', 'nextv-1000-reverse', 'for-await-forward', 'for-await-reverse',
  'get-buffer'
] as const
export const LARGE_WORKLOADS = [
  'fillrandom-batch-100', 'reopen', 'readrandom', 'scan-nextv-1000-forward', 'scan-nextv-1000-reverse'
] as const
/** The reads of a scale set, run once right after the fill (`@fill`) and once after the reopen (`@reopen`). */
export const SCALE_READS = ['get', 'getSync', 'getMany-100', 'has', 'scan-forward', 'scan-reverse'] as const
export const SCALE_WORKLOADS = [
  'fill', ...SCALE_READS.map((r) => `${r}@fill` as const), 'close', 'open', ...SCALE_READS.map((r) => `${r}@reopen` as const)
] as const
/** The huge set measures the open of a large database with a full log to replay, then reads it. */
export const HUGE_WORKLOADS = ['fill', 'close', 'open', ...SCALE_READS.map((r) => `${r}@reopen` as const)] as const
/** YCSB's core workloads in the order YCSB's documentation runs them (D and E insert, so they come last). */
export const YCSB_WORKLOADS = ['ycsb-load', 'ycsb-a', 'ycsb-b', 'ycsb-c', 'ycsb-f', 'ycsb-d', 'ycsb-e'] as const
export type SmallWorkload = (typeof SMALL_WORKLOADS)[number]
export type LargeWorkload = (typeof LARGE_WORKLOADS)[number]
export type ScaleWorkload = (typeof SCALE_WORKLOADS)[number]
export type HugeWorkload = (typeof HUGE_WORKLOADS)[number]
export type YcsbWorkload = (typeof YCSB_WORKLOADS)[number]
export type WorkloadName = SmallWorkload | LargeWorkload | ScaleWorkload | HugeWorkload | YcsbWorkload

/** How a workload's figure is shown: a rate, or (for a one-off operation such as a reopen) a duration. */
export type Unit = 'ops/s' | 'ms'

/** The event loop while the workload ran (bench/event-loop-monitor.ts). */
export interface LoopFigures {
  /** The longest interval between two callbacks of a 1 ms setInterval, in ms (about 1 when the loop is free). */
  maxGapMs: number
  /** perf_hooks.monitorEventLoopDelay({ resolution: 1 }), reset for the workload: 99th percentile, in ms. */
  p99Ms: number
  meanMs: number
  maxMs: number
  /** Samples in that histogram; 0 when the loop never turned during the workload (p99 is then maxGapMs). */
  samples: number
}

/** What the workload cost the process besides time (bench/process-usage.ts). */
export interface UsageFigures {
  /** Peak resident memory of the whole process during the workload, in MB. */
  peakRssMB: number
  /** 'workload': the peak was reset when the workload began (/proc/self/clear_refs); 'process': since the start. */
  peakRssScope: 'workload' | 'process'
  /** Bytes the process (worker threads included) wrote towards the disk during the workload. */
  writtenBytes: number
  /** 'proc-io': /proc/self/io write_bytes; 'file-sizes': growth of the files under the scratch directory. */
  writtenSource: 'proc-io' | 'file-sizes'
  /** /proc/self/io cancelled_write_bytes: written, then truncated or deleted before it reached the disk. */
  cancelledWriteBytes?: number
}

/** One operation type's latencies in a workload that records them (YCSB), in microseconds. */
export interface LatencyFigures {
  count: number
  meanUs: number
  p50Us: number
  p99Us: number
  p999Us: number
  maxUs: number
}

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
  loop?: LoopFigures
  usage?: UsageFigures
  /** Distinct keys among those the workload read (random reads draw with replacement). */
  distinctKeys?: number
  /** Per operation type (YCSB: read, update, insert, scan, read-modify-write). */
  latencies?: Record<string, LatencyFigures>
  /** Facts about the database the workload saw (bytes of log replayed by an open, say). */
  facts?: Record<string, number>
  note?: string
}

export interface RunnerOptions {
  engine: EngineName
  set: SetName
  /** Entries in the small (memtable) set. */
  n: number
  /** Entries in the large (tables) set. */
  largeN: number
  /** Entries in the huge set. */
  hugeN: number
  /** Random gets (and getSync, has, getMany keys) per read workload in the small, large, scale and huge sets. */
  reads: number
  /** Sync puts in the small set. */
  syncN: number
  /** Records loaded before the YCSB workloads. */
  ycsbRecords: number
  /** Operations of each YCSB workload. */
  ycsbOps: number
  seed: number
  /** Untimed calls of each kind on a throwaway database before the first workload. */
  warmUp: number
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
