// rough-level compact <dir> [--gte key] [--lt key]: LevelDB's CompactRange through RoughLevel.compactRange
// (the memtable, then every level holding the range, down to the deepest). Its progress is read from
// the MANIFEST while the compaction worker runs: each byte at level L overlapping the range moves down
// (deepest - L) times, and the bar shows how much of that movement is done.
import { compareBytes, TAG_BYTES } from '../engine/internal-key'
import { PosixFileSystem } from '../engine/fs/posix-file-system'
import { TableCache } from '../engine/table/table-cache'
import type { Version } from '../engine/version/version'
import { NUM_LEVELS } from '../engine/version/version-edit'
import { readManifest } from '../engine/version/version-set'
import { parseBytes } from './byte-format'
import { type Command, FORMAT_OPTIONS, type ParsedArgs } from './command'
import { EXIT_OK } from './errors'
import { openDatabase } from './open-db'
import type { Output } from './output'
import { formatSize, Progress } from './progress'

const POLL_MS = 200

export const compact: Command = {
  name: 'compact',
  summary: 'Compact the whole database, or a key range, down to its deepest level (LevelDB\'s CompactRange).',
  args: '<dir>',
  options: {
    gte: { type: 'string', value: 'key', description: 'from this key (default: the first key)' },
    lt: { type: 'string', value: 'key', description: 'up to this key (default: past the last key); compaction works on whole tables, so the key itself may be compacted too' },
    'key-format': FORMAT_OPTIONS['key-format']
  },
  details: ['Opens the database (it must not be open in another process).'],
  examples: ['rough-level compact ./db', 'rough-level compact ./db --gte user: --lt user;'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const dir = args.positionals[0]
    const format = args.byteFormat('key')
    const gte = args.string('gte')
    const lt = args.string('lt')
    const db = await openDatabase(dir, 'compact', false)
    try {
      const start = gte === undefined ? (await db.keys({ limit: 1 }).all())[0] : parseBytes(gte, format, '--gte')
      const end = lt === undefined ? (await db.keys({ reverse: true, limit: 1 }).all())[0] : parseBytes(lt, format, '--lt')
      if (start === undefined || end === undefined) {
        await out.line('nothing to compact: the database is empty')
        return EXIT_OK
      }
      // Answers once what the open replayed is in a table (it is written after the open resolves), so that the
      // MANIFEST read below holds all the data.
      await db.approximateSize(start, end)
      const before = levelSummary(dir)
      const tracker = new MovementTracker(dir, start, end)
      const progress = Progress.onStderr('compact', 'bytes', tracker.total)
      progress.update(0)
      const timer = setInterval(() => progress.update(tracker.done()), POLL_MS)
      try {
        await db.compactRange(start, end)
      } finally {
        clearInterval(timer)
        progress.finish()
      }
      await out.line(`before: ${before}\nafter:  ${levelSummary(dir)}`)
    } finally {
      await db.close()
    }
    return EXIT_OK
  }
}

function currentVersion (dir: string): Version {
  const fs = new PosixFileSystem()
  return readManifest(fs, dir, new TableCache(dir, fs, 1)).version
}

/** Files and bytes per non-empty level, on one line. */
function levelSummary (dir: string): string {
  const parts: string[] = []
  currentVersion(dir).files.forEach((files, level) => {
    if (files.length > 0) parts.push(`level ${level}: ${files.length} files ${formatSize(files.reduce((s, f) => s + f.fileSize, 0))}`)
  })
  return parts.length === 0 ? 'no tables' : parts.join(', ')
}

/** Bytes still to move down for files overlapping [start, end], read from the MANIFEST on disk. */
class MovementTracker {
  readonly #dir: string
  readonly #start: Uint8Array
  readonly #end: Uint8Array
  readonly #deepest: number
  readonly total: number

  constructor (dir: string, start: Uint8Array, end: Uint8Array) {
    this.#dir = dir
    this.#start = start
    this.#end = end
    const version = currentVersion(dir)
    let deepest = 1
    for (let level = 1; level < NUM_LEVELS; level++) if (this.#levelBytes(version, level) > 0) deepest = level
    this.#deepest = deepest
    this.total = this.#remaining(version)
  }

  /** Bytes of movement done so far (the MANIFEST is read again; a failed read shows no change). */
  done (): number {
    try {
      return Math.max(0, this.total - this.#remaining(currentVersion(this.#dir)))
    } catch {
      return 0
    }
  }

  #remaining (version: Version): number {
    let work = 0
    for (let level = 0; level < this.#deepest; level++) work += this.#levelBytes(version, level) * (this.#deepest - level)
    return work
  }

  #levelBytes (version: Version, level: number): number {
    let bytes = 0
    for (const f of version.files[level]) {
      const lo = f.smallest
      const hi = f.largest
      if (compareBytes(hi, 0, hi.length - TAG_BYTES, this.#start, 0, this.#start.length) < 0) continue
      if (compareBytes(lo, 0, lo.length - TAG_BYTES, this.#end, 0, this.#end.length) > 0) continue
      bytes += f.fileSize
    }
    return bytes
  }
}
