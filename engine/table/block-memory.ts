// Memory for block contents read from tables. Creating an ArrayBuffer costs about 3.4 us here (the
// allocation, V8's external-memory accounting, the GC's sweeping of it) against 0.1 us for a view into
// memory already held, and the first write to memory new to the process costs page faults (1-2 us per
// 4 KiB in this VM); a table read that misses the block cache needs one block's worth: as much as the pread
// itself. So blocks are cut from 256 KiB slabs, one slab at a time per thread, and a slab whose cuts have
// all been released is used again instead of being left to the garbage collector (whose mark-compacts,
// driven by that external memory, were the longest pauses of random reads on tables).
//
// Release is explicit and counted: a Block holds references (the block cache's, and each BlockIterator
// on it: block.ts) and releases its cut when the last goes. Nothing else may keep a view of a released
// cut, since its bytes are then overwritten by the next block read. A cut that is never released (a block
// dropped without a release, as after an error) only keeps its slab from being reused: the slab is then
// left to the garbage collector as before. So a missing release costs memory, an early one corrupts:
// releases happen only where the last reference is known to go (block.ts), and the test runner fills
// released cuts with a poison pattern (POISON_ENV) so that any later read of one fails loudly.
//
// A block that proves hot (its first cache hit with no iterator on it, Table.dataBlock) is moved to memory
// of its own (Block.ownBytes), so that it never keeps a slab of cold neighbours from being reused; so are
// the blocks a table keeps for its life (index, filter).
//
// Per thread (module state): the main thread's reads and a worker's compactions each have their own slabs.

import { allocUnsafeOwn } from '../util/bytes'

const SLAB_BYTES = 256 * 1024
/** Larger contents get an allocation of their own: a slab would hold too few. */
const LARGEST_CUT = 64 * 1024
/**
 * Empty slabs kept for reuse. A block cache evicts about one block per block it reads, so in a steady
 * state slabs empty about as fast as they fill and a few spare are enough; more would only hold memory.
 */
const SPARE_SLABS = 8

/** Set to 1 (tests) to fill released cuts with POISON_BYTE: a read of released memory then fails its parse. */
export const POISON_ENV = 'ROUGH_LEVEL_POISON_RELEASED_BLOCKS'
const POISON_BYTE = 0xdb
const poison = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[POISON_ENV] === '1'

class Slab {
  readonly bytes = allocUnsafeOwn(SLAB_BYTES)
  /** Where the next cut starts. */
  used = 0
  /** Cuts not yet released. */
  live = 0
}

const slabOf = new WeakMap<ArrayBufferLike, Slab>()
const spare: Slab[] = []
let slabsCreated = 0
let current = newSlab()

function newSlab (): Slab {
  slabsCreated++
  const slab = new Slab()
  slabOf.set(slab.bytes.buffer, slab)
  return slab
}

/** `n` bytes (uninitialised) for a block's contents, cut from this thread's slab; see releaseBlockBytes. */
export function blockBytes (n: number): Uint8Array {
  if (n > LARGEST_CUT) return allocUnsafeOwn(n)
  let slab = current
  if (slab.used + n > SLAB_BYTES) {
    // The full slab goes back to spare when its last cut is released (releaseBlockBytes).
    slab = current = spare.pop() ?? newSlab()
  }
  const bytes = slab.bytes.subarray(slab.used, slab.used + n)
  // Keep cuts 8-byte aligned, so that no two blocks share a word.
  slab.used += (n + 7) & ~7
  slab.live++
  return bytes
}

/**
 * Gives back the memory of `bytes` (contents from blockBytes, or memory of their own, for which this does
 * nothing). Requires: no view of them is read again; each cut is released at most once.
 */
export function releaseBlockBytes (bytes: Uint8Array): void {
  const slab = slabOf.get(bytes.buffer)
  if (slab === undefined) return
  if (poison) bytes.fill(POISON_BYTE)
  if (--slab.live > 0) return
  slab.used = 0
  if (slab !== current && spare.length < SPARE_SLABS) spare.push(slab)
}

/**
 * `bytes` if they are the whole of their buffer, else a copy that is, and the cut released.
 * Requires: when `bytes` is a cut, nothing else holds a view of it.
 */
export function ownedBytes (bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes
  const copy = allocUnsafeOwn(bytes.length)
  copy.set(bytes)
  releaseBlockBytes(bytes)
  return copy
}

/** What a test can see of this thread's slabs. */
export function blockMemoryStats (): { slabsCreated: number, spareSlabs: number } {
  return { slabsCreated, spareSlabs: spare.length }
}
