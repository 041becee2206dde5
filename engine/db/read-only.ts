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
// What a log gained is framed, checksummed and checked when read, but inserted into its memtables only when
// a read first needs a view (#order, synchronously, from readFresh for a get and from pin for an iterator,
// a snapshot or a checkpoint): all that the logs queued since, once. The skip-list inserts (about half of
// an eager catch-up's CPU) are then done by the reads, and none for a log the writer flushes before a read
// needs it (dropped with its queue: its entries are in a table by then). A read after many unread catch-ups
// inserts, synchronously, what they queued: at most the live logs' contents. The open inserts what it read
// before it resolves, with turns of the event loop, since reads are sure to follow.
//
// Why a view is a prefix of the writer's history: the directory is listed before CURRENT and the MANIFEST
// are read. A log missing from the listing was deleted before it, after an edit made it obsolete, so CURRENT
// read after the listing names the MANIFEST holding that edit or a newer one (a reopened writer makes a new
// log, a new MANIFEST, switches CURRENT, then deletes the old log: CURRENT read first could name the old
// MANIFEST and the listing miss the old log, and the view lose its writes). The MANIFEST's tables hold every
// write of the logs below its log number; logs are numbered in the order they are created, so the listed
// logs at or after that number are the oldest live ones, and a log created after the listing (not read)
// holds only later writes. The log the MANIFEST names as current must be among them, or the MANIFEST's last
// sequence may count writes this catch-up never read: a catch-up that finds it created after the listing
// starts again. Each file read is a prefix of what was appended to it.
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
// entries older than the newest one. Every table of a view in use stays parsed in the table cache (a pinning
// iterator per table: its index and filter in memory), but descriptors are the descriptor budget's, as a
// writer's are (engine/fs/budgeted-file-system.ts: maxOpenFiles lowered to what the process can spare; EMFILE
// closes idle descriptors and retries): a table's descriptor closes under pressure and the table reopens its
// file by name at its next read. What pinning means for the files the writer deletes:
// - Tables that a pinned older view reads and the current view does not (the writer compacted them away and
//   deletes them, or has) keep their descriptors (BudgetedFileSystem.hold, from the publish that retires the
//   view until its last reader lets it go): POSIX keeps an unlinked file readable through an open descriptor,
//   as RocksDB's secondary does for every table with max_open_files = -1. These are the only descriptors
//   the budget cannot close; they count in it, and the rest close to make room.
// - A table of the current view may be closed when the writer deletes it (the view is stale). A get at the
//   current view that meets it gone catches up at once, synchronously (finishing a refresh in flight, if one
//   is), and reads again at the new view (readFresh): never a wrong value, never a failure for want of a
//   descriptor. Unless an explicit snapshot holds that sequence: the get may be the snapshot's, which must
//   not see later writes, so it fails as an iterator's read does (below). The view it replaced stays in use
//   until the next publish, so that reads going on at its sequence (a getMany's later keys) read it; a read
//   at the sequence of a view let go fails (viewAt) rather than read a newer view at an older sequence,
//   which could miss entries the writer's compactions dropped. (The engine cannot tell a getMany's gets from
//   separate ones: index.ts holds a snapshot for a getMany, so that none of its gets catches up alone, and
//   reads every key again after a refresh, all from one state.)
// - An iterator or snapshot cannot move to another view without mixing two states, so one whose table was
//   closed and deleted before its view was retired (or before the retiring publish could hold it) fails the
//   read with LEVEL_IO_ERROR naming the file (ENOENT), as RocksDB's secondary does whenever max_open_files is
//   not -1 ("resolved by retrying TryCatchUpWithPrimary", db_impl_secondary.cc): refresh and read again. It
//   takes more tables in the views read than descriptors to spare, and a writer compacting them meanwhile;
//   with descriptors to spare no table is ever closed and it cannot happen.
//
// Steps: a catch-up is a generator (CatchUpRun) yielding where an async run takes a turn of the event loop or
// pauses before another attempt, so that the same code runs to completion synchronously inside a get.
import { type EngineError, fromFsError, invalidArgument, ioError, systemErrorCode } from '../errors'
import { BudgetedFileSystem } from '../fs/budgeted-file-system'
import { DescriptorBudget, descriptorLimit } from '../fs/descriptor-budget'
import type { FileSystem } from '../fs/file-system'
import type { InternalIterator } from '../internal-iterator'
import type { MemTable } from '../memtable/memtable'
import type { DbOptions } from '../options'
import type { Block } from '../table/block'
import type { TableCache } from '../table/table-cache'
import { eventLoopBudget } from '../util/event-loop-budget'
import type { LruCache } from '../util/lru-cache'
import { logFileName } from '../filename'
import { readCurrentFile } from '../version/current-file'
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
  /** Of those, explicit snapshots: a get at their sequence must not move to a newer view (readFresh). */
  snapshots: number
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
  /**
   * Tables of the views in use, each kept parsed by one table iterator, how many views hold it, and whether
   * its descriptor is kept (#keepDescriptors).
   */
  readonly #tables = new Map<number, { pin: InternalIterator, views: number, kept: boolean }>()
  /** Whether a log has batches read and not yet inserted into its memtables (#order). */
  #unordered = false
  /** The catch-up in flight, if any: a synchronous one finishes it first (#catchUpNow). */
  #run: CatchUpRun | undefined
  /**
   * Lets go of the view a synchronous catch-up replaced (readFresh), kept until the next publish so that
   * the rest of a read begun on it (a getMany's later keys) still reads it.
   */
  #releaseReplaced: (() => void) | undefined
  /** Called after each view is published (Db keeps the current view's memtables). */
  onPublish: (() => void) | undefined

  private constructor (dir: string, options: DbOptions) {
    this.dir = dir
    // One budget for every descriptor, as a writer's (Db.open): see the header.
    options.fs = new BudgetedFileSystem(options.fs, new DescriptorBudget(descriptorLimit(options.maxOpenFiles)))
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
      if (readCurrentFile(f.fs, dir) === undefined) throw invalidArgument(`${dir}: does not exist (no CURRENT file; a read-only open creates nothing)`)
      f.openRetries = await new CatchUpRun(f.#catchUp()).finish()
      // The open's reads are sure to come: ordered now, with turns of the event loop, not by the first read.
      await new CatchUpRun(f.#orderSteps()).finish()
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
    const run = this.#run = new CatchUpRun(this.#catchUp())
    try {
      this.refreshRetries += await run.finish()
    } finally {
      if (this.#run === run) this.#run = undefined
    }
    return this.#current !== before
  }

  /**
   * `read(sequence)`, and when it meets a table of the current view gone (the writer deleted it while its
   * descriptor was closed), a synchronous catch-up and `read` again at the new view's sequence. A read at an
   * older pinned view's sequence fails as it came (see the header), and so does one at a sequence an explicit
   * snapshot holds: it may be that snapshot's read, which must not see later writes.
   */
  readFresh<T> (sequence: number, read: (sequence: number) => T): T {
    for (let attempt = 1; ; attempt++) {
      this.#order()
      try {
        return read(sequence)
      } catch (err) {
        if (sequence !== this.#current!.sequence || this.#snapshotAt(sequence) || attempt >= MAX_ATTEMPTS || systemErrorCode(err) !== 'ENOENT') throw err
      }
      const replaced = this.#current!
      const release = this.pin(replaced)
      this.#catchUpNow()
      if (this.#current === replaced) release()
      else this.#releaseReplaced = release
      sequence = this.#current!.sequence
    }
  }

  /** Whether an explicit snapshot holds a view published at `sequence`. */
  #snapshotAt (sequence: number): boolean {
    for (const v of [this.#current!, ...this.#pinned]) if (v.sequence === sequence && v.snapshots > 0) return true
    return false
  }

  /**
   * Inserts the batches the logs read into their memtables (LogTail.order), synchronously: called by every
   * read of a view, before it reads (see the header).
   */
  #order (): void {
    if (!this.#unordered) return
    const steps = this.#orderSteps()
    while (steps.next().done !== true);
  }

  * #orderSteps (): Steps<number> {
    for (const tail of this.#logs.values()) yield * tail.order()
    this.#unordered = false
    return 0
  }

  /** Finishes the catch-up in flight, or runs one, without a turn of the event loop. */
  #catchUpNow (): void {
    const run = this.#run
    if (run !== undefined && !run.done) {
      // Its refresh reports its failure; a read that still finds the table gone comes back for another.
      try { run.finishNow() } catch {}
      return
    }
    this.refreshRetries += new CatchUpRun(this.#catchUp()).finishNow()
  }

  /** The view reads at `sequence` go to: the current one, or a pinned earlier one published at that sequence. */
  viewAt (sequence: number): ReadView {
    const current = this.#current!
    if (current.sequence === sequence) return current
    for (const v of this.#pinned) if (v.sequence === sequence) return v
    // Only a read begun before a catch-up that nothing pins asks for a view let go (a getMany's later keys
    // after readFresh caught up, and a refresh since): the current view at an older sequence could miss
    // entries the writer's compactions dropped, a wrong value, so the read fails instead.
    throw ioError(`${this.dir}: the state at sequence ${sequence} that this read began on was let go when the reader caught up with the writer (now at ${current.sequence}); read again`)
  }

  /**
   * Holds `view` (from current or viewAt) for an iterator or, with `snapshot`, an explicit snapshot; the
   * function returned lets it go.
   */
  pin (view: ReadView, snapshot = false): () => void {
    // A view pinned is read later, maybe after its logs are dropped (a checkpoint reads its memtables directly).
    this.#order()
    const v = view as ViewState
    v.refs++
    if (snapshot) v.snapshots++
    let released = false
    return () => {
      if (released) return
      released = true
      if (snapshot) v.snapshots--
      if (--v.refs > 0 || v === this.#current) return
      this.#retire(v)
      this.#keepDescriptors()
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
  * #catchUp (): Steps<number> {
    let vanished: EngineError | undefined
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const seen: Seen = { current: undefined, manifest: undefined }
      try {
        if (yield * this.#attempt(seen)) return attempt - 1
        vanished = ioError(`${this.dir}: the log the MANIFEST names was created after the directory was listed`)
      } catch (err) {
        if (!this.#writerMovedOn(seen)) throw err
        vanished = fromFsError(`reading ${this.dir} read-only`, err)
      }
      if (attempt >= 3 && attempt < MAX_ATTEMPTS) yield Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (attempt - 3))
    }
    throw ioError(`${this.dir}: a writer kept deleting files a read-only open needed (${MAX_ATTEMPTS} attempts; the last: ${vanished?.message ?? 'unknown'})`, vanished)
  }

  /** One catch-up; false when it must start again (see the header). Publishes its view on success. */
  * #attempt (seen: Seen): Steps<boolean> {
    const fs = this.fs
    const dir = this.dir
    // Listed before CURRENT is read: see the header (why a view is a prefix).
    let names: string[]
    try {
      names = fs.readdir(dir)
    } catch (err) {
      throw fromFsError(`listing ${dir}`, err)
    }
    seen.current = readCurrentFile(fs, dir)
    if (seen.current === undefined) throw ioError(`${dir}: CURRENT is gone (was the database destroyed?)`)
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
    const newTables = version === previous?.version ? [] : yield * this.#holdTables(version)
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
          yield * tail.read(fs)
        } catch (err) {
          throw fromFsError(`reading ${tail.path}`, err)
        }
        sequence = Math.max(sequence, tail.maxSequence)
        if (tail.unordered) this.#unordered = true
        for (const mem of tail.memtables) memtables.push(mem)
      }
      memtables.reverse()
      if (sequence < 0) sequence = manifest.lastSequence
      if (previous !== undefined) sequence = Math.max(sequence, previous.sequence)
      for (const number of this.#logs.keys()) if (!logs.includes(number)) this.#logs.delete(number)
      this.#manifest = manifest
      if (previous !== undefined && version === previous.version && sequence === previous.sequence && sameList(memtables, previous.memtables)) return true
      this.#publish({ version, memtables, sequence, refs: 0, snapshots: 0 }, newTables)
      published = true
      return true
    } finally {
      if (!published) this.#releaseTables(newTables)
    }
  }

  /**
   * Opens every table of `version` not held yet (yielding after each) and counts the version's hold on
   * each; returns the numbers it counted. On failure nothing stays counted.
   */
  * #holdTables (version: Version): Steps<number[]> {
    const counted: number[] = []
    try {
      for (const files of version.files) {
        for (const f of files) {
          const held = this.#tables.get(f.number)
          if (held !== undefined) held.views++
          else this.#tables.set(f.number, { pin: this.tableCache.iterator(f.number, f.fileSize, false), views: 1, kept: false })
          counted.push(f.number)
          yield
        }
      }
    } catch (err) {
      this.#releaseTables(counted)
      throw err
    }
    return counted
  }

  /**
   * Uncounts one hold on each table of `numbers`; a table no view holds is let go and leaves the table cache
   * (its descriptor closes: the writer deletes its file, or has).
   */
  #releaseTables (numbers: readonly number[]): void {
    for (const n of numbers) {
      const held = this.#tables.get(n)
      // After close() (a pin released late) every table is let go already.
      if (held === undefined || --held.views > 0) continue
      this.#tables.delete(n)
      held.pin.close()
      this.tableCache.evict(n)
    }
  }

  /**
   * Keeps the descriptors of the tables that pinned older views read and the current view does not (the
   * files the writer deletes), and lets the budget close the others' again (see the header). A table that
   * cannot be held (gone already, or no descriptor to be had) is tried again at the next call; meanwhile its
   * reads reopen it as any table's do.
   */
  #keepDescriptors (): void {
    const fs = this.fs
    if (!(fs instanceof BudgetedFileSystem)) return
    const current = new Set<number>()
    for (const files of this.#current!.version.files) for (const f of files) current.add(f.number)
    const keep = new Set<number>()
    for (const v of this.#pinned) for (const files of v.version.files) for (const f of files) if (!current.has(f.number)) keep.add(f.number)
    for (const [n, t] of this.#tables) {
      const file = keep.has(n) === t.kept ? undefined : this.tableCache.file(n)
      if (file === undefined) continue
      if (t.kept) {
        fs.release(file)
        t.kept = false
        continue
      }
      try {
        fs.hold(file)
        t.kept = true
      } catch {
        // Reads of it in the old view fail with ENOENT if it is gone (see the header).
      }
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
    const replaced = this.#releaseReplaced
    this.#releaseReplaced = undefined
    replaced?.()
    this.#keepDescriptors()
    this.onPublish?.()
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
      now = readCurrentFile(this.fs, this.dir)
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

function sameList<T> (a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** A catch-up's steps: undefined where an async run may take a turn of the event loop, a number of ms to pause. */
type Steps<T> = Generator<number | undefined, T>

/**
 * One catch-up, run by an async refresh (finish: turns of the event loop when its slice is spent, pauses
 * between attempts) or synchronously by a get (finishNow: neither), which may also take over a run that an
 * async refresh left waiting for a turn.
 */
class CatchUpRun {
  readonly #steps: Steps<number>
  #outcome: { retries: number } | { error: unknown } | undefined

  constructor (steps: Steps<number>) {
    this.#steps = steps
  }

  get done (): boolean {
    return this.#outcome !== undefined
  }

  async finish (): Promise<number> {
    while (this.#outcome === undefined) {
      const pause = this.#step()
      if (this.#outcome !== undefined) break
      if (pause !== undefined) await new Promise((resolve) => setTimeout(resolve, pause))
      else if (eventLoopBudget.spent()) await eventLoopBudget.turn()
    }
    return this.#result()
  }

  finishNow (): number {
    while (this.#outcome === undefined) this.#step()
    return this.#result()
  }

  #step (): number | undefined {
    try {
      const r = this.#steps.next()
      if (r.done === true) this.#outcome = { retries: r.value }
      else return r.value
    } catch (error) {
      this.#outcome = { error }
    }
    return undefined
  }

  #result (): number {
    const outcome = this.#outcome!
    if ('error' in outcome) throw outcome.error
    return outcome.retries
  }
}
