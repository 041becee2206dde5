// A growable arena of bytes in a SharedArrayBuffer, addressed by 4-byte word offsets. The memtable's
// skip-list nodes, keys and values all live here, so the garbage collector sees one object per
// memtable whatever its size, memory use is exact, and a sealed memtable can be handed to the flush
// worker without copying.
//
// Invariant: an offset, once returned, stays valid for the arena's life; growth copies the bytes
// into a larger buffer (amortised doubling), so views (u8/u32) must be re-read after allocate().

import { sharedMemory } from '../util/shared-memory'

export class Arena {
  u8: Uint8Array
  u32: Uint32Array
  /** Next free word. Word 0 is reserved so that offset 0 can mean "null". */
  #top = 1

  /** A new arena, or (with `usedBytes`) a view of an existing one's memory, e.g. in the flush worker. */
  constructor (initialBytes: number | SharedArrayBuffer = 64 * 1024, usedBytes?: number) {
    const sab = typeof initialBytes === 'number'
      ? sharedMemory(Math.max(1024, (initialBytes + 3) & ~3)) // whole words, and room to double from
      : initialBytes
    this.u8 = new Uint8Array(sab)
    this.u32 = new Uint32Array(sab)
    if (usedBytes !== undefined) this.#top = usedBytes >>> 2
  }

  /** Bytes allocated so far. */
  get usage (): number {
    return this.#top * 4
  }

  get buffer (): SharedArrayBuffer {
    return this.u8.buffer as SharedArrayBuffer
  }

  /**
   * Empties the arena for reuse by a new memtable, keeping its memory (not cleared: zeroing a write
   * buffer of 64 MiB would hold the event loop for tens of ms). Requires: nothing reads the old contents
   * any more (no open iterator, no flush in progress).
   */
  reset (): void {
    this.#top = 1
  }

  /**
   * Allocates `bytes` (rounded up to whole words); returns the word offset. The words hold zeros in a
   * new arena and whatever was there before in a reset one: the caller writes every word it reads.
   */
  allocate (bytes: number): number {
    const words = (bytes + 3) >>> 2
    const at = this.#top
    if ((at + words) * 4 > this.u8.length) this.#grow((at + words) * 4)
    this.#top = at + words
    return at
  }

  #grow (needBytes: number): void {
    let size = this.u8.length * 2
    while (size < needBytes) size *= 2
    const sab = sharedMemory(size)
    const u8 = new Uint8Array(sab)
    u8.set(this.u8.subarray(0, this.#top * 4))
    this.u8 = u8
    this.u32 = new Uint32Array(sab)
  }
}
