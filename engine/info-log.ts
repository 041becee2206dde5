// LevelDB's info log: the human-readable `LOG` in the database directory (util/posix_logger.h,
// db/db_impl.cc SanitizeOptions). At open the previous LOG becomes LOG.old and a new LOG is started.
// Each line is `YYYY/MM/DD-HH:MM:SS.uuuuuu <thread> <message>`, local time as LevelDB prints it; the
// thread is Node's threadId (0 for the main thread) where LevelDB prints the native thread's id.
//
// The rotation waits for start(): Db.open calls it once recovery has succeeded, so that a failed open
// changes nothing in the directory, LOG included (LevelDB rotates first: each failed open then pushes the
// LOG of the run that preceded the failure further out of reach). Lines logged before start() are kept in
// memory and written by it.
//
// Only the main thread writes LOG: a worker stamps its lines (infoLine) and returns them with its result,
// so they are written when its job ends, after main-thread lines that may be stamped later. That is the
// choice made here: each line keeps the time it was made (LevelDB's lines start with that time too), so LOG
// is in time order within a thread, not across threads; sorting lines by time gives the interleaving.
// Lines are buffered and written together after a turn of the event loop (or at flushLines/close), with
// no fsync, as LevelDB does not sync LOG either. Nothing here ever fails the database: a LOG that cannot be
// created or written is given up silently (LevelDB: "No place suitable for logging").
import { threadId } from 'worker_threads'  // Not 'node:', which webpack's `browser` field swap misses
import type { FileSystem, WritableFile } from './fs/file-system'
import { infoLogFileName, oldInfoLogFileName } from './filename'
import { encodeUtf8 } from './util/bytes'

/** One line of the info log, stamped where and when it happened (crosses postMessage as plain data). */
export interface InfoLine {
  /** Milliseconds since the epoch, with the microseconds as fraction. */
  time: number
  thread: number
  message: string
}

/**
 * The wall clock with microseconds, as LevelDB's gettimeofday: performance.now() (monotonic, sub-ms) plus an
 * offset kept so that the result agrees with Date.now() to the millisecond. performance.timeOrigin alone is
 * not enough: it is fixed at the thread's start (off by a few ms even then, as measured here) and the wall
 * clock moves apart from the monotonic one (NTP), so the offset is taken again whenever they disagree. A
 * re-taken offset that would step back less than a millisecond is held at the last time given, so that a
 * thread's lines stay in time order; a wall clock set back further is followed, as LevelDB follows it.
 * Per thread, as the clocks are.
 */
let wallOffset = performance.timeOrigin
let lastTime = 0

function wallClockMicros (): number {
  const mono = performance.now()
  const wall = Date.now()
  let time = wallOffset + mono
  if (Math.floor(time) !== wall) {
    wallOffset = wall - mono
    time = wall
  }
  if (time < lastTime && lastTime - time < 1) time = lastTime
  lastTime = time
  return time
}

/** A line stamped now, on this thread: what a worker returns to be logged. */
export function infoLine (message: string): InfoLine {
  return { time: wallClockMicros(), thread: threadId, message }
}

export class InfoLog {
  /** A log that writes nothing (`infoLog: false`, or no LOG could be created). */
  static readonly disabled = new InfoLog(undefined, '')

  /** Where LOG goes until start() (undefined once started, or when disabled). */
  #fs: FileSystem | undefined
  readonly #dir: string
  #file: WritableFile | undefined
  #pending: string[] = []
  #scheduled = false

  /** The info log of the database in dir; it keeps its lines in memory until start(). */
  constructor (fs: FileSystem | undefined, dir: string) {
    this.#fs = fs
    this.#dir = dir
  }

  /**
   * Renames dir's LOG to LOG.old (replacing it), starts a new LOG and writes what was logged so far.
   * Requires: the database's lock is held (LevelDB rotates before locking, so opening a database that is
   * in use rotates its LOG under it).
   */
  start (): void {
    const fs = this.#fs
    if (fs === undefined) return
    this.#fs = undefined
    const name = infoLogFileName(this.#dir)
    try {
      if (fs.exists(name)) fs.rename(name, oldInfoLogFileName(this.#dir))
      this.#file = fs.openWritable(name)
    } catch {
      this.#giveUp()
      return
    }
    this.flushLines()
  }

  /** Logs message, stamped now on this thread. */
  log (message: string): void {
    if (this.#file === undefined && this.#fs === undefined) return
    this.#push(formatLine(infoLine(message)))
  }

  /** Logs lines stamped elsewhere (a worker's). */
  write (lines: readonly InfoLine[] | undefined): void {
    if ((this.#file === undefined && this.#fs === undefined) || lines === undefined) return
    for (const line of lines) this.#push(formatLine(line))
  }

  /** Writes the buffered lines now. */
  flushLines (): void {
    const file = this.#file
    if (file === undefined || this.#pending.length === 0) return
    const bytes = encodeUtf8(this.#pending.join(''))
    this.#pending = []
    try {
      file.append(bytes, 0, bytes.length)
    } catch {
      // A full disk or a failing device: the database reports that where it matters; LOG goes quiet.
      this.#giveUp()
    }
  }

  /** Writes what is buffered and closes LOG; later lines are dropped. Before start(), nothing is written. */
  close (): void {
    this.flushLines()
    this.#giveUp()
  }

  #push (line: string): void {
    this.#pending.push(line)
    if (this.#scheduled || this.#file === undefined) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.flushLines()
    })
  }

  #giveUp (): void {
    const file = this.#file
    this.#fs = undefined
    this.#file = undefined
    this.#pending = []
    try { file?.close() } catch {}
  }
}

/** `YYYY/MM/DD-HH:MM:SS.uuuuuu <thread> message\n` (PosixLogger::Logv's format). */
export function formatLine (line: InfoLine): string {
  const ms = Math.floor(line.time)
  const d = new Date(ms)
  // Rounded: a time near 2^41 ms keeps its microseconds only to within a fraction of one.
  const micros = (ms % 1000) * 1000 + Math.min(999, Math.round((line.time - ms) * 1000))
  const text = line.message.endsWith('\n') ? line.message : line.message + '\n'
  return `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())}-${two(d.getHours())}:${two(d.getMinutes())}:` +
    `${two(d.getSeconds())}.${String(micros).padStart(6, '0')} ${line.thread} ${text}`
}

function two (n: number): string {
  return n < 10 ? '0' + n : String(n)
}
