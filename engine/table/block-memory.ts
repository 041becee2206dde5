// Memory for block contents read from tables. Creating an ArrayBuffer costs about 3.4 us here (the
// allocation, V8's external-memory accounting, the GC's sweeping of it) against 0.1 us for a view into
// memory already held, and a table read that misses the block cache needs one per block: as much as the
// pread itself. So blocks are cut from 256 KiB slabs, one slab at a time per thread.
//
// A slab lives while any block cut from it does. Blocks read by scans and compactions die within the scan;
// blocks in the block cache die in the cache's LRU order, which is roughly the order they were cut, so
// slabs are freed in turn. A block that proves hot (its first cache hit, Table.dataBlock) is moved to
// memory of its own (Block.ownBytes), so that it never pins a slab of cold neighbours; so are the blocks a
// table keeps for its life (index, filter).

import { allocUnsafeOwn } from '../util/bytes'

const SLAB_BYTES = 256 * 1024
/** Larger contents get an allocation of their own: a slab would hold too few. */
const LARGEST_CUT = 64 * 1024

let slab = allocUnsafeOwn(SLAB_BYTES)
let used = 0

/** `n` bytes (uninitialised) for a block's contents, cut from this thread's slab. */
export function blockBytes (n: number): Uint8Array {
  if (n > LARGEST_CUT) return allocUnsafeOwn(n)
  if (used + n > SLAB_BYTES) {
    slab = allocUnsafeOwn(SLAB_BYTES)
    used = 0
  }
  const bytes = slab.subarray(used, used + n)
  // Keep cuts 8-byte aligned, so that no two blocks share a word.
  used += (n + 7) & ~7
  return bytes
}

/** `bytes` if they are the whole of their buffer, else a copy that is. */
export function ownedBytes (bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes
  const copy = allocUnsafeOwn(bytes.length)
  copy.set(bytes)
  return copy
}
