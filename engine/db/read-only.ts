// A read-only open and its follower (RocksDB's OpenForReadOnly and secondary instance: TryCatchUpWithPrimary
// in db/db_impl/db_impl_secondary.cc): a database's state read without creating, changing, renaming or
// deleting any file and without the lock, so that it works beside a writer (rough-level in another process,
// or classic-level) and on a directory this process cannot write; then, on request (Db.refresh), caught up
// with what the writer has done since. Db.open takes this path with options.readOnly.
//
// What it reads: the tables of the MANIFEST that CURRENT names, plus the records of the live logs, chosen as
// recovery chooses them (logsToReplay) and read into memtables kept in memory, never written as tables, up to
// the last whole record (engine/db/log-tail.ts): a torn tail is the writer mid-append, dropped now and read
// whole by a later refresh. Damage before it is LEVEL_CORRUPTION, as for any open.
//
// A catch-up (the open is the first) lists the directory, reads CURRENT, reads the MANIFEST's new edits (from
// where the last catch-up stopped; from its start when CURRENT names a new MANIFEST), opens the tables of the
// resulting version, and reads what each live log gained. It then publishes a view: that version, the live
// logs' memtables, and a sequence equal to the last batch actually read (the MANIFEST's last sequence only
// when no live log holds any), all at once, at the end.
//
// Why a view is a prefix of the writer's history: the directory is listed before CURRENT and the MANIFEST
// are read. The MANIFEST's tables hold every write of the logs below its log number; logs are numbered in the
// order they are created, so the listed logs at or after that number are the oldest live ones, and a log
// created after the listing (not read) holds only later writes. The log the MANIFEST names as current must
// be among them, or the MANIFEST's last sequence may count writes this catch-up never read: a catch-up that
// finds it created after the listing starts again. Each file read is a prefix of what was appended to it.
//
// The race with the writer: it deletes a log, a table or the old MANIFEST only after a MANIFEST edit (or a
// new MANIFEST named by CURRENT) made them obsolete. So when a file a catch-up needs is gone, either the
// writer has moved on (CURRENT changed, or the MANIFEST grew since it was read) and the catch-up starts again
// from the listing, or nothing explains it and the error stands (a missing table is LEVEL_CORRUPTION). After
// MAX_ATTEMPTS attempts (with short pauses from the third on) it fails with LEVEL_IO_ERROR naming what kept
// vanishing. A failed refresh leaves the view it had: reads go on as before.
//
// Views in use stay readable: iterators and snapshots pin the view they started on (pin()), and reads at a
// pinned view's sequence go to it (viewAt), since the writer's compactions may have dropped, in later views,
// entries older than the newest one. Every table of a view in use is held open by the table cache (a pinning
// iterator per table, with its descriptor: the table cache of a read-only database reads through the file
// system itself, not the descriptor budget, which would close idle descriptors and reopen by name), so a
// table the writer deletes stays readable to them (POSIX unlink), as RocksDB's secondary advises with
// max_open_files = -1. The descriptors a follower holds are therefore the tables of the views in use.
import { type EngineError, fromFsError, invalidArgument, ioError, systemErrorCode } from '../errors'
import type { FileSystem } from '../fs/file-system'
import type { InternalIterator } from '../internal-iterator'
import type { MemTable } from '../memtable/memtable'
import type { DbOptions } from '../options'
import type { Block } from '../table/block'
import type { TableCache } from '../table/table-cache'
import { eventLoopBudget } from '../util/event-loop-budget'
import type { LruCache } from '../util/lru-cache'
import { currentFileName, logFileName } from '../filename'
import type { Version } from '../version/version'
import { COMPARATOR_NAME, type ManifestState, readManifest, readManifestTail, type VersionSet } from '../version/version-set'
import { LogTail } from './log-tail'
import { logsToReplay, newVersionSet } from './recovery'

/**
 * Attempts before a writer that keeps deleting what a catch-up needs makes it fail. A writer with a small
 * write buffer on a loaded machine can move on during several attempts in a row (up to 20 restarts in 8
 * opens were seen beside the tests' writer, whose write buffer is 64 KiB): the limit is for a writer that
 * never stops, not for a busy one.
 */
export const MAX_ATTEMPTS = 40
/** From the third attempt on, a pause before the next (doubling up to the cap), so that a burst of the writer's edits and deletions can end. */
const FIRST_PAUSE_MS = 1
const MAX_PAUSE_MS = 16

/** What a read-only database serves: published whole by a catch-up, never changed afterwards. */
export interface ReadView {
  readonly version: Version
  /** What the live logs hold, newest memtable first (shared with later views, which may add to them). */
  readonly memtables: readonly MemTable[]
  /** The last batch read: every read of the view is as of this sequence or earlier. */
  readonly sequence: number
}

