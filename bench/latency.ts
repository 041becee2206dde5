// Per-operation latencies of a workload that records them (YCSB), by operation type, summarised as YCSB's
// report does: count, mean, 50th, 99th and 99.9th percentile (nearest rank) and maximum, in microseconds.

import type { LatencyFigures } from './protocol'

export class Latencies {
  readonly #ms = new Map<string, number[]>()

  /** One operation of `kind` that took `ms` milliseconds (performance.now() differences). */
  record (kind: string, ms: number): void {
    let list = this.#ms.get(kind)
    if (list === undefined) this.#ms.set(kind, list = [])
    list.push(ms)
  }

  figures (): Record<string, LatencyFigures> {
    const out: Record<string, LatencyFigures> = {}
    for (const [kind, list] of this.#ms) {
      const sorted = Float64Array.from(list).sort()
      const us = (ms: number): number => Math.round(ms * 1000 * 10) / 10
      const rank = (p: number): number => us(sorted[Math.max(0, Math.ceil(p / 100 * sorted.length) - 1)])
      const total = sorted.reduce((s, v) => s + v, 0)
      out[kind] = {
        count: sorted.length,
        meanUs: us(total / sorted.length),
        p50Us: rank(50),
        p99Us: rank(99),
        p999Us: rank(99.9),
        maxUs: us(sorted[sorted.length - 1])
      }
    }
    return out
  }
}
