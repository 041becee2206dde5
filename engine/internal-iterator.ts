// The internal read stack's iterator (LevelDB include/leveldb/iterator.h, over internal keys).
// Every source (memtable, block, table, merging, level) implements it, so the merging iterator and
// compaction treat them alike.
//
// The current entry is exposed as (buffer, offset, length) views that stay valid only until the next
// move: no iterator allocates per entry, and a caller that keeps bytes copies them.
// Errors (corruption, I/O) are thrown from the move that meets them.

export interface InternalIterator {
  /** True when positioned at an entry. */
  valid (): boolean
  seekToFirst (): void
  seekToLast (): void
  /** Positions at the first entry whose internal key is >= target. */
  seek (target: Uint8Array, targetOff: number, targetLen: number): void
  /** Requires valid(). */
  next (): void
  /** Requires valid(). */
  prev (): void

  /** Current internal key (user key ‖ 8-byte tag); requires valid(). */
  readonly keyBuf: Uint8Array
  readonly keyOff: number
  readonly keyLen: number
  /** Current value; requires valid(). */
  readonly valueBuf: Uint8Array
  readonly valueOff: number
  readonly valueLen: number

  /** Releases what the iterator pins (table handles, cached blocks). Idempotent. */
  close (): void
}