interface ViewState extends ReadView {
  /** Iterators and snapshots reading it. */
  refs: number
}

/** What one attempt saw, for deciding whether a vanished file means the writer moved on. */
interface Seen {
  current: string | undefined
  manifest: ManifestState | undefined
}

export class Follower {
  readonly dir: string
  readonly fs: FileSystem
  readonly options: DbOptions
  readonly versions: VersionSet
  readonly tableCache: TableCache
  readonly blockCache: LruCache<Block> | undefined
  /** Attempts started again because the writer moved on: at the open, and since (refreshes). */
  openRetries = 0
  refreshRetries = 0
  /** The MANIFEST as read so far. Undefined before the open's catch-up. */
  #manifest: ManifestState | undefined
  /** Logs being followed, by number: read positions and memtables carry over from one catch-up to the next. */
  readonly #logs = new Map<number, LogTail>()
  #current: ViewState | undefined
  /** Earlier views that iterators or snapshots still read. */
  readonly #pinned = new Set<ViewState>()
  /** Tables of the views in use, each held open by one table iterator, and how many views hold it. */
  readonly #tables = new Map<number, { pin: InternalIterator, views: number }>()

  private constructor (dir: string, options: DbOptions) {
    this.dir = dir
    this.fs = options.fs
    this.options = options
    const { versions, tableCache, blockCache } = newVersionSet(dir, options)
    this.versions = versions
    this.tableCache = tableCache
    this.blockCache = blockCache
  }

  /** Reads the state of the database at dir as a read-only open serves it. Changes nothing on disk. */
  static async open (dir: string, options: DbOptions): Promise<Follower> {
    const f = new Follower(dir, options)
    try {
      if (readCurrent(f.fs, dir) === undefined) throw invalidArgument(`${dir}: does not exist (no CURRENT file; a read-only open creates nothing)`)
      f.openRetries = await f.#catchUp()
    } catch (err) {
      f.close()
      throw err
    }
    return f
  }

  /** The view new reads see. */
  get current (): ReadView {
    return this.#current!
  }

  /**
   * Catches up with the writer; true when the view changed. Requires: no other refresh running (Db
   * serialises them). On failure the view is unchanged.
   */
  async refresh (): Promise<boolean> {
    const before = this.#current
    this.refreshRetries += await this.#catchUp()
    return this.#current !== before
  }

