// What a workload costs the process besides time: its peak resident memory and the bytes it writes towards the
// disk. On Linux both come from /proc and cover every thread of the process (rough-level's flush and compaction
// workers, LevelDB's background thread): writing "5" to /proc/self/clear_refs resets the peak (VmHWM) to the
// current RSS, so that each workload gets a peak of its own, and /proc/self/io's write_bytes counts the bytes
// the process dirtied in the page cache. Elsewhere the peak is the process's since it started and the bytes
// written are the growth of the files under the scratch directory (a lower bound: a file written and deleted
// within the workload, a compaction's input say, is missed).

import * as fs from 'node:fs'
import * as path from 'node:path'
import type { UsageFigures } from './protocol'

const KB_PER_MB = 1024

function readProc (name: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/self/${name}`, 'utf8')
  } catch {
    return undefined
  }
}

/** VmHWM, the peak resident set, in kB; undefined without /proc. */
function peakKB (): number | undefined {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readProc('status') ?? '')
  return m === null ? undefined : Number(m[1])
}

interface IoCounters { written: number, cancelled: number }

function ioCounters (): IoCounters | undefined {
  const text = readProc('io')
  const field = (name: string): number | undefined => {
    const m = new RegExp(`^${name}: (\\d+)$`, 'm').exec(text ?? '')
    return m === null ? undefined : Number(m[1])
  }
  const written = field('write_bytes')
  const cancelled = field('cancelled_write_bytes')
  return written === undefined || cancelled === undefined ? undefined : { written, cancelled }
}

function fileSizes (dir: string, into = new Map<string, number>()): Map<string, number> {
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return into
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) fileSizes(file, into)
    else if (entry.isFile()) {
      try {
        into.set(file, fs.statSync(file).size)
      } catch {} // deleted meanwhile (a compaction's input)
    }
  }
  return into
}

function tryResetPeak (): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

export class UsageMeter {
  readonly #scratchDir: string
  /** The process's peak over every workload so far, in kB: resetting VmHWM also resets getrusage's maxRSS. */
  #processPeakKB = 0
  #resets: boolean | undefined
  #io: IoCounters | undefined
  #files: Map<string, number> | undefined

  constructor (scratchDir: string) {
    this.#scratchDir = scratchDir
  }

  start (): void {
    this.#processPeakKB = Math.max(this.#processPeakKB, this.#currentPeakKB())
    this.#resets = tryResetPeak()
    this.#io = ioCounters()
    this.#files = this.#io === undefined ? fileSizes(this.#scratchDir) : undefined
  }

  stop (): UsageFigures {
    const peak = this.#currentPeakKB()
    this.#processPeakKB = Math.max(this.#processPeakKB, peak)
    const scope = this.#resets === true ? 'workload' : 'process'
    const peakRssMB = Math.round(peak / KB_PER_MB * 10) / 10
    const io = ioCounters()
    if (this.#io !== undefined && io !== undefined) {
      return {
        peakRssMB,
        peakRssScope: scope,
        writtenBytes: io.written - this.#io.written,
        writtenSource: 'proc-io',
        cancelledWriteBytes: io.cancelled - this.#io.cancelled
      }
    }
    const before = this.#files ?? new Map<string, number>()
    let grown = 0
    for (const [file, size] of fileSizes(this.#scratchDir)) grown += Math.max(0, size - (before.get(file) ?? 0))
    return { peakRssMB, peakRssScope: scope, writtenBytes: grown, writtenSource: 'file-sizes' }
  }

  /** The process's peak resident memory since it started, in MB, across the per-workload resets. */
  processPeakMB (): number {
    const kb = Math.max(this.#processPeakKB, this.#currentPeakKB())
    return Math.round(kb / KB_PER_MB * 10) / 10
  }

  #currentPeakKB (): number {
    return peakKB() ?? process.resourceUsage().maxRSS
  }
}
