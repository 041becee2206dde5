// YCSB's request generators as its core package defines them (site.ycsb.generator and site.ycsb.Utils):
// ZipfianGenerator (Gray et al., "Quickly Generating Billion-Record Synthetic Databases", SIGMOD 1994, with
// YCSB's incremental zeta when the item count grows), ScrambledZipfianGenerator (popular items spread over the key
// space by a 64-bit FNV hash), SkewedLatestGenerator (zipfian over the most recent inserts), UniformLongGenerator,
// DiscreteGenerator, and CoreWorkload's key names ("user" + the FNV hash of the record number). YCSB draws from
// ThreadLocalRandom; here every generator takes a seeded Random so that two runs issue the same requests.

import type { Random } from './data'

/** YCSB's zipfian constant (theta). */
export const ZIPFIAN_CONSTANT = 0.99

/** ScrambledZipfianGenerator draws from a zipfian over this many items, then hashes into the real range. */
const SCRAMBLED_ITEMS = 10_000_000_000
/** zeta(SCRAMBLED_ITEMS + 1, 0.99), precomputed by YCSB (summing 10^10 terms takes minutes). */
const SCRAMBLED_ZETAN = 26.46902820178302

const FNV_OFFSET_BASIS_64 = 0xcbf29ce484222325n
const FNV_PRIME_64 = 1099511628211n

/**
 * Utils.fnvhash64: FNV-1a over the 8 little-endian bytes of a Java long, then Math.abs of the signed result.
 * BigInt, because the product needs all 64 bits; only used while preparing requests, never on the clock.
 */
export function fnvhash64 (value: number): bigint {
  let v = BigInt(value)
  let hash = FNV_OFFSET_BASIS_64
  for (let i = 0; i < 8; i++) {
    hash = BigInt.asUintN(64, (hash ^ (v & 0xffn)) * FNV_PRIME_64)
    v >>= 8n
  }
  const signed = BigInt.asIntN(64, hash)
  // Java's Math.abs(Long.MIN_VALUE) is Long.MIN_VALUE.
  return signed < 0n && signed !== -(1n << 63n) ? -signed : signed
}

/** CoreWorkload.buildKeyName with YCSB's defaults (insertorder=hashed, zeropadding=1): "user" + the hash. */
export function keyName (keynum: number): string {
  return `user${fnvhash64(keynum)}`
}

/** A generator of record numbers (YCSB's NumberGenerator, reduced to what the core workloads use). */
export interface KeyChooser {
  next: () => number
}

/** zeta(n, theta) continued from the sum over the first st items. */
function zeta (st: number, n: number, theta: number, initial: number): number {
  let sum = initial
  for (let i = st; i < n; i++) sum += 1 / Math.pow(i + 1, theta)
  return sum
}

/** ZipfianGenerator: item min is the most popular, min + 1 the next, and so on up to max (inclusive). */
export class Zipfian implements KeyChooser {
  readonly #random: Random
  readonly #items: number
  readonly #base: number
  readonly #theta: number
  readonly #alpha: number
  readonly #zeta2theta: number
  #zetan: number
  #eta: number
  #countForZeta: number

  constructor (random: Random, min: number, max: number, theta = ZIPFIAN_CONSTANT, zetan?: number) {
    this.#random = random
    this.#items = max - min + 1
    this.#base = min
    this.#theta = theta
    this.#zeta2theta = zeta(0, 2, theta, 0)
    this.#alpha = 1 / (1 - theta)
    this.#zetan = zetan ?? zeta(0, this.#items, theta, 0)
    this.#countForZeta = this.#items
    this.#eta = this.#etaFor(this.#zetan)
    this.next() // as YCSB's constructor does: the first draw is thrown away
  }

  next (): number {
    return this.nextLong(this.#items)
  }

  /** A draw among itemCount items; a count larger than the last one extends zeta incrementally, as YCSB does. */
  nextLong (itemCount: number): number {
    if (itemCount > this.#countForZeta) {
      this.#zetan = zeta(this.#countForZeta, itemCount, this.#theta, this.#zetan)
      this.#countForZeta = itemCount
      this.#eta = this.#etaFor(this.#zetan)
    }
    const u = this.#random()
    const uz = u * this.#zetan
    if (uz < 1) return this.#base
    if (uz < 1 + Math.pow(0.5, this.#theta)) return this.#base + 1
    return this.#base + Math.floor(itemCount * Math.pow(this.#eta * u - this.#eta + 1, this.#alpha))
  }

  #etaFor (zetan: number): number {
    // YCSB computes eta from the constructor's item count even after zeta has grown; so does this.
    return (1 - Math.pow(2 / this.#items, 1 - this.#theta)) / (1 - this.#zeta2theta / zetan)
  }
}

/** ScrambledZipfianGenerator: zipfian popularity, but the popular records scattered over min..max. */
export class ScrambledZipfian implements KeyChooser {
  readonly #gen: Zipfian
  readonly #min: number
  readonly #count: bigint

  constructor (random: Random, min: number, max: number) {
    this.#gen = new Zipfian(random, 0, SCRAMBLED_ITEMS, ZIPFIAN_CONSTANT, SCRAMBLED_ZETAN)
    this.#min = min
    this.#count = BigInt(max - min + 1)
  }

  next (): number {
    return this.#min + Number(fnvhash64(this.#gen.next()) % this.#count)
  }
}

/** AcknowledgedCounterGenerator for one client: the record numbers inserts take, and the last one written. */
export class InsertCounter {
  #next: number
  #last: number

  constructor (start: number) {
    this.#next = start
    this.#last = start - 1
  }

  take (): number {
    return this.#next++
  }

  /** One client writes in order, so an acknowledged insert is always the newest. */
  acknowledge (keynum: number): void {
    this.#last = keynum
  }

  last (): number {
    return this.#last
  }
}

/** SkewedLatestGenerator: zipfian over the inserts counted back from the newest. */
export class SkewedLatest implements KeyChooser {
  readonly #basis: InsertCounter
  readonly #zipfian: Zipfian

  constructor (random: Random, basis: InsertCounter) {
    this.#basis = basis
    this.#zipfian = new Zipfian(random, 0, basis.last() - 1)
    this.next()
  }

  next (): number {
    const max = this.#basis.last()
    return max - this.#zipfian.nextLong(max)
  }
}

/** UniformLongGenerator: lb..ub inclusive. */
export class UniformLong implements KeyChooser {
  readonly #random: Random
  readonly #lb: number
  readonly #span: number

  constructor (random: Random, lb: number, ub: number) {
    this.#random = random
    this.#lb = lb
    this.#span = ub - lb + 1
  }

  next (): number {
    return this.#lb + Math.floor(this.#random() * this.#span)
  }
}

/** DiscreteGenerator: one of the values, with probability proportional to its weight. */
export function discrete<T> (random: Random, weighted: ReadonlyArray<readonly [number, T]>): () => T {
  const sum = weighted.reduce((s, [w]) => s + w, 0)
  return () => {
    let chooser = random()
    for (const [weight, value] of weighted) {
      if (chooser < weight / sum) return value
      chooser -= weight / sum
    }
    return weighted[weighted.length - 1][1]
  }
}
