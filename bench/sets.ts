// The workload sets: what a set's id means, which workloads it runs, and which sets run by default.
//   small                 30,000 entries in the memtable (issue 2)
//   large                 1,000,000 entries in tables: fill, reopen, random reads, scans (issue 3)
//   scale-<keys>-<order>-<batch>, e.g. scale-5m-random-1000: a fill of <keys> entries ('1m', '5m', '200k' or a
//                         number) in <order> ('random' or 'seq') in batches of <batch>, then reads twice (issue 12)
//   huge                  10,000,000 entries and a full log to replay: the open-time goal (issue 12)
//   ycsb                  YCSB's core workloads A-F after a load phase (issue 12)

import {
  HUGE_WORKLOADS, LARGE_WORKLOADS, SCALE_WORKLOADS, SMALL_WORKLOADS, YCSB_WORKLOADS,
  type RunnerOptions, type SetName, type WorkloadName
} from './protocol'

export type FillOrder = 'random' | 'seq'

export type SetSpec =
  | { kind: 'small' }
  | { kind: 'large' }
  | { kind: 'ycsb' }
  | { kind: 'huge' }
  | { kind: 'scale', keys: number, order: FillOrder, batch: number }

export type SetKind = SetSpec['kind']
export const SET_KINDS: readonly SetKind[] = ['small', 'large', 'scale', 'ycsb', 'huge']
/** What `npm run bench` runs without a set flag: everything but the huge set. */
export const DEFAULT_KINDS: readonly SetKind[] = ['small', 'large', 'scale', 'ycsb']

/**
 * The scale combinations of a default run: at 1M, random fills in both batch sizes and a sequential one (the
 * effects of batch size and of order), and one 5M fill (the effect of size), so that the default run stays short.
 */
export const SCALE_DEFAULT = ['1m-random-100', '1m-random-1000', '1m-seq-100', '5m-random-1000']
/** `--scale=all`: every order and batch size at both sizes. */
export const SCALE_ALL = [...SCALE_DEFAULT, '1m-seq-1000', '5m-random-100', '5m-seq-100', '5m-seq-1000']

/** '1m' -> 1,000,000; '200k' -> 200,000; '2000' -> 2,000. */
function parseCount (text: string): number | undefined {
  const m = /^(\d+)([km]?)$/.exec(text)
  if (m === null) return undefined
  const value = Number(m[1]) * (m[2] === 'm' ? 1_000_000 : m[2] === 'k' ? 1000 : 1)
  return value > 0 && Number.isSafeInteger(value) ? value : undefined
}

const SCALE_FORM = 'scale-<keys>-<random|seq>-<batch>, e.g. scale-1m-random-100'

/** The spec a set id names; throws on an id that names none. */
export function parseSet (id: SetName): SetSpec {
  if (id === 'small' || id === 'large' || id === 'ycsb' || id === 'huge') return { kind: id }
  const m = /^scale-([0-9]+[km]?)-(random|seq)-([0-9]+)$/.exec(id)
  const keys = m === null ? undefined : parseCount(m[1])
  const batch = m === null ? undefined : parseCount(m[3])
  if (m === null || keys === undefined || batch === undefined) {
    throw new Error(`unknown set ${id}; sets: small, large, ycsb, huge, ${SCALE_FORM}`)
  }
  return { kind: 'scale', keys, order: m[2] as FillOrder, batch }
}

/** The set id of a scale combination as --scale spells it ('1m-random-100'). */
export function scaleSetName (combination: string): SetName {
  const id = `scale-${combination}`
  parseSet(id)
  return id
}

export function workloadsOf (spec: SetSpec): readonly WorkloadName[] {
  switch (spec.kind) {
    case 'small': return SMALL_WORKLOADS
    case 'large': return LARGE_WORKLOADS
    case 'scale': return SCALE_WORKLOADS
    case 'huge': return HUGE_WORKLOADS
    case 'ycsb': return YCSB_WORKLOADS
  }
}

export type SizeOptions = Pick<RunnerOptions, 'n' | 'largeN' | 'hugeN' | 'ycsbRecords'>

/** The entries a set's database holds once filled (for YCSB, the records of the load phase). */
export function entriesOf (spec: SetSpec, sizes: SizeOptions): number {
  switch (spec.kind) {
    case 'small': return sizes.n
    case 'large': return sizes.largeN
    case 'scale': return spec.keys
    case 'huge': return sizes.hugeN
    case 'ycsb': return sizes.ycsbRecords
  }
}
