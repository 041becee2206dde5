// The workload sets: what a set's id means, which workloads it runs, and which sets run by default.
//   small                 30,000 entries in the memtable (issue 2)
//   large                 1,000,000 entries in tables: fill, reopen, random reads, scans (issue 3)

import { LARGE_WORKLOADS, SMALL_WORKLOADS, type RunnerOptions, type SetName, type WorkloadName } from './protocol'

export type SetSpec =
  | { kind: 'small' }
  | { kind: 'large' }

export type SetKind = SetSpec['kind']
export const SET_KINDS: readonly SetKind[] = ['small', 'large']
/** What `npm run bench` runs without a set flag. */
export const DEFAULT_KINDS: readonly SetKind[] = ['small', 'large']

/** The spec a set id names; throws on an id that names none. */
export function parseSet (id: SetName): SetSpec {
  if (id === 'small' || id === 'large') return { kind: id }
  throw new Error(`unknown set ${id}; sets: small, large`)
}

export function workloadsOf (spec: SetSpec): readonly WorkloadName[] {
  switch (spec.kind) {
    case 'small': return SMALL_WORKLOADS
    case 'large': return LARGE_WORKLOADS
  }
}

export type SizeOptions = Pick<RunnerOptions, 'n' | 'largeN'>

/** The entries a set's database holds once filled. */
export function entriesOf (spec: SetSpec, sizes: SizeOptions): number {
  switch (spec.kind) {
    case 'small': return sizes.n
    case 'large': return sizes.largeN
  }
}