  /** The view reads at `sequence` go to: the current one, or a pinned earlier one published at that sequence. */
  viewAt (sequence: number): ReadView {
    const current = this.#current!
    if (current.sequence === sequence) return current
    for (const v of this.#pinned) if (v.sequence === sequence) return v
    return current
  }

  /** Holds `view` (from current or viewAt) for an iterator or snapshot; the function returned lets it go. */
  pin (view: ReadView): () => void {
    const v = view as ViewState
    v.refs++
    let released = false
    return () => {
      if (released) return
      released = true
      if (--v.refs === 0 && v !== this.#current) this.#retire(v)
    }
  }

  /** Lets every table go (their pinning iterators close). The table cache is the caller's to close. */
  close (): void {
    for (const { pin } of this.#tables.values()) pin.close()
    this.#tables.clear()
    this.#pinned.clear()
    this.versions.close()
  }

  /** Catch-up attempts until one completes; returns how many were started again. */
  async #catchUp (): Promise<number> {
    let vanished: EngineError | undefined
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const seen: Seen = { current: undefined, manifest: undefined }
      try {
        if (await this.#attempt(seen)) return attempt - 1
        vanished = ioError(`${this.dir}: the log the MANIFEST names was created after the directory was listed`)
      } catch (err) {
        if (!this.#writerMovedOn(seen)) throw err
        vanished = fromFsError(`reading ${this.dir} read-only`, err)
      }
      if (attempt >= 3 && attempt < MAX_ATTEMPTS) {
        const pause = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (attempt - 3))
        await new Promise((resolve) => setTimeout(resolve, pause))
      }
    }
    throw ioError(`${this.dir}: a writer kept deleting files a read-only open needed (${MAX_ATTEMPTS} attempts; the last: ${vanished?.message ?? 'unknown'})`, vanished)
  }

  /** One catch-up; false when it must start again (see the header). Publishes its view on success. */
  async #attempt (seen: Seen): Promise<boolean> {
    const fs = this.fs
    const dir = this.dir
    seen.current = readCurrent(fs, dir)
    if (seen.current === undefined) throw ioError(`${dir}: CURRENT is gone (was the database destroyed?)`)
    let names: string[]
    try {
      names = fs.readdir(dir)
    } catch (err) {
      throw fromFsError(`listing ${dir}`, err)
    }
    const before = this.#manifest
    const manifest = before !== undefined && `${dir}/${seen.current.slice(0, -1)}` === before.manifestPath
      ? readManifestTail(fs, before, COMPARATOR_NAME)
      : readManifest(fs, dir, this.tableCache, COMPARATOR_NAME)
    seen.manifest = manifest
    const version = manifest.version

    const logs = logsToReplay(names, manifest)
    if (manifest.logNumber > 0 && !logs.includes(manifest.logNumber) && fs.exists(logFileName(dir, manifest.logNumber))) return false

    // Held before the logs are read, so that a table deleted meanwhile is seen as a vanish now.
    const previous = this.#current
    const newTables = version === previous?.version ? [] : await this.#holdTables(version)
    let published = false
    try {
      let sequence = -1
      const memtables: MemTable[] = []
      for (const number of logs) {
        let tail = this.#logs.get(number)
        if (tail === undefined) {
          tail = new LogTail(number, logFileName(dir, number), this.options.writeBufferSize)
          this.#logs.set(number, tail)
        }
        try {
          await tail.read(fs)
        } catch (err) {
          throw fromFsError(`reading ${tail.path}`, err)
        }
        sequence = Math.max(sequence, tail.maxSequence)
        for (const mem of tail.memtables) memtables.push(mem)
      }
      memtables.reverse()
      if (sequence < 0) sequence = manifest.lastSequence
      if (previous !== undefined) sequence = Math.max(sequence, previous.sequence)
      for (const number of this.#logs.keys()) if (!logs.includes(number)) this.#logs.delete(number)
      this.#manifest = manifest
      if (previous !== undefined && version === previous.version && sequence === previous.sequence && sameList(memtables, previous.memtables)) return true
      this.#publish({ version, memtables, sequence, refs: 0 }, newTables)
      published = true
      return true
    } finally {
      if (!published) this.#releaseTables(newTables)
    }
  }

  /**
   * Opens every table of `version` not held yet (with turns of the event loop) and counts the version's
   * hold on each; returns the numbers it counted. On failure nothing stays counted.
   */
  async #holdTables (version: Version): Promise<number[]> {
    const counted: number[] = []
    try {
      for (const files of version.files) {
        for (const f of files) {
          const held = this.#tables.get(f.number)
          if (held !== undefined) held.views++
          else this.#tables.set(f.number, { pin: this.tableCache.iterator(f.number, f.fileSize, false), views: 1 })
          counted.push(f.number)
          if (eventLoopBudget.spent()) await eventLoopBudget.turn()
        }
      }
    } catch (err) {
      this.#releaseTables(counted)
      throw err
    }
    return counted
  }

  /** Uncounts one hold on each table of `numbers`; a table no view holds is let go. */
  #releaseTables (numbers: readonly number[]): void {
    for (const n of numbers) {
      const held = this.#tables.get(n)!
      if (--held.views > 0) continue
      this.#tables.delete(n)
      held.pin.close()
    }
  }

  #publish (view: ViewState, newTables: number[]): void {
    const previous = this.#current
    // A view sharing its predecessor's version shares its holds on the tables too.
    if (newTables.length === 0) for (const files of view.version.files) for (const f of files) this.#tables.get(f.number)!.views++
    this.#current = view
    this.versions.follow(view.version, view.sequence)
    if (previous !== undefined) {
      if (previous.refs === 0) this.#retire(previous)
      else this.#pinned.add(previous)
    }
  }

  /** A view nothing reads any more and that is not current: its tables are let go. */
  #retire (view: ViewState): void {
    this.#pinned.delete(view)
    const numbers: number[] = []
    for (const files of view.version.files) for (const f of files) numbers.push(f.number)
    this.#releaseTables(numbers)
  }

  /**
   * Whether the writer changed the state since an attempt began with what `seen` holds: CURRENT names
   * another MANIFEST, or the MANIFEST read is longer or gone.
   */
  #writerMovedOn (seen: Seen): boolean {
    if (seen.current === undefined) return false
    let now: string | undefined
    try {
      now = readCurrent(this.fs, this.dir)
    } catch {
      return false
    }
    if (now !== seen.current) return true
    const manifest = seen.manifest ?? this.#manifest
    if (manifest === undefined) return false
    try {
      const file = this.fs.openRandomAccess(manifest.manifestPath)
      try {
        return file.size() !== manifest.bytes
      } finally {
        file.close()
      }
    } catch (err) {
      return systemErrorCode(err) === 'ENOENT'
    }
  }
}

/** CURRENT's content, or undefined when there is none. */
function readCurrent (fs: FileSystem, dir: string): string | undefined {
  const name = currentFileName(dir)
  try {
    return fs.readFile(name).toString('latin1')
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return undefined
    throw fromFsError(`reading ${name}`, err)
  }
}

function sameList<T> (a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
