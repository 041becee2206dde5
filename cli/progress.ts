// A progress bar for long work, drawn on stderr only when stderr is a terminal: the part done (bytes or
// entries), the rate, and the time left when the total is known. Elsewhere (a pipe, a file, CI) it draws
// nothing, so output stays results only. Redrawn at most every 100 ms, synchronously (a terminal write
// is synchronous in Node on POSIX), so synchronous loops show progress too.
import type { WriteStream } from 'node:tty'

export type ProgressUnit = 'bytes' | 'entries'

const REDRAW_MS = 100
const BAR_WIDTH = 24

export class Progress {
  readonly #stream: WriteStream | undefined
  readonly #label: string
  readonly #unit: ProgressUnit
  #total: number | undefined
  #done = 0
  readonly #started = Date.now()
  #drawnAt = 0
  #drawn = false

  /** `stream` is where to draw: a terminal, or undefined to draw nothing. */
  constructor (label: string, unit: ProgressUnit, total: number | undefined, stream: WriteStream | undefined) {
    this.#label = label
    this.#unit = unit
    this.#total = total
    this.#stream = stream
  }

  /** A bar on stderr if it is a terminal, else one that draws nothing. */
  static onStderr (label: string, unit: ProgressUnit, total?: number): Progress {
    return new Progress(label, unit, total, process.stderr.isTTY ? process.stderr : undefined)
  }

  get done (): number {
    return this.#done
  }

  /** Sets the amount done (and the total, when it becomes known or changes). */
  update (done: number, total = this.#total): void {
    this.#done = done
    this.#total = total
    if (this.#stream === undefined) return
    const now = Date.now()
    if (now - this.#drawnAt < REDRAW_MS) return
    this.#drawnAt = now
    this.#draw(now)
  }

  add (n: number): void {
    this.update(this.#done + n)
  }

  /** Clears the bar, leaving the terminal as it was. */
  finish (): void {
    if (this.#stream === undefined || !this.#drawn) return
    this.#stream.write('\r\x1b[K')
    this.#drawn = false
  }

  #draw (now: number): void {
    const seconds = (now - this.#started) / 1000
    const rate = seconds > 0 ? this.#done / seconds : 0
    const parts = [this.#label]
    const total = this.#total
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, this.#done / total)
      const filled = Math.round(fraction * BAR_WIDTH)
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`)
      parts.push(`${this.#amount(this.#done)} / ${this.#amount(total)}`)
    } else {
      parts.push(this.#amount(this.#done))
    }
    parts.push(`${this.#amount(rate)}/s`)
    if (total !== undefined && total > 0 && rate > 0 && this.#done < total) parts.push(`${formatDuration((total - this.#done) / rate)} left`)
    else parts.push(formatDuration(seconds))
    let line = parts.join('  ')
    const columns = this.#stream!.columns
    if (columns > 1 && line.length >= columns) line = line.slice(0, columns - 1)
    this.#stream!.write(`\r${line}\x1b[K`)
    this.#drawn = true
  }

  #amount (n: number): string {
    return this.#unit === 'bytes' ? formatSize(n) : `${Math.round(n).toLocaleString('en-US')} entries`
  }
}

/** Bytes in B, KiB, MiB or GiB, as a person reads them. */
export function formatSize (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`
}

function formatDuration (seconds: number): string {
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
