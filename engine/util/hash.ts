// LevelDB's 32-bit hash (util/hash.cc), used by the bloom filter (seed 0xbc9f1d34). A Murmur-like mix:
// h = seed ^ (n * m); each whole little-endian word w: h = (h + w) * m, h ^= h >>> 16; then up to three
// tail bytes, read as UNSIGNED (LevelDB >= 1.18) and added with fall-through (b2 << 16, b1 << 8, b0),
// followed by h *= m, h ^= h >>> 24 only when there was a tail.
// All arithmetic is mod 2^32 (Math.imul, >>> 0). The bits must match LevelDB's exactly: a filter built
// with a different hash makes LevelDB answer NotFound for keys that exist. See docs/format.md, "Bloom filter".

const M = 0xc6a4a793

/** LevelDB's Hash(data, n, seed) over data[off, off + len). Returns a uint32. */
export function hash (data: Uint8Array, off: number, len: number, seed: number): number {
  let h = (seed ^ Math.imul(len, M)) >>> 0
  const end = off + len
  let i = off
  for (; i + 4 <= end; i += 4) {
    const w = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    h = Math.imul((h + w) | 0, M)
    h ^= h >>> 16
  }
  const tail = end - i
  if (tail > 0) {
    if (tail === 3) h = (h + (data[i + 2] << 16)) | 0
    if (tail >= 2) h = (h + (data[i + 1] << 8)) | 0
    h = Math.imul((h + data[i]) | 0, M)
    h ^= h >>> 24
  }
  return h >>> 0
}
