// Deterministic benchmark data: 16-byte keys, 100-byte values, seeded randomness (mulberry32), so that two runs
// with the same seed issue exactly the same operations in the same order.

export const KEY_BYTES = 16
export const VALUE_BYTES = 100
/** Distinct values; entries reuse them (keys are all distinct). Keeps the harness's own heap small at 1,000,000. */
const VALUE_POOL = 1024
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export type Random = () => number

/** mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32 (seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A seed for one named stream, so that a workload's operations do not depend on which others ran (--only). */
export function streamSeed (seed: number, name: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** Key of entry i: 16 ASCII digits, as LevelDB's db_bench writes them ("%016d"). */
export function keyOf (i: number): string {
  return String(i).padStart(KEY_BYTES, '0')
}

export function makeKeys (n: number): string[] {
  const keys = new Array<string>(n)
  for (let i = 0; i < n; i++) keys[i] = keyOf(i)
  return keys
}

export function makeValues (random: Random): string[] {
  const values = new Array<string>(VALUE_POOL)
  for (let v = 0; v < VALUE_POOL; v++) {
    let s = ''
    for (let c = 0; c < VALUE_BYTES; c++) s += ALPHABET[Math.floor(random() * ALPHABET.length)]
    values[v] = s
  }
  return values
}

export function valueFor (values: readonly string[], i: number): string {
  return values[i % values.length]
}

/** The indices 0..n-1 in a random order (Fisher-Yates). */
export function permutation (n: number, random: Random): Uint32Array {
  const p = new Uint32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = p[i]
    p[i] = p[j]
    p[j] = t
  }
  return p
}

/** count indices drawn uniformly from 0..n-1, with replacement. */
export function sample (n: number, count: number, random: Random): Uint32Array {
  const s = new Uint32Array(count)
  for (let i = 0; i < count; i++) s[i] = Math.floor(random() * n)
  return s
}
