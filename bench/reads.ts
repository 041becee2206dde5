// The read workloads the sets share: random point reads four ways (get, getSync, getMany, has) and full
// iterations, each one timed section over a database the caller has filled. Every answer is checked cheaply
// (found or not, how many entries) so that an engine that answers wrongly is reported as an error, not as fast.

import type { Db } from './engines'
import { supportsGetSync } from './get-sync'
import { chunk, type Meter, missing, type Outcome } from './measure'

/** Keys to read, drawn before the clock starts, and how many of them differ (see data.ts distinct()). */
export interface KeySample<K> {
  keys: readonly K[]
  distinct: number
}

/**
 * getSync cannot let the event loop in, whatever the engine does: a caller reading synchronously in a loop has to
 * yield itself. The workload does so every this many calls, so its loop figures show the longest such run
 * rather than the whole workload.
 */
const GETSYNC_RUN = 1000

function immediate (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export async function gets<K, V> (meter: Meter, db: Db<K, V>, sample: KeySample<K>): Promise<Outcome> {
  const { keys } = sample
  let misses = 0
  const timing = await meter.timed(async () => {
    for (let i = 0; i < keys.length; i++) if (await db.get(keys[i]) === undefined) misses++
  })
  return { kind: 'ok', ops: keys.length, timing, distinctKeys: sample.distinct, problem: missing('keys not found', misses, keys.length) }
}

export async function getSyncs<K, V> (meter: Meter, db: Db<K, V>, sample: KeySample<K>): Promise<Outcome> {
  if (!supportsGetSync(db)) return { kind: 'n/a', reason: 'supports.getSync is false' }
  const { keys } = sample
  let misses = 0
  const timing = await meter.timed(async () => {
    for (let start = 0; start < keys.length; start += GETSYNC_RUN) {
      if (start > 0) await immediate()
      const end = Math.min(start + GETSYNC_RUN, keys.length)
      for (let i = start; i < end; i++) if (db.getSync(keys[i]) === undefined) misses++
    }
  })
  return { kind: 'ok', ops: keys.length, timing, distinctKeys: sample.distinct, problem: missing('keys not found', misses, keys.length) }
}

/** `await db.getMany(group)` over the sample cut into groups of `size` keys. */
export async function getManys<K, V> (meter: Meter, db: Db<K, V>, sample: KeySample<K>, size: number): Promise<Outcome> {
  const groups = chunk(sample.keys, size)
  let misses = 0
  const timing = await meter.timed(async () => {
    for (let g = 0; g < groups.length; g++) {
      const got = await db.getMany(groups[g])
      if (got.length !== groups[g].length) misses += groups[g].length
      else for (let i = 0; i < got.length; i++) if (got[i] === undefined) misses++
    }
  })
  return { kind: 'ok', ops: sample.keys.length, timing, distinctKeys: sample.distinct, problem: missing('keys not found', misses, sample.keys.length) }
}

export async function hases<K, V> (meter: Meter, db: Db<K, V>, sample: KeySample<K>): Promise<Outcome> {
  if (!db.supports.has) return { kind: 'n/a', reason: 'supports.has is false' }
  const { keys } = sample
  let misses = 0
  const timing = await meter.timed(async () => {
    for (let i = 0; i < keys.length; i++) if (!await db.has(keys[i])) misses++
  })
  return { kind: 'ok', ops: keys.length, timing, distinctKeys: sample.distinct, problem: missing('keys not found', misses, keys.length) }
}

export interface Scan {
  reverse: boolean
  /** Full iterations, one after another (short databases are iterated several times for a steadier figure). */
  passes: number
  /** Entries the database holds: every pass must see exactly these. */
  entries: number
}

/** Full iterations with `nextv(1000)`, or with `for await` (one entry per step). */
export async function scan<K, V> (meter: Meter, db: Db<K, V>, how: Scan, style: 'nextv' | 'for-await'): Promise<Outcome> {
  let count = 0
  const timing = await meter.timed(async () => {
    for (let p = 0; p < how.passes; p++) {
      if (style === 'for-await') {
        for await (const entry of db.iterator({ reverse: how.reverse })) if (entry !== undefined) count++
        continue
      }
      const it = db.iterator({ reverse: how.reverse })
      try {
        for (;;) {
          const entries = await it.nextv(1000)
          if (entries.length === 0) break
          count += entries.length
        }
      } finally {
        await it.close()
      }
    }
  })
  const expected = how.entries * how.passes
  return { kind: 'ok', ops: count, timing, problem: count === expected ? undefined : `iterated ${count}, expected ${expected}` }
}
