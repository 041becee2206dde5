// Readahead for a scan of one table: after a few blocks read back to back, blocks are read from the
// file in windows of up to 256 KiB instead of one pread each. LevelDB leaves this to mmap and the
// kernel's readahead; here a pread per 4 KiB block costs a syscall and a Node binding call, which is
// most of what a compaction's or a long scan's reads cost.
//
// A window starts small and doubles while the scan keeps going the same way (forward or backward), so a
// seek followed by a few steps reads no more than it needs. Blocks handed out are views into a window:
// decodeBlock copies an uncompressed one (format.ts), so no block outlives or aliases its window, and one
// buffer per iterator serves every window and every single-block read (a new ArrayBuffer per read costs
// microseconds: engine/table/block-memory.ts).
import { corruption, fromFsError } from '../errors'
import type { RandomAccessFile } from '../fs/file-system'
import { allocUnsafeOwn } from '../util/bytes'
import { BLOCK_TRAILER_SIZE, type BlockHandle } from './format'

/** Blocks read one at a time before windows begin. */
const SEQUENTIAL_BEFORE_WINDOWS = 2
const FIRST_WINDOW_BYTES = 32 * 1024
const MAX_WINDOW_BYTES = 256 * 1024

export class ReadAhead {
  readonly #file: RandomAccessFile
  readonly #fileName: string
  /** Where blocks must end (the footer's start). */
  readonly #limit: number
  /** Where every read goes; #window is the part of it that holds file bytes. */
  #buffer: Uint8Array = allocUnsafeOwn(0)
  #window: Uint8Array | undefined
  #windowStart = 0
  #windowEnd = 0
  #windowBytes = FIRST_WINDOW_BYTES
  /** The range of the last block asked for, to tell a scan from random reads. */
  #lastStart = -1
  #lastEnd = -1
  #forwardRun = 0
  #backwardRun = 0

  constructor (file: RandomAccessFile, fileName: string, limit: number) {
    this.#file = file
    this.#fileName = fileName
    this.#limit = limit
  }

  /**
   * The stored bytes of the block at `handle` (its size plus the trailer), which the caller checked
   * ends by the limit: a view into a window, or a read of its own. Valid until the next call.
   */
  stored (handle: BlockHandle): Uint8Array {
    const start = handle.offset
    const end = start + handle.size + BLOCK_TRAILER_SIZE
    this.#forwardRun = start === this.#lastEnd ? this.#forwardRun + 1 : 0
    this.#backwardRun = end === this.#lastStart ? this.#backwardRun + 1 : 0
    this.#lastStart = start
    this.#lastEnd = end
    if (this.#window !== undefined && start >= this.#windowStart && end <= this.#windowEnd) {
      return this.#window.subarray(start - this.#windowStart, end - this.#windowStart)
    }
    let from = start
    let to = end
    if (this.#forwardRun >= SEQUENTIAL_BEFORE_WINDOWS) {
      to = Math.min(this.#limit, Math.max(end, start + this.#windowBytes))
    } else if (this.#backwardRun >= SEQUENTIAL_BEFORE_WINDOWS) {
      from = Math.max(0, Math.min(start, end - this.#windowBytes))
    } else {
      this.#windowBytes = FIRST_WINDOW_BYTES
    }
    if (to - from > end - start) this.#windowBytes = Math.min(MAX_WINDOW_BYTES, 2 * this.#windowBytes)
    if (this.#buffer.length < to - from) this.#buffer = allocUnsafeOwn(Math.max(to - from, Math.min(2 * this.#buffer.length, MAX_WINDOW_BYTES + 64 * 1024)))
    const buf = this.#buffer
    // The buffer is about to hold other bytes: no window until the read has succeeded.
    this.#window = undefined
    let n: number
    try {
      n = this.#file.read(buf, 0, to - from, from)
    } catch (err) {
      throw fromFsError(`read ${this.#fileName} at offset ${from}`, err)
    }
    if (n < to - from) throw corruption(`truncated block read in ${this.#fileName} at offset ${start}`)
    this.#window = buf
    this.#windowStart = from
    this.#windowEnd = to
    return buf.subarray(start - from, end - from)
  }
}
