// Memory for the contents of data blocks read from tables. A random read that misses the block cache reads
// a block, and the cache keeps it for a while: when every such block was new memory (an ArrayBuffer, its
// view and the Block), each scavenge of the garbage collector copied every block cached since the last one,
// and the mark-compacts that followed freed them again: the longest pauses of random reads on tables
// (survivors of 360 KB per scavenge and 1.9 ms pauses against 21 KB and 0.5 ms with the cache off). So
// the memory is kept and handed out again: a buffer released here is given to a later block of its size
// class, and Blocks themselves are reused (block.ts), so that reading a block allocates nothing once the
// cache is full.
//
// Buffers are the whole of their own ArrayBuffer (the worker's postMessage may move one) and hold a block's
// contents at [0, size); their capacity is the size rounded up to CLASS_BYTES. Release is explicit and
// counted: a Block holds references (the block cache's, and each BlockIterator on it) and releases its
// buffer when the last goes. Nothing else may keep a view of a released buffer, since its bytes are then
// overwritten by the next block read into it. A buffer that is never released (a block dropped without a
// release, as after an error) is left to the garbage collector. So a missing release costs memory, an early
// one corrupts: releases happen only where the last reference is known to go (block.ts), and the test
// runner fills released buffers with a poison pattern (POISON_ENV) so that any later read of one fails loudly.
//
// Per thread (module state): the main thread's reads and a worker's compactions each have their own.

import { allocUnsafeOwn } from '../util/bytes'

/** Capacities are multiples of this: a 4,200-byte block takes 4,608 bytes. */
const CLASS_BYTES = 512
/** Larger contents get memory that is not kept for reuse: there would be too few of a size to match. */
const LARGEST_POOLED = 64 * 1024
/**
 * Released bytes kept for reuse, over all classes. A full block cache releases about one block per block it
 * takes, so a few blocks of each size in use are enough; more would only hold memory.
 */
const SPARE_BYTES = 1024 * 1024

/** Set to 1 (tests) to fill released buffers with POISON_BYTE: a read of released memory then fails its parse. */
export const POISON_ENV = 'ROUGH_LEVEL_POISON_RELEASED_BLOCKS'
const POISON_BYTE = 0xdb
const poison = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[POISON_ENV] === '1'

/** Released buffers by class: spare[c] holds buffers of c * CLASS_BYTES. */
const spare: Uint8Array[][] = Array.from({ length: LARGEST_POOLED / CLASS_BYTES + 1 }, () => [])
let spareBytes = 0
let buffersCreated = 0

/**
 * A buffer of its own for `n` bytes of block contents (at [0, n); its length is the capacity), a released
 * one of the same class when there is one; see releaseBlockMemory.
 */
export function blockMemory (n: number): Uint8Array {
  if (n > LARGEST_POOLED) return allocUnsafeOwn(n)
  const c = Math.max(1, Math.ceil(n / CLASS_BYTES))
  const reused = spare[c].pop()
  if (reused !== undefined) {
    spareBytes -= reused.length
    return reused
  }
  buffersCreated++
  return allocUnsafeOwn(c * CLASS_BYTES)
}

/**
 * Gives back a buffer from blockMemory. Requires: nothing reads it or a view of it again; it is released at
 * most once. A buffer of another kind (not a whole class-sized buffer of its own) is left alone.
 */
export function releaseBlockMemory (bytes: Uint8Array): void {
  const n = bytes.length
  if (n % CLASS_BYTES !== 0 || n > LARGEST_POOLED || bytes.byteOffset !== 0 || bytes.buffer.byteLength !== n) return
  if (poison) bytes.fill(POISON_BYTE)
  if (spareBytes + n > SPARE_BYTES) return
  spare[n / CLASS_BYTES].push(bytes)
  spareBytes += n
}

/** What a test can see of this thread's block memory. */
export function blockMemoryStats (): { buffersCreated: number, spareBytes: number } {
  return { buffersCreated, spareBytes }
}
