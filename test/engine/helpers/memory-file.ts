// An in-memory WritableFile for log tests: it keeps every appended byte (copied, since callers reuse
// their buffers) and remembers which buffer each append came from, so a test can tell the log
// writer's in-place path from its copying path.
import type { WritableFile } from '../../../engine/fs/file-system'

export class MemoryWritableFile implements WritableFile {
  readonly path: string
  #data = new Uint8Array(1024)
  #length = 0
  /** The buffer passed to each append call, in order. */
  readonly appendSources: Uint8Array[] = []
  syncs = 0
  closed = false

  constructor (path = 'memory.log') {
    this.path = path
  }

  append (buf: Uint8Array, offset: number, length: number): void {
    if (this.closed) throw new Error('append after close')
    if (offset < 0 || length < 0 || offset + length > buf.length) throw new RangeError(`append of [${offset}, ${offset + length}) from a ${buf.length}-byte buffer`)
    if (this.#length + length > this.#data.length) {
      const next = new Uint8Array(Math.max(this.#data.length * 2, this.#length + length))
      next.set(this.#data.subarray(0, this.#length))
      this.#data = next
    }
    this.#data.set(buf.subarray(offset, offset + length), this.#length)
    this.#length += length
    this.appendSources.push(buf)
  }

  sync (): void {
    this.syncs++
  }

  async syncAsync (): Promise<void> {
    this.syncs++
  }

  close (): void {
    this.closed = true
  }

  get length (): number {
    return this.#length
  }

  /** Reads up to `length` bytes at `position` into buf[offset..] (RandomAccessFile's read); returns the count. */
  read (buf: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.#length - position))
    buf.set(this.#data.subarray(position, position + n), offset)
    return n
  }

  /** A copy of everything appended so far. */
  contents (): Buffer {
    return Buffer.from(this.#data.subarray(0, this.#length))
  }
}
