// CRC-32C (Castagnoli) as LevelDB uses it (util/crc32c.h): the standard crc32c, `extend` to continue
// over more bytes, and the mask applied to every CRC stored on disk (so that a CRC of data that itself
// contains CRCs does not checksum to a fixed value).
//
// The native @node-rs/crc32 binding is about 10x faster than a table-driven JS loop on a 4 KiB block; the
// pure-TypeScript slice-by-4 fallback is used only when the binding cannot load (a platform without a
// prebuilt package) and gives the same results.

import { encodeUtf8 } from './bytes'

const MASK_DELTA = 0xa282ead8

type Crc32c = (input: Uint8Array, initial: number) => number

function makeTables (): Uint32Array[] {
  const tables = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)]
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    tables[0][i] = c >>> 0
  }
  for (let i = 0; i < 256; i++) {
    for (let t = 1; t < 4; t++) {
      const prev = tables[t - 1][i]
      tables[t][i] = (tables[0][prev & 0xff] ^ (prev >>> 8)) >>> 0
    }
  }
  return tables
}

let tables: Uint32Array[] | undefined

/** Pure-TypeScript crc32c (slice-by-4). `initial` is a previous result to extend, 0 to start. */
export function crc32cPure (data: Uint8Array, initial = 0): number {
  tables ??= makeTables()
  const [t0, t1, t2, t3] = tables
  let crc = ~initial >>> 0
  let i = 0
  const n = data.length
  for (; i + 4 <= n; i += 4) {
    crc ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    crc = t3[crc & 0xff] ^ t2[(crc >>> 8) & 0xff] ^ t1[(crc >>> 16) & 0xff] ^ t0[crc >>> 24]
  }
  for (; i < n; i++) crc = t0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8)
  return ~crc >>> 0
}

function loadNative (): Crc32c | undefined {
  // A browser has no process (and no native binding: the browser build maps it to nothing).
  if (typeof process === 'undefined' || process.env.ROUGH_LEVEL_PURE_CRC === '1') return undefined
  try {
    const native = require('@node-rs/crc32') as { crc32c: (input: Uint8Array, initial?: number) => number }
    // Prove the binding computes what we expect before trusting it with every checksum.
    if (native.crc32c(encodeUtf8('123456789'), 0) !== 0xe3069283) return undefined
    return (input, initial) => native.crc32c(input, initial)
  } catch {
    return undefined
  }
}

const native = loadNative()

/** True when the native binding is in use (reported by tests and the benchmark). */
export const nativeCrc32c = native !== undefined

/** crc32c of `data`, continuing from `initial` (a previous crc32c result) when given. */
export const crc32c: Crc32c = native ?? crc32cPure

export function mask (crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0
}

export function unmask (masked: number): number {
  const r = (masked - MASK_DELTA) >>> 0
  return ((r >>> 17) | (r << 15)) >>> 0
}
