// Deterministic benchmark data: 16-byte keys, values made as LevelDB's db_bench makes them, seeded randomness
// (mulberry32), so that two runs with the same seed issue exactly the same operations in the same order.
import { snappyCompress } from '../engine/table/compression'

export const KEY_BYTES = 16
export const VALUE_BYTES = 100
/** db_bench builds its values from 100-byte pieces, each half random and half a copy of that half. */
const PIECE_BYTES = 100
/** db_bench's 1 MiB of value data: larger than snappy's 32 KiB window, so that no value repeats within a block. */
const POOL_BYTES = 1 << 20

export type Random = () => number

/** mulberry32: a small, fast 32-bit PRNG (period 2^32); returns uint32 words. */
function mulberry32Words (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** mulberry32 as floats in [0, 1) with 32 random bits: enough to pick among a few billion items. */
export function mulberry32 (seed: number): Random {
  const next = mulberry32Words(seed)
  return () => next() / 4294967296
}

/**
 * Floats in [0, 1) with all 53 bits random (two mulberry32 words), for YCSB's zipfian generators, whose
 * rarest items lie in the last few ulps of u.
 */
export function mulberry32Double (seed: number): Random {
  const next = mulberry32Words(seed)
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992
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

/**
 * Value bytes as db_bench makes them (its RandomGenerator and test::CompressibleString with compression ratio
 * 0.5): 1 MiB of 100-byte pieces, each 50 random printable characters (' ' to '~') followed by the same 50 again,
 * so that snappy compresses a block of values to about half. Values are whole pieces (or runs of them), never
 * one repeated character, which would compress to nothing and flatter whichever engine compresses faster.
 */
export class ValuePool {
  readonly #text: string
  readonly #pieces: number

  constructor (random: Random) {
    const half = PIECE_BYTES / 2
    this.#pieces = Math.floor(POOL_BYTES / PIECE_BYTES)
    const bytes = Buffer.allocUnsafe(this.#pieces * PIECE_BYTES)
    for (let p = 0; p < this.#pieces; p++) {
      const at = p * PIECE_BYTES
      for (let c = 0; c < half; c++) bytes[at + c] = 0x20 + Math.floor(random() * 95)
      bytes.copy(bytes, at + half, at, at + half)
    }
    // One flat string: values are slices of it, which V8 keeps as views rather than copies.
    this.#text = bytes.toString('latin1')
  }

  /**
   * The value of entry i: `length` bytes (a multiple of 100) starting at a piece boundary. Depends on i alone, so
   * that every write order stores the same data; consecutive entries get consecutive pieces, as in db_bench.
   */
  value (i: number, length = VALUE_BYTES): string {
    if (length % PIECE_BYTES !== 0 || length > POOL_BYTES) throw new Error(`value length ${length} is not a multiple of ${PIECE_BYTES} up to ${POOL_BYTES}`)
    const span = length / PIECE_BYTES
    const start = ((i * span) % (this.#pieces - span + 1)) * PIECE_BYTES
    return this.#text.slice(start, start + length)
  }
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

/**
 * How many different items a draw holds. Printed beside every random read: a weak generator (an LCG in doubles
 * cycles after some thousands of draws) would silently turn a random read into a cached one.
 */
export function distinct (items: ArrayLike<number>): number {
  const seen = new Set<number>()
  for (let i = 0; i < items.length; i++) seen.add(items[i])
  return seen.size
}


/**
 * Compressed size over raw size of runs of 40 consecutive values (about one 4 KiB table block), each run
 * compressed alone as a table block is: about 0.5 for db_bench's data.
 */
export function snappyRatio (pool: ValuePool, runs = 25): number {
  let raw = 0
  let compressed = 0
  for (let r = 0; r < runs; r++) {
    let block = ''
    for (let i = 0; i < 40; i++) block += pool.value(r * 997 + i)
    const bytes = Buffer.from(block, 'latin1')
    raw += bytes.length
    compressed += snappyCompress(bytes).length
  }
  return compressed / raw
}
