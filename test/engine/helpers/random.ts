// A small seeded generator (xorshift128+ reduced to 32-bit output) so that randomized tests repeat
// exactly: a failure names its seed, and rerunning with that seed reproduces it.

export class Random {
  readonly seed: number
  #a: number
  #b: number
  #c: number
  #d: number

  constructor (seed: number) {
    this.seed = seed
    // splitmix32-style scrambling of the seed into four words, none of them all-zero.
    let s = seed >>> 0
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.#a = next() | 1
    this.#b = next()
    this.#c = next()
    this.#d = next()
  }

  /** A uniform uint32 (xoshiro128**). */
  u32 (): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0
    const t = this.#b << 9
    this.#c ^= this.#a
    this.#d ^= this.#b
    this.#b ^= this.#c
    this.#a ^= this.#d
    this.#c ^= t
    this.#d = rotl(this.#d, 11)
    return result
  }

  /** A uniform integer in [0, n), n <= 2^32. */
  int (n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n)
  }

  /** A uniform integer in [lo, hi]. */
  range (lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  /** True with probability p. */
  chance (p: number): boolean {
    return this.u32() / 0x100000000 < p
  }

  pick<T> (items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  bytes (n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff
    return out
  }
}

function rotl (x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
