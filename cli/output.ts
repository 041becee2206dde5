// Where results go: stdout (or a file, for export --out), written as fast as the reader takes them.
// write() resolves at once unless the stream's buffer is full, so a loop that awaits it runs at memory
// speed and still never buffers a whole export. A reader that goes away (`| head`) ends the tool quietly.
import fs = require('node:fs')
import type { Writable } from 'node:stream'

export class Output {
  readonly #stream: Writable
  #failed: Error | undefined

  constructor (stream: Writable) {
    this.#stream = stream
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0)
      this.#failed = err
    })
  }

  /** An Output that writes to a new file at path (replacing one that is there). */
  static toFile (path: string): Output {
    return new Output(fs.createWriteStream(path))
  }

  /** Writes text; resolves when the stream can take more. */
  write (text: string): Promise<void> | undefined {
    if (this.#failed !== undefined) throw this.#failed
    if (this.#stream.write(text)) return undefined
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.#stream.off('drain', done)
        this.#stream.off('error', done)
        if (this.#failed !== undefined) reject(this.#failed)
        else resolve()
      }
      this.#stream.on('drain', done)
      this.#stream.on('error', done)
    })
  }

  /** Writes a line (text and a newline). */
  line (text: string): Promise<void> | undefined {
    return this.write(text + '\n')
  }

  /** Flushes and, for a file, closes. */
  async end (): Promise<void> {
    if (this.#stream === process.stdout) {
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
      return
    }
    await new Promise<void>((resolve, reject) => {
      this.#stream.once('error', reject)
      this.#stream.end(() => resolve())
    })
    if (this.#failed !== undefined) throw this.#failed
  }
}
