// Builds one block of a table (LevelDB table/block_builder.cc; docs/format.md, "Block contents"):
//
//   entry := varint32 shared ‖ varint32 non_shared ‖ varint32 value_length ‖ key_delta[non_shared] ‖ value
//   block := entry* ‖ fixed32 restart_offset[num_restarts] ‖ fixed32 num_restarts
//
// Each key is stored as the length of the prefix it shares with the previous key plus the rest, except
// every `restartInterval`-th entry (a restart point), which stores its whole key (shared = 0) and whose
// offset goes into the restart array; readers binary-search those. restart_offset[0] = 0 always, so an
// empty block is the 8 bytes 00 00 00 00 01 00 00 00.
// Data and metaindex blocks use Options.block_restart_interval (16); index blocks use 1.
import { putFixed32, putVarint32 } from '../util/coding'

const INITIAL_CAPACITY = 8 * 1024

/**
 * Builds one block at a time; the same builder (and its buffer) is reused for every block of a table.
 * Requires: keys arrive in strictly increasing order of the table's comparator (TableBuilder checks).
 * The array returned by finish() is valid until reset() or the next add().
 */
export class BlockBuilder {
  readonly restartInterval: number
  #buf = new Uint8Array(INITIAL_CAPACITY)
  #len = 0
  #restarts = new Uint32Array(64)
  #numRestarts = 1 // restart_offset[0] = 0
  #counter = 0 // entries since the last restart
  #lastKey = new Uint8Array(256)
  #lastKeyLen = 0
  #finished = false

  constructor (restartInterval: number) {
    if (!(restartInterval >= 1)) throw new RangeError(`block restart interval must be >= 1, got ${restartInterval}`)
    this.restartInterval = restartInterval
  }

  /** Starts a new, empty block, keeping the buffers. */
  reset (): void {
    this.#len = 0
    this.#numRestarts = 1
    this.#restarts[0] = 0
    this.#counter = 0
    this.#lastKeyLen = 0
    this.#finished = false
  }

  /** True when no entry has been added since the last reset. */
  empty (): boolean {
    return this.#len === 0
  }

  /** The block's size if finished now: entries, restart array and count (LevelDB's CurrentSizeEstimate). */
  currentSizeEstimate (): number {
    return this.#len + this.#numRestarts * 4 + 4
  }

  /** Appends an entry. Requires: not finished; key greater than every key added since reset(). */
  add (key: Uint8Array, keyOff: number, keyLen: number, value: Uint8Array, valueOff: number, valueLen: number): void {
    if (this.#finished) throw new Error('BlockBuilder.add after finish() without reset()')
    let shared = 0
    if (this.#counter < this.restartInterval) {
      const last = this.#lastKey
      const n = keyLen < this.#lastKeyLen ? keyLen : this.#lastKeyLen
      while (shared < n && last[shared] === key[keyOff + shared]) shared++
    } else {
      if (this.#numRestarts === this.#restarts.length) {
        const grown = new Uint32Array(this.#restarts.length * 2)
        grown.set(this.#restarts)
        this.#restarts = grown
      }
      this.#restarts[this.#numRestarts++] = this.#len
      this.#counter = 0
    }
    const nonShared = keyLen - shared
    this.#reserve(15 + nonShared + valueLen)
    const buf = this.#buf
    let p = putVarint32(buf, this.#len, shared)
    p = putVarint32(buf, p, nonShared)
    p = putVarint32(buf, p, valueLen)
    p = copy(key, keyOff + shared, nonShared, buf, p)
    this.#len = copy(value, valueOff, valueLen, buf, p)

    if (keyLen > this.#lastKey.length) {
      const grown = new Uint8Array(Math.max(keyLen, this.#lastKey.length * 2))
      grown.set(this.#lastKey.subarray(0, shared))
      this.#lastKey = grown
    }
    copy(key, keyOff + shared, nonShared, this.#lastKey, shared)
    this.#lastKeyLen = keyLen
    this.#counter++
  }

  /** Appends the restart array and its count; returns the block's bytes (valid until reset() or add()). */
  finish (): Uint8Array {
    if (!this.#finished) {
      this.#reserve(this.#numRestarts * 4 + 4)
      let p = this.#len
      for (let i = 0; i < this.#numRestarts; i++) p = putFixed32(this.#buf, p, this.#restarts[i])
      this.#len = putFixed32(this.#buf, p, this.#numRestarts)
      this.#finished = true
    }
    return this.#buf.subarray(0, this.#len)
  }

  #reserve (extra: number): void {
    const need = this.#len + extra
    if (need <= this.#buf.length) return
    const grown = new Uint8Array(Math.max(need, this.#buf.length * 2))
    grown.set(this.#buf.subarray(0, this.#len))
    this.#buf = grown
  }
}

/** Copies src[srcOff, srcOff + len) to dst[dstOff]; returns dstOff + len. A loop for short runs, set() otherwise. */
function copy (src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number {
  if (len < 32) {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i]
  } else {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff)
  }
  return dstOff + len
}
