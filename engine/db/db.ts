// The database (LevelDB db/db_impl.cc): open and recovery, the write path with group commit, memtable
// flushes, point reads and iterators as of a snapshot sequence, and close.
//
// Writes: a write call appends its records to the group being collected and returns that group's
// promise; the first write of a tick schedules the commit as a microtask. The commit assigns sequence
// numbers, appends the whole group to the WAL with one write, inserts it into the memtable, publishes
// the new last sequence (so visibility follows sequence order) and resolves the group. Sync writers
// resolve after an fdatasync that began after their group was written; one fdatasync serves every
// group written before it began. A failed write, sync or flush puts the database in an error state
// that fails every later write (LevelDB's bg_error).
//
// Flushes: when the memtable passes writeBufferSize, a commit first switches to a new WAL and memtable
// and hands the old memtable (now immutable) to the background worker, which writes it as a table;
// the main thread then records the table and the new log number in the MANIFEST, installs the new
// version and deletes the files nothing needs any more. Commits wait (their group keeps collecting)
// only if the new memtable fills while that flush is still running.
//
// Reads are synchronous: memtable, immutable memtable, then the current version's tables. An implicit
// snapshot is the last sequence published when the call is made. Iterators pin the memtables and the
// version they read, so no file they need disappears under them.
//
// Read-only (options.readOnly, engine/db/read-only.ts): no lock, no log, no flush or compaction; the live
// logs' records are memtables read after the others; every write fails with LEVEL_READONLY. refresh()
// catches up with the writer; iterators and snapshots keep the view they started on (Follower.pin).
import { BackgroundWorker, resultError } from '../background/background'
import { buildTableOptions, type BuiltTable } from '../table/build-table'
import { Compaction, compactRange, pickCompaction } from '../compaction/compaction'
import { L0_SLOWDOWN_WRITES_TRIGGER, L0_STOP_WRITES_TRIGGER } from '../constants'
import { applyCompaction, maxOutputFiles, runCompaction, trivialMoveEdit } from '../compaction/run-compaction'
import { asError, type EngineError, fromFsError, invalidArgument, ioError, notSupported, readOnly, systemErrorCode } from '../errors'
import { BudgetedFileSystem } from '../fs/budgeted-file-system'
import { DescriptorBudget, descriptorLimit, isDescriptorShortage } from '../fs/descriptor-budget'
import type { FileSystem, WritableFile } from '../fs/file-system'
import { InfoLog } from '../info-log'
import { putMaxTag } from '../internal-key'
import { DbIterator } from '../iterators/db-iterator'
import type { InternalIterator } from '../internal-iterator'
import { MergingIterator } from '../iterators/merging-iterator'
import { acquireLock, type DbLock } from '../fs/lock'
import { LogWriter } from '../log/writer'
import { LookupResult, MemTable, memTableCapacity } from '../memtable/memtable'
import { sanitizeOptions, type DbOptions, type DbOptionsInput } from '../options'
import { SnapshotList, type Snapshot } from '../snapshot-list'
import type { Block } from '../table/block'
import { checkCompressionSupported, CompressionType } from '../table/compression'
import { TableCache } from '../table/table-cache'
import type { TableParts } from '../table/table-parts'
import { allocUnsafe, encodeUtf8Into } from '../util/bytes'
import { eventLoopBudget } from '../util/event-loop-budget'
import { LruCache } from '../util/lru-cache'
import { sharedMemory } from '../util/shared-memory'
import { FileType, logFileName, parseFileName, tableFileName } from '../filename'
import { NUM_LEVELS, VersionEdit, type FileMetaData } from '../version/version-edit'
import { PointRead } from '../version/point-read'
import { VersionSet } from '../version/version-set'
import { BatchReader, insertBatch, WriteBatch, type Bytes } from './write-batch'
import { getProperty } from './properties'
import { Follower, MAX_ATTEMPTS } from './read-only'
import { type CheckpointReport, writeCheckpoint } from './checkpoint'
import { type KeptMemTable, recover, type OpenLog, type SkippedRecord } from './recovery'
import { workerFileSystem, writeMemTable } from './memtable-flush'
import { WriteGroup } from './write-group'

/** A read-only database's (always empty) writable memtable: the smallest arena that holds one. */
const READ_ONLY_MEMTABLE_BYTES = 4096

/** Largest group buffer kept between commits; a larger one (after a huge batch) is dropped. */
const KEEP_BATCH_BYTES = 1024 * 1024
/**
 * A group takes no more writes once its records pass this (LevelDB caps a group at 1 MiB; a quarter of that
 * commits within a few ms): many writes in flight become several commits, each within the event loop's slice.
 */
const MAX_GROUP_BYTES = 256 * 1024
/**
 * Records a commit adds to the memtable between looks at the event loop's slice: a large batch goes in a
 * part per slice (about 1 us a record), so one write of a million entries never holds the loop.
 */
const INSERT_CHUNK = 64

/** A group being appended to the log and inserted into its memtable (Db.#inserting). */
interface Inserting {
  group: WriteGroup
  reader: BatchReader
  mem: MemTable
  /** Its log record is still being appended in parts. */
  logging: boolean
}
/** Schedules the commit microtask (#scheduleCommit). */
const RESOLVED = Promise.resolve()
/** A group's log record larger than this is appended a part per slice too (LogWriter.appendPart). */
const LOG_PART_BYTES = 256 * 1024

/** What one step of a group's commit came to (#commitOne). */
const enum CommitStep {
  /** The group is in the log and the memtable, and its sequences are published. */
  Done,
  /** A stall (or a failure): the group waits, first in line, for #resumeStalled. */
  Waiting,
  /** Part of its records are in; the rest go in after a turn of the event loop. */
  Paused
}

/** Bounds, as user keys (both inclusive), that an iterator will never leave: tables outside stay closed. */
export interface IteratorBounds {
  lower?: Uint8Array
  upper?: Uint8Array
}

export class Db {
  // The Db's state, grouped by who may change it. Everything runs on the main thread; "owner" means the only
  // methods that assign the field (or, for a collection, add to and remove from it). The constructor and the
  // static opens (open, #recover, #openReadOnly) set initial values before anyone else sees the Db.

  // --- fixed at open: never reassigned (VersionSet, the caches and the workers change only themselves) --------
  readonly dir: string
  readonly options: DbOptions
  readonly fs: FileSystem
  /** The MANIFEST and the live versions: edited by #installFlush, #startCompaction's install and compactRange. */
  readonly #versions: VersionSet
  readonly #tableCache: TableCache
  readonly #blockCache: LruCache<Block> | undefined
  /** Undefined when read-only. */
  readonly #lock: DbLock | undefined
  readonly #snapshots = new SnapshotList()
  /** Builds flushed tables. */
  readonly #background: BackgroundWorker
  /** Runs compactions: a thread of its own, so that a long compaction never delays a flush. */
  readonly #compactionWorker = new BackgroundWorker(() => this.fs.closeIdle?.())
  /** Set to 1 by close() only: a running compaction stops at its next check and removes its outputs. */
  readonly #cancel = new Int32Array(sharedMemory(4))
  /** LevelDB's info log (engine/info-log.ts): set by #recover, closed by close(). */
  #info = InfoLog.disabled
  /** What a lenient open skipped (the rough-level.recovery-skipped property): set by #recover. */
  #recoverySkipped: readonly SkippedRecord[] = []

  // --- the commit: owned by #join (adds groups) and #commit/#commitOne/#startCommit (one commit at a time) ----
  /**
   * Groups waiting for their commit, oldest first; the last one collects new writes until it holds
   * MAX_GROUP_BYTES. Set by #join, emptied by #commit (the only places that change it).
   */
  readonly #groups: WriteGroup[] = []
  /**
   * The group at #groups[0] whose commit is under way, a part per slice of the event loop: sealed, its
   * record being appended to the log (while `logging`), then its records being added to `mem`. It takes no
   * more writes (#join), and nothing may switch the memtable or the log under it (#switchMemtable's
   * callers). Its sequences are published (lastSequence) only when every record is in, so reads never see
   * part of it. Set by #startCommit, cleared by #commitOne.
   */
  #inserting: Inserting | undefined
  /**
   * The record #inserting points to, made at the first commit and reused for every later one, with its
   * reader (no allocation per write); between commits it still names the last group and memtable.
   */
  #insertingState: Inserting | undefined
  /** A committed group's batch, cleared, for the next group: taken by #join, given back by #commitOne. */
  #spareBatch: WriteBatch | undefined = new WriteBatch(4096)
  readonly #commitTask = (): void => this.#commit()
  /**
   * The flush thread is started once the memtable is half full (#commitOne), after a turn of the event loop
   * and with the slice then counted as spent: a Worker's first construction holds the main thread for 2-5 ms,
   * and inside the commit that fills the memtable it made a stretch of 6-8 ms. Not at open: a database that
   * never fills half a memtable (an application may keep hundreds open) should hold no thread. Reset by
   * #switchMemtable.
   */
  #flushThreadAsked = false
  readonly #warmFlushThread = (): void => {
    if (this.#closed) return
    // The first thread of a process starts over several turns: see thread-pool's prepareStart.
    if (this.#background.prepare()) {
      eventLoopBudget.exhaust()
      eventLoopBudget.afterTurn(this.#warmFlushThread)
      return
    }
    this.#background.warmUp()
    eventLoopBudget.exhaust()
  }
  /** #encodeKey's output (a read's internal lookup key); only it writes them. */
  #keyScratch = allocUnsafe(256)
  #keyLen = 0

  // --- memtables and logs: owned by #switchMemtable (a new pair) and #installFlush/#flushRecovered (#imm done) --
  #mem: MemTable
  /** The memtable being flushed, if any: still read until its table is installed. */
  #imm: MemTable | undefined
  /**
   * A flushed memtable, whose memory (arena and key index) the next memtable takes: the flush worker's view
   * of the arena would keep a fresh SharedArrayBuffer per flush alive until that worker happens to collect
   * garbage, and fresh memory costs a page fault per 4 KiB on first touch (tens of us each on a virtual
   * machine: a new key index alone held the event loop for milliseconds at a switch).
   */
  #spareMem: MemTable | undefined
  /** Undefined when read-only (#currentLog). */
  #log: OpenLog | undefined
  /**
   * Logs switched away from and still open: their memtable's flush is not installed yet, or an fdatasync of
   * them is in flight. Closed by #installFlush (their writes are then in a synced table) or after that sync.
   */
  readonly #retiredLogs = new Set<WritableFile>()

  // --- durability: owned by the commit (#logUnsynced set), #syncLoop and #syncSwitch ------------------------
  /** The current log holds writes no fdatasync has covered: set by each commit, cleared when a sync begins. */
  #logUnsynced = false
  /**
   * After a switch: the retired log's fdatasync and the directory's fsync (the new log's name), both on the
   * thread pool. Nothing is written to the new log until they are done, so that no write in it can reach
   * the disk before every write in the old one: after any crash the database is a prefix of its writes, and
   * a sync write acknowledged makes every earlier write durable. Set by #switchMemtable, cleared when done.
   */
  #switchSync: Promise<void> | undefined
  /** Files fdatasyncs are running on, and how many: #installFlush leaves them open. */
  readonly #syncingFiles = new Map<WritableFile, number>()
  /** Groups written to the WAL whose sync writers wait for an fdatasync that has not begun yet (#syncLoop). */
  #syncWaiters: WriteGroup[] = []
  /** The sync loop running, if any: started by #commitOne, cleared by #syncLoop when no waiter is left. */
  #syncing: Promise<void> | undefined

  // --- background work: flushes (#flushImmutable, #installFlush), compactions (#startCompaction), stalls -----
  /** Table numbers being written: not in any version yet, but not garbage either. */
  readonly #pendingOutputs = new Set<number>()
  /**
   * The memtable flush running: set by #switchMemtable (and #flushRecovered), cleared by #flushImmutable when
   * it ends unless a later flush has started meanwhile (#flushSerial): a flush frees #imm before it removes
   * obsolete files, so the next switch may start a flush while the last one still runs.
   */
  #flushing: Promise<void> | undefined
  /** Flushes started, by #flushImmutable: the latest owns #flushing. */
  #flushSerial = 0
  /** The flush of the memtable recovery kept (#flushRecovered), settled or not; it never rejects. */
  #recoveryFlush: Promise<void> | undefined
  /** A flush's MANIFEST edit is being written: set and cleared by #installFlush. */
  #installingFlush = false
  /** Obsolete files being unlinked on the thread pool, by name: added by #removeObsoleteFiles, awaited by close(). */
  readonly #removing = new Map<string, Promise<void>>()
  /** The compaction running: set and cleared by #startCompaction. */
  #compacting: Promise<void> | undefined
  /**
   * Tables a flush or compaction installed that the main thread has not opened yet: queued by #warm, opened
   * into the table cache one per turn of the event loop by #warmTables. LevelDB opens every table it builds
   * into its table cache (BuildTable's and FinishCompactionOutputFile's check); ours are built by a worker, and
   * a get that met several unopened tables would open them all in one synchronous call (0.2-1 ms each). With
   * the builder's parts (table-parts.ts) an open here reads nothing: the file is opened, the rest handed over.
   */
  readonly #toWarm: Array<{ file: FileMetaData, parts: TableParts | undefined }> = []
  /** The #warmTables loop, while it runs; close() waits for it. */
  #warming: Promise<void> | undefined
  /** A commit found the memtable full while a flush ran (#stall); the flush's end commits it (#resumeStalled). */
  #stalled = false
  /** What LOG was told of the stall and slowdown going on: #stall/#resumeStalled, #logSlowdown/#startCompaction. */
  #stallLogged: string | undefined
  #slowdownLogged = false

  // --- read-only: owned by #openReadOnly and refresh() -----------------------------------------------------
  /** A read-only database's state and catch-up (engine/db/read-only.ts); undefined when writable. */
  readonly #follower: Follower | undefined
  /** Memtables older than #imm, newest first: what a read-only database read from the live logs (its current view's). */
  #replayed: readonly MemTable[]
  /** The refresh running, if any: the next one starts after it. */
  #refreshing: Promise<boolean> | undefined
  /** refreshInterval's timer: set by #openReadOnly, cleared by close(). */
  #refreshTimer: NodeJS.Timeout | undefined
  /** Times a read-only open started again because the writer deleted a file it needed. */
  get openRetries (): number {
    return this.#follower?.openRetries ?? 0
  }

  // --- end states: each set once, by its one owner -----------------------------------------------------------
  /** The first background failure: set by #backgroundError; every later write fails with it. */
  #bgError: EngineError | undefined
  /** Set by close(). */
  #closed = false

  // --- a read's result: set by get() (#memGet and the version's), read by the caller before its next call ---
  /** What Version.get builds and answers into: the Db's, since versions are shared and keep no per-call state. */
  readonly #pointRead = new PointRead()
  /** After get() returns true: the value is valueBuf[valueOff, valueOff + valueLen), until the next call. */
  valueBuf: Uint8Array = new Uint8Array(0)
  valueOff = 0
  valueLen = 0

  private constructor (
    dir: string, options: DbOptions, versions: VersionSet, tableCache: TableCache, blockCache: LruCache<Block> | undefined,
    lock: DbLock | undefined, mem: MemTable, log: OpenLog | undefined, flushWorker: BackgroundWorker,
    follower?: Follower
  ) {
    this.#background = flushWorker
    this.#blockCache = blockCache
    this.dir = dir
    this.options = options
    this.fs = options.fs
    this.#versions = versions
    this.#tableCache = tableCache
    this.#lock = lock
    this.#mem = mem
    this.#log = log
    this.#follower = follower
    this.#replayed = follower?.current.memtables ?? []
  }

  /**
   * Opens (and with createIfMissing, creates) the database at dir. A failed open changes nothing on
   * disk beyond creating an empty directory and LOCK: no existing file is deleted, truncated or
   * rewritten.
   */
  static async open (dir: string, input?: DbOptionsInput): Promise<Db> {
    const options = sanitizeOptions(input)
    if (options.readOnly) return await Db.#openReadOnly(dir, options)
    if (options.compression === 'zstd') checkCompressionSupported(CompressionType.Zstd)
    const fs = options.fs
    if (options.createIfMissing) {
      try {
        fs.mkdir(dir)
      } catch (err) {
        throw fromFsError(`creating ${dir}`, err)
      }
    } else if (!fs.exists(dir)) {
      throw invalidArgument(`${dir}: does not exist (create_if_missing is false)`)
    }
    const lock = await acquireLock(dir, fs)
    const flushWorker = new BackgroundWorker(() => options.fs.closeIdle?.())
    let info = InfoLog.disabled
    try {
      // Counted once the lock's socket is open, so that the process's spare descriptors exclude it.
      options.fs = new BudgetedFileSystem(fs, new DescriptorBudget(descriptorLimit(options.maxOpenFiles)))
      // Written from the end of a successful recovery, under the lock (engine/info-log.ts). A read-only open
      // (#openReadOnly) has none: it creates no file.
      if (options.infoLog) info = new InfoLog(options.fs, dir)
      return await Db.#recover(dir, options, lock, flushWorker, info)
    } catch (err) {
      info.close()
      await flushWorker.close()
      await lock.release()
      throw err
    }
  }

  static async #recover (dir: string, options: DbOptions, lock: DbLock, flushWorker: BackgroundWorker, info: InfoLog): Promise<Db> {
    const r = await recover(dir, options, flushWorker, info)
    const db = new Db(dir, options, r.versions, r.tableCache, r.blockCache, lock, new MemTable(memTableCapacity(options.writeBufferSize)), r.log, flushWorker)
    db.#info = info
    db.#recoverySkipped = r.skipped
    info.start()
    if (r.kept !== undefined) db.#flushRecovered(r.kept)
    // Before the first await: the kept memtable's flush could otherwise reach its install meanwhile
    // (#installingFlush), and the compaction the open needs would wait for it, while writes made right after
    // the open met a deep level 0 with no compaction running, so neither slowed nor stopped. The compaction's
    // outputs are pending (#pendingOutputs) before the obsolete files are listed.
    db.#maybeScheduleCompaction()
    await db.#removeObsoleteFiles()
    return db
  }

  /**
   * Recovery's kept memtable (recovery.ts): read as the immutable memtable and written as a table now, as a
   * switch's is. Its log, written by an earlier session and perhaps never synced, is fdatasynced before the
   * new log takes a write (#switchSync), so that a crash still leaves a prefix of the writes.
   */
  #flushRecovered (kept: KeptMemTable): void {
    this.#imm = kept.mem
    this.#switchSync = this.#syncRecoveredLog(kept.log).then(() => {
      this.#switchSync = undefined
      this.#resumeStalled()
    })
    this.#flushing = this.#recoveryFlush = this.#flushImmutable(kept.table, true)
  }

  /** fdatasyncs the recovered log; a failure is the database's error (it never rejects). */
  async #syncRecoveredLog (path: string): Promise<void> {
    try {
      await this.fs.syncFileAsync(path)
    } catch (err) {
      this.#backgroundError(fromFsError(`syncing ${path}`, err))
    }
  }

  /** Reads the state at dir as of now without the lock and without changing any file (read-only.ts). */
  static async #openReadOnly (dir: string, options: DbOptions): Promise<Db> {
    // The follower reads under a descriptor budget of its own making (read-only.ts).
    const f = await Follower.open(dir, options)
    // The worker never starts: it is created on its first job, and a read-only database has none.
    const db = new Db(dir, options, f.versions, f.tableCache, f.blockCache, undefined, new MemTable(READ_ONLY_MEMTABLE_BYTES),
      undefined, new BackgroundWorker(), f)
    f.onPublish = () => { db.#replayed = f.current.memtables }
    if (options.refreshInterval > 0) db.#refreshTimer = setInterval(() => { db.refresh().catch(() => {}) }, options.refreshInterval).unref()
    return db
  }

  /**
   * A read-only database catches up with the writer (engine/db/read-only.ts): new MANIFEST edits, tables and
   * log records. Resolves true when it sees anything new. Iterators and snapshots made before keep their
   * view. Calls made while one runs wait for it and then catch up again. LEVEL_NOT_SUPPORTED when writable.
   */
  refresh (): Promise<boolean> {
    const follower = this.#follower
    if (follower === undefined) return Promise.reject(notSupported(`${this.dir} is open for writing: refresh() is for a database opened with readOnly`))
    if (this.#closed) return Promise.reject(ioError('database is closed'))
    const run = (this.#refreshing ?? Promise.resolve(false)).catch(() => false).then(async () => {
      if (this.#closed) return false
      const changed = await follower.refresh()
      this.#replayed = follower.current.memtables
      return changed
    })
    const mine = this.#refreshing = run.finally(() => { if (this.#refreshing === mine) this.#refreshing = undefined })
    return mine
  }

  /** Throws LEVEL_READONLY when the database was opened read-only. */
  assertWritable (): void {
    if (this.options.readOnly) throw readOnly(`${this.dir} is open with readOnly: writes, clear and compactRange are refused`)
  }

  /** The sequence number of the last published write: what an implicit snapshot reads. */
  get lastSequence (): number {
    return this.#versions.lastSequence
  }

  put (key: Bytes, value: Bytes, sync = false): Promise<void> {
    const group = this.#join()
    group.batch.put(key, value)
    return group.waitFor(sync)
  }

  del (key: Bytes, sync = false): Promise<void> {
    const group = this.#join()
    group.batch.del(key)
    return group.waitFor(sync)
  }

  /**
   * write() for a large batch: `fill` adds some of the records per call and returns true once it added the
   * last, and the event loop may turn between calls. The batch is a group of its own that keeps its place
   * in line from this call on (writes made after it commit after it), and the commit waits for it to be
   * filled. Atomic: all of it, or none if fill throws (the promise rejects with that error).
   */
  async writeInParts (fill: (batch: WriteBatch) => boolean, sync = false): Promise<void> {
    const group = this.#join(new WriteGroup(new WriteBatch(64 * 1024)))
    group.open = false
    group.ready = false
    const done = group.waitFor(sync)
    try {
      while (!fill(group.batch)) {
        if (eventLoopBudget.spent()) await eventLoopBudget.turn()
        if (!this.#groups.includes(group)) return await done // failed meanwhile (#failGroups)
      }
    } catch (err) {
      const at = this.#groups.indexOf(group)
      if (at >= 0) this.#groups.splice(at, 1)
      group.fail(asError(err))
      if (at === 0 && this.#groups.length > 0) this.#scheduleCommit()
      return await done
    }
    group.ready = true
    if (this.#groups[0] === group) this.#scheduleCommit()
    return await done
  }

  /** Writes the records `fill` adds, atomically: all in one group, or none if fill throws. */
  write (fill: (batch: WriteBatch) => void, sync = false): Promise<void> {
    const group = this.#join()
    const batch = group.batch
    batch.mark()
    try {
      fill(batch)
    } catch (err) {
      batch.rollback()
      throw err
    }
    return group.waitFor(sync)
  }

  /**
   * Looks up key as of `sequence`. True when a live value exists; it is then at
   * valueBuf[valueOff, valueOff + valueLen) until the next call. `fillCache` keeps table blocks read
   * for it in the block cache.
   */
  get (key: Bytes, sequence: number, fillCache = true): boolean {
    // A follower's get that meets a table the writer deleted while closed catches up and reads again (read-only.ts).
    if (this.#follower !== undefined) return this.#follower.readFresh(sequence, (s) => this.#get(key, s, fillCache))
    return this.#get(key, sequence, fillCache)
  }

  #get (key: Bytes, sequence: number, fillCache: boolean): boolean {
    const buf = this.#encodeKey(key)
    const len = this.#keyLen
    let replayed = this.#replayed
    let version = this.#versions.current
    // A follower reads an older sequence in the view it was published in (a snapshot pins it).
    if (this.#follower !== undefined && sequence !== this.#versions.lastSequence) ({ memtables: replayed, version } = this.#follower.viewAt(sequence))
    let r = this.#memGet(this.#mem, buf, len, sequence)
    if (r === LookupResult.NotFound && this.#imm !== undefined) r = this.#memGet(this.#imm, buf, len, sequence)
    for (let i = 0; r === LookupResult.NotFound && i < replayed.length; i++) r = this.#memGet(replayed[i], buf, len, sequence)
    if (r !== LookupResult.NotFound) return r === LookupResult.Found
    const read = this.#pointRead
    if (version.get(buf, 0, len, sequence, read, fillCache) !== LookupResult.Found) return false
    const entry = read.entry
    this.valueBuf = entry.valueBuf
    this.valueOff = entry.valueOff
    this.valueLen = entry.valueLen
    return true
  }

  #memGet (mem: MemTable, key: Uint8Array, len: number, sequence: number): LookupResult {
    const r = mem.get(key, 0, len, sequence)
    if (r === LookupResult.Found) {
      this.valueBuf = mem.arena.u8
      this.valueOff = mem.valueOff
      this.valueLen = mem.valueLen
    }
    return r
  }

  /** An explicit snapshot of the last published write; release() it when done. */
  snapshot (): Snapshot {
    const follower = this.#follower
    return this.#snapshots.create(this.lastSequence, follower?.pin(follower.current, true))
  }

  /**
   * An iterator over the database as of `sequence` (default: now). It pins the memtables and the
   * version it reads and registers its sequence as a snapshot until close(). Tables wholly outside
   * `bounds` are never opened.
   */
  iterator (sequence = this.lastSequence, fillCache = false, bounds: IteratorBounds = {}): DbIterator {
    let version = this.#versions.current
    let replayed = this.#replayed
    let unpin: (() => void) | undefined
    if (this.#follower !== undefined) {
      const view = this.#follower.viewAt(sequence)
      ;({ memtables: replayed, version } = view)
      unpin = this.#follower.pin(view)
    }
    version.ref()
    const children: InternalIterator[] = [this.#mem.iterator()]
    if (this.#imm !== undefined) children.push(this.#imm.iterator())
    for (const mem of replayed) children.push(mem.iterator())
    for (const it of version.iterators(fillCache, bounds.lower, bounds.upper)) children.push(it)
    const snapshot = this.#snapshots.create(sequence)
    // A lone source needs no merging (the common case while everything is still in the memtable).
    const source = children.length === 1 ? children[0] : new MergingIterator(children)
    return new DbIterator(source, sequence, () => {
      snapshot.release()
      version.unref()
      unpin?.()
    })
  }

  /**
   * Approximate bytes of table data for user keys in [start, end) (LevelDB's GetApproximateSizes:
   * memtables are not counted). It answers once the table of what the open recovered is installed, as
   * LevelDB's open has written it by then.
   */
  async approximateSize (start: Uint8Array, end: Uint8Array): Promise<number> {
    await this.#recoveryFlush
    const version = this.#versions.current
    const a = version.approximateOffsetOf(maxTagKey(start))
    const b = version.approximateOffsetOf(maxTagKey(end))
    return b > a ? b - a : 0
  }

  /** Writes the memtable to a table now (if it holds anything) and waits until it is installed. */
  async flush (): Promise<void> {
    this.assertWritable()
    // Commit what is queued first; that may itself start a flush, which must end before ours.
    await this.#drainGroups()
    while (this.#flushing !== undefined) await this.#flushing
    if (this.#bgError !== undefined) throw this.#bgError
    if (this.#mem.entries === 0) return
    // A group part-way into the memtable must finish in it: its log is the one being retired.
    while (this.#inserting !== undefined) await this.#drainGroups()
    if (this.#mem.entries === 0) return
    this.#switchMemtable()
    while (this.#flushing !== undefined) await this.#flushing
    if (this.#bgError !== undefined) throw this.#bgError
  }

  /**
   * Writes a checkpoint of the state as of this call (later writes excluded) to `dest`, which must not exist
   * or be empty (engine/db/checkpoint.ts): tables hard-linked, the memtables as a table, a fresh MANIFEST
   * and CURRENT, all synced. Writes go on meanwhile. A read-only database checkpoints its current view; if
   * the writer deletes one of its tables first, it refreshes and starts again (up to MAX_ATTEMPTS times).
   */
  async checkpoint (dest: string): Promise<CheckpointReport> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw ioError('database is closed')
      if (this.#bgError !== undefined) throw this.#bgError
      // One synchronous step: the sequence, the version and the memtables, pinned together.
      const follower = this.#follower
      const view = follower?.current
      const unpin = view === undefined ? undefined : follower!.pin(view)
      const version = view?.version ?? this.#versions.current
      version.ref()
      const memtables = [this.#mem, ...this.#imm === undefined ? [] : [this.#imm], ...view?.memtables ?? this.#replayed]
      const source = { dir: this.dir, options: this.options, version, memtables, worker: this.#background, sequence: this.lastSequence, nextFileNumber: this.#versions.nextFileNumber }
      try {
        return await writeCheckpoint(source, dest)
      } catch (err) {
        // A follower's table the writer deleted before it was linked: catch up and try again.
        if (follower === undefined || attempt >= MAX_ATTEMPTS || systemErrorCode(err) !== 'ENOENT') throw err
      } finally {
        version.unref()
        unpin?.()
      }
      await this.refresh()
    }
  }

  /** A LevelDB property (engine/db/properties.ts), or undefined for an unknown name. */
  getProperty (name: string): string | undefined {
    return getProperty(name, {
      version: this.#versions.current,
      memoryUsage: this.memoryUsage,
      blockCacheUsage: this.#blockCache?.totalCharge ?? 0,
      tableStats: this.#tableCache.stats,
      openRetries: this.openRetries,
      refreshRetries: this.#follower?.refreshRetries,
      recoverySkipped: this.#recoverySkipped
    })
  }

  /** Files per level of the current version (for properties and tests). */
  numFilesAtLevel (level: number): number {
    return this.#versions.current.numFiles(level)
  }

  /** Waits for writes, syncs and the flush in flight, then closes the files and releases the lock. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#refreshTimer)
    await this.#refreshing?.catch(() => {})
    this.#follower?.close()
    // A compaction only reorganises what is already durable: stop it rather than wait for it (the flush
    // in flight is waited for, since it holds acknowledged writes).
    Atomics.store(this.#cancel, 0, 1)
    await this.#drainGroups()
    while (this.#flushing !== undefined || this.#compacting !== undefined) {
      await this.#flushing?.catch(() => {})
      await this.#compacting?.catch(() => {})
    }
    while (this.#switchSync !== undefined) await this.#switchSync
    while (this.#syncing !== undefined) await this.#syncing.catch(() => {})
    this.#log?.file.close()
    for (const file of this.#retiredLogs) file.close()
    this.#retiredLogs.clear()
    await this.#warming
    // Both threads are idle now: back to the pool of idle threads (a thread with a job still in flight stops).
    await Promise.all([this.#background.close(), this.#compactionWorker.close(), ...this.#removing.values()])
    this.#versions.close()
    this.#tableCache.close()
    this.#info.close()
    await this.#lock?.release()
  }

  /** Approximate bytes held by memtables. */
  get memoryUsage (): number {
    let bytes = this.#mem.approximateMemoryUsage + (this.#imm?.approximateMemoryUsage ?? 0)
    for (const mem of this.#replayed) bytes += mem.approximateMemoryUsage
    return bytes
  }

  /** The log being written. Throws LEVEL_READONLY when there is none (read-only). */
  #currentLog (): OpenLog {
    if (this.#log === undefined) throw readOnly(`${this.dir} is open with readOnly: it has no log`)
    return this.#log
  }

  // --- write path ------------------------------------------------------------------------------

  /**
   * The group a new write joins: the collecting one, or a new one whose commit is scheduled; `own`, a
   * group of the caller's, is always put in line.
   */
  #join (own?: WriteGroup): WriteGroup {
    if (this.#closed) throw ioError('database is closed')
    this.assertWritable()
    if (this.#bgError !== undefined) throw this.#bgError
    const groups = this.#groups
    let group = groups[groups.length - 1]
    if (own !== undefined || group === undefined || !group.open || group.batch.byteLength >= MAX_GROUP_BYTES) {
      if (own !== undefined) {
        group = own
      } else {
        group = new WriteGroup(this.#spareBatch ?? new WriteBatch(4096))
        this.#spareBatch = undefined
      }
      groups.push(group)
      if (groups.length === 1) this.#scheduleCommit()
    }
    return group
  }

  /**
   * Runs the commit as a microtask while the event loop's slice lasts, else after a turn of the loop; the
   * group keeps collecting writes meanwhile.
   */
  #scheduleCommit (): void {
    if (this.#level0At(L0_SLOWDOWN_WRITES_TRIGGER)) {
      // LevelDB's slowdown: each group waits 1 ms while level 0 is deep, giving the compaction room
      // before writes would have to stop. Logged once per compaction it waits for.
      if (!this.#slowdownLogged) this.#logSlowdown()
      setTimeout(this.#commitTask, 1)
    } else if (eventLoopBudget.spent()) {
      eventLoopBudget.afterTurn(this.#commitTask)
    } else {
      // A microtask, as queueMicrotask's, at about a third of its allocation (Node wraps each
      // queueMicrotask callback for async_hooks): one per awaited write.
      RESOLVED.then(this.#commitTask)
    }
  }

  /**
   * Commits the waiting groups, oldest first. It stops when the event loop's slice is spent and continues
   * after a turn. A stall (full memtables, level 0 at its stop trigger) leaves the groups waiting for
   * #resumeStalled.
   */
  #commit (): void {
    const groups = this.#groups
    while (groups.length > 0) {
      const step = this.#commitOne(groups[0])
      if (step === CommitStep.Waiting) return
      if (step === CommitStep.Paused) {
        eventLoopBudget.afterTurn(this.#commitTask)
        return
      }
      groups.shift()
      if (groups.length > 0 && eventLoopBudget.spent()) {
        eventLoopBudget.afterTurn(this.#commitTask)
        return
      }
    }
  }

  /**
   * Commits one group: Done, Waiting (a stall; the group stays first), or Paused (the slice was spent
   * part-way through its records; the rest go in after a turn).
   */
  #commitOne (group: WriteGroup): CommitStep {
    if (this.#inserting === undefined) {
      const step = this.#startCommit(group)
      if (step !== CommitStep.Done) return step
    }
    const inserting = this.#inserting!
    if (inserting.logging) {
      const log = this.#currentLog()
      try {
        while (!log.writer.appendPart()) {
          if (eventLoopBudget.spent()) return CommitStep.Paused
        }
      } catch (err) {
        this.#inserting = undefined
        this.#failGroups(this.#backgroundError(fromFsError(`writing ${log.file.path}`, err)))
        return CommitStep.Waiting
      }
      inserting.logging = false
      this.#logUnsynced = true // a sync may have begun between parts
    }
    while (!insertBatch(inserting.reader, inserting.mem, INSERT_CHUNK)) {
      if (eventLoopBudget.spent()) return CommitStep.Paused
    }
    this.#inserting = undefined
    const batch = group.batch
    this.#versions.lastSequence = inserting.reader.sequence + batch.count - 1
    if (!this.#flushThreadAsked && this.#mem.approximateMemoryUsage >= this.options.writeBufferSize / 2) {
      this.#flushThreadAsked = true
      eventLoopBudget.afterTurn(this.#warmFlushThread)
    }
    if (batch.buf.length <= KEEP_BATCH_BYTES) {
      batch.clear()
      this.#spareBatch = batch
    }
    group.written()
    if (group.needsSync) {
      this.#syncWaiters.push(group)
      if (this.#syncing === undefined) this.#syncing = this.#syncLoop()
    }
    return CommitStep.Done
  }

  /**
   * Makes room for the group (a memtable switch, or a stall), seals it, appends it to the log and sets
   * #inserting: Done, or Waiting when it must wait or failed.
   */
  #startCommit (group: WriteGroup): CommitStep {
    const batch = group.batch
    if (this.#bgError !== undefined) {
      this.#failGroups(this.#bgError)
      return CommitStep.Waiting
    }
    // A batch written in parts that is not filled yet: writeInParts commits once it is.
    if (!group.ready) return CommitStep.Waiting
    if (this.#level0At(L0_STOP_WRITES_TRIGGER)) {
      // Level 0 is too deep for reads to stay fast: wait for the compaction (LevelDB's stop trigger).
      this.#stall('Too many L0 files; waiting...')
      return CommitStep.Waiting
    }
    if (this.#mem.approximateMemoryUsage >= this.options.writeBufferSize) {
      // Room for the write: wait for the running flush if the memtable it left behind is full too.
      if (this.#imm !== undefined) {
        this.#stall('Current memtable full; waiting...')
        return CommitStep.Waiting
      }
      try {
        this.#switchMemtable()
      } catch (err) {
        // No descriptor for the new log, even after closing idle tables: nothing changed, so write on
        // into this memtable and try the switch again at the next commit.
        if (!isDescriptorShortage(err)) {
          this.#failGroups(this.#backgroundError(fromFsError('switching to a new log', err)))
          return CommitStep.Waiting
        }
      }
    }
    if (this.#switchSync !== undefined) {
      this.#stalled = true
      return CommitStep.Waiting
    }
    const sequence = this.#versions.lastSequence + 1
    batch.seal(sequence)
    group.open = false
    const log = this.#currentLog()
    const inParts = batch.byteLength > LOG_PART_BYTES
    try {
      if (inParts) log.writer.beginRecord(batch.buf, batch.offset, batch.byteLength)
      else log.writer.addRecord(batch.buf, batch.offset, batch.byteLength, true)
      this.#logUnsynced = true
    } catch (err) {
      this.#failGroups(this.#backgroundError(fromFsError(`writing ${log.file.path}`, err)))
      return CommitStep.Waiting
    }
    const reader = this.#insertingState?.reader.reset(batch.buf, batch.offset, batch.byteLength, 'write batch') ??
      new BatchReader(batch.buf, batch.offset, batch.byteLength, 'write batch')
    const state = this.#insertingState ??= { group, reader, mem: this.#mem, logging: inParts }
    state.group = group
    state.mem = this.#mem
    state.logging = inParts
    this.#inserting = state
    return CommitStep.Done
  }

  /** Commits every group queued so far (or fails them), with turns of the event loop, waiting out stalls. */
  async #drainGroups (): Promise<void> {
    while (this.#groups.length > 0) {
      this.#commit()
      if (this.#groups.length === 0) break
      // A stall ends with its flush or compaction (#resumeStalled commits then); else the slice was spent.
      if (this.#stalled) await (this.#switchSync ?? this.#flushing ?? this.#compacting)?.catch(() => {})
      else await eventLoopBudget.turn()
    }
  }

  /** Fails every waiting group with err (nothing of theirs was written). */
  #failGroups (err: EngineError): void {
    const groups = this.#groups.splice(0)
    for (const g of groups) g.fail(err)
  }

  /**
   * Runs fdatasyncs while groups wait for one; each covers every group written before it began (earlier
   * logs were synced at their switch: #switchSync).
   */
  async #syncLoop (): Promise<void> {
    while (this.#syncWaiters.length > 0) {
      const waiters = this.#syncWaiters
      this.#syncWaiters = []
      const current = this.#currentLog().file
      // A switch still syncing the log it retired: some of these groups may be in that log, which this
      // fdatasync does not cover; the switch's (#syncSwitch) does.
      const retiring = this.#switchSync
      try {
        this.#logUnsynced = false
        await this.#syncFile(current)
        if (retiring !== undefined) {
          await retiring
          // It failed (its error is the database's now): the groups in the retired log may not be durable.
          if (this.#bgError !== undefined) throw this.#bgError
        }
      } catch (err) {
        const failure = this.#backgroundError(fromFsError('syncing the log', err))
        for (const g of waiters) g.fail(failure)
        for (const g of this.#syncWaiters) g.fail(failure)
        this.#syncWaiters = []
        break
      }
      for (const g of waiters) g.durable()
    }
    this.#syncing = undefined
  }

  /**
   * The syncs a switch needs before the new log takes writes (see #switchSync): the old log's (if it holds
   * unsynced writes) and the directory's, so that sync writes acknowledged in the new log survive with its
   * name. Then the groups waiting for it are committed.
   */
  async #syncSwitch (old: WritableFile, oldUnsynced: boolean): Promise<void> {
    try {
      // A sync already running on it may have begun before its last writes: this one covers them all.
      if (oldUnsynced) await this.#syncFile(old)
      await this.fs.syncDirAsync(this.dir)
    } catch (err) {
      this.#backgroundError(fromFsError('syncing the log and directory at a log switch', err))
    } finally {
      this.#switchSync = undefined
    }
    this.#resumeStalled()
  }

  /** fdatasyncs file, keeping it open meanwhile; a retired log is closed once synced (nothing more goes to it). */
  async #syncFile (file: WritableFile): Promise<void> {
    this.#syncingFiles.set(file, (this.#syncingFiles.get(file) ?? 0) + 1)
    try {
      await file.syncAsync()
    } catch (err) {
      throw fromFsError(`syncing ${file.path}`, err)
    } finally {
      const left = this.#syncingFiles.get(file)! - 1
      if (left > 0) this.#syncingFiles.set(file, left)
      else this.#syncingFiles.delete(file)
      if (left === 0 && this.#retiredLogs.has(file)) this.#closeRetired(file)
    }
  }

  /**
   * Seals the memtable as immutable, starts a new WAL and memtable, and starts the flush.
   * Requires: no flush running (#imm undefined).
   */
  #switchMemtable (): void {
    if (this.#inserting !== undefined) throw new Error('internal: memtable switch while a group is being added to it')
    const versions = this.#versions
    const number = versions.newFileNumber()
    const path = logFileName(this.dir, number)
    const file = this.fs.openWritable(path)
    const old = this.#currentLog()
    this.#log = { number, file, writer: new LogWriter(file) }
    this.#retiredLogs.add(old.file)
    this.#switchSync = this.#syncSwitch(old.file, this.#logUnsynced)
    this.#logUnsynced = false
    this.#imm = this.#mem
    this.#mem = new MemTable(this.#spareMem ?? memTableCapacity(this.options.writeBufferSize))
    this.#spareMem = undefined
    this.#flushThreadAsked = false
    this.#flushing = this.#flushImmutable()
  }

  /** Writes #imm as a table (on the worker unless told otherwise), then installs it. */
  async #flushImmutable (number = this.#versions.newFileNumber(), recovered = false): Promise<void> {
    const serial = ++this.#flushSerial
    const imm = this.#imm!
    this.#pendingOutputs.add(number)
    try {
      const table = await writeMemTable(this.#background, this.dir, this.options, number, imm, this.#info)
      await this.#installFlush(table, recovered)
    } catch (err) {
      this.#backgroundError(fromFsError(`flushing the memtable to ${tableFileName(this.dir, number)}`, err))
    } finally {
      this.#pendingOutputs.delete(number)
      if (this.#flushSerial === serial) this.#flushing = undefined
    }
    // Scheduled first: a write resumed here must meet the compaction it would stop for (#level0At).
    this.#maybeScheduleCompaction()
    this.#resumeStalled()
  }

  /**
   * Records a flushed table and the new log in the MANIFEST, then retires the immutable memtable. No
   * compaction starts until the edit is applied (#installingFlush): the table's level is chosen against the
   * current version, and a compaction picked before the edit could write over that level's range.
   */
  async #installFlush (table: BuiltTable | undefined, recovered: boolean): Promise<void> {
    const file = table?.file
    const edit = new VersionEdit()
    if (file !== undefined) {
      // While a compaction runs, its outputs are not in the version yet: a table placed deeper than
      // level 0 could overlap them, so it stays at level 0 then. What recovery replayed goes to level 0, as
      // LevelDB's recovery places it (RecoverLogFile's WriteLevel0Table has no base version).
      const level = this.#compacting !== undefined || recovered
        ? 0
        : this.#versions.current.pickLevelForMemTableOutput(
          file.smallest.subarray(0, file.smallest.length - 8), file.largest.subarray(0, file.largest.length - 8),
          this.options.maxFileSize)
      edit.addFile(level, file)
    }
    edit.logNumber = this.#currentLog().number
    edit.prevLogNumber = 0
    this.#installingFlush = true
    try {
      await this.#versions.logAndApply(edit)
    } finally {
      this.#installingFlush = false
    }
    // The compaction the new table calls for starts now, not after the obsolete files are gone (a few turns):
    // writes meanwhile would meet a deep level 0 with none running. Its outputs are pending before the listing.
    this.#maybeScheduleCompaction()
    if (table !== undefined) this.#warm([table.file], table.parts === undefined ? undefined : [table.parts])
    const imm = this.#imm
    this.#imm = undefined
    if (imm !== undefined && imm.openIterators === 0) this.#spareMem = imm
    for (const f of [...this.#retiredLogs]) {
      if (!this.#syncingFiles.has(f)) this.#closeRetired(f)
    }
    await this.#removeObsoleteFiles()
  }

  /**
   * Queues new tables for #warmTables, and starts it if it is not running; `parts`, beside `files` one for
   * one, are what their builder kept for a reader (table-parts.ts).
   */
  #warm (files: readonly FileMetaData[], parts?: readonly TableParts[]): void {
    // Nothing to open: no loop, whose body would then run to its finally before #warming is even set.
    if (files.length === 0) return
    for (let i = 0; i < files.length; i++) this.#toWarm.push({ file: files[i], parts: parts?.[i] })
    this.#warming ??= this.#warmTables()
  }

  /** Opens the queued tables that are still live, each after a turn of the event loop. Never rejects. */
  async #warmTables (): Promise<void> {
    try {
      while (this.#toWarm.length > 0) {
        await eventLoopBudget.turn()
        // Checked in the same run of the loop as the open: close() cannot slip in between.
        if (this.#closed) return
        const { file: f, parts } = this.#toWarm.shift()!
        if (!this.#versions.current.files.some((level) => level.includes(f))) continue // compacted away
        try {
          this.#tableCache.open(f.number, f.fileSize, parts)
        } catch {
          // Not this loop's to report: the first read of the table meets the same error and reports it.
        }
      }
    } finally {
      this.#warming = undefined
    }
  }

  /** A group waiting for a flush or a compaction to make room: commit it now if there is room. */
  #resumeStalled (): void {
    if (!this.#stalled) return
    this.#stalled = false
    this.#commit()
    if (!this.#stalled) this.#stallLogged = undefined
  }

  /** Marks a stall (#stalled); its first wait is logged, not every retry of the same stall. */
  #stall (why: string): void {
    this.#stalled = true
    if (this.#stallLogged === why) return
    this.#stallLogged = why
    this.#info.log(why)
  }

  /** LevelDB's RecordBackgroundError: the first error puts the database in its error state, and is logged. */
  #backgroundError (err: EngineError): EngineError {
    if (this.#bgError === undefined) {
      this.#bgError = err
      this.#info.log(`Background error: ${err.message}`)
    }
    return this.#bgError
  }

  /** Starts the compaction LevelDB's size scores call for, if none is running. */
  #maybeScheduleCompaction (): void {
    if (this.#compacting !== undefined || this.#installingFlush || this.#closed || this.#bgError !== undefined) return
    const c = pickCompaction(this.#versions.current, this.#versions.compactPointers, { maxFileSize: this.options.maxFileSize })
    if (c !== undefined) this.#startCompaction(c)
  }

  /**
   * LevelDB's condition for its slowdown and stop: level 0 holds `trigger` tables or more, and a compaction
   * runs or is about to (a flush's install schedules one as soon as its edit is applied). LevelDB waits on
   * the level alone, a compaction being always scheduled then; here a write does not wait where none will
   * come (the database closing, or in its error state), as it could never resume.
   */
  #level0At (trigger: number): boolean {
    return (this.#compacting !== undefined || this.#installingFlush) && this.#versions.current.numFiles(0) >= trigger
  }

  /** LevelDB logs no slowdown; rough-level does, once per compaction the writes wait for (#slowdownLogged). */
  #logSlowdown (): void {
    this.#slowdownLogged = true
    this.#info.log(`Too many L0 files (${this.#versions.current.numFiles(0)}); delaying each write group by 1 ms...`)
  }

  #startCompaction (c: Compaction): Promise<void> {
    const running = this.#compacting = this.#runCompaction(c).finally(() => {
      if (this.#compacting === running) this.#compacting = undefined
      this.#slowdownLogged = false
      this.#maybeScheduleCompaction() // before the resume, as in #flushImmutable
      this.#resumeStalled()
    })
    return running
  }

  /**
   * Runs c (on the compaction worker unless told otherwise) and installs its result: inputs deleted,
   * outputs added, in one MANIFEST edit; then deletes the files no version needs any more.
   */
  async #runCompaction (c: Compaction): Promise<void> {
    const versions = this.#versions
    const info = this.#info
    if (c.isTrivialMove()) {
      const f = c.inputs[0][0]
      let status = 'OK'
      try {
        await versions.logAndApply(trivialMoveEdit(c))
      } catch (err) {
        status = this.#backgroundError(fromFsError('recording a trivial move', err)).message
      }
      info.log(`Moved #${f.number} to level-${c.level + 1} ${f.fileSize} bytes ${status}: ${versions.current.levelSummary()}`)
      return
    }
    const inputs = `${c.inputs[0].length}@${c.level} + ${c.inputs[1].length}@${c.level + 1} files`
    info.log(`Compacting ${inputs}`)
    const start = performance.now()
    const numbers: number[] = []
    for (let i = maxOutputFiles(c, this.options.maxFileSize); i > 0; i--) {
      const n = versions.newFileNumber()
      numbers.push(n)
      this.#pendingOutputs.add(n)
    }
    // Entries only these snapshots (or iterators) can still see must survive.
    const smallestSnapshot = this.#snapshots.oldest() ?? this.lastSequence
    const options = { ...buildTableOptions(this.options), maxFileSize: this.options.maxFileSize }
    try {
      let outputs: FileMetaData[]
      let parts: TableParts[] | undefined
      const description = workerFileSystem(this.options)
      if (description !== undefined) {
        const result = await this.#compactionWorker.run({
          kind: 'compaction', fs: description, dir: this.dir, compaction: c.spec(), options, smallestSnapshot, fileNumbers: numbers, cancel: this.#cancel.buffer as SharedArrayBuffer
        })
        info.write(result.log)
        if (!result.ok) {
          const err = resultError(result)
          // A shortage of descriptors that outlasted the worker's retries is no error of the database:
          // the inputs are untouched, and it is picked again (each run of the job retries with pauses).
          if (isDescriptorShortage(err)) {
            info.log(`Compaction of ${inputs} postponed: ${err.message}`)
            return
          }
          throw err
        }
        outputs = result.files
        parts = result.parts
      } else {
        await undefined
        // Its check of each output opened it in this thread's table cache: nothing is left to warm from parts.
        outputs = runCompaction(c, {
          fs: this.fs, dir: this.dir, tableCache: this.#tableCache, options, smallestSnapshot, fileNumbers: numbers, cancelled: () => this.#closed, log: (m) => info.log(m)
        }).outputs
      }
      if (this.#bgError !== undefined || this.#closed) return
      await versions.logAndApply(applyCompaction(c, outputs))
      this.#warm(outputs, parts)
      let written = 0
      for (const f of outputs) written += f.fileSize
      info.log(`Compacted ${inputs} => ${written} bytes (read ${c.totalInputBytes} bytes, ${Math.round(performance.now() - start)} ms)`)
      info.log(`compacted to: ${versions.current.levelSummary()}`)
      await this.#removeObsoleteFiles()
    } catch (err) {
      // Closing cancels a running compaction; that is not an error of the database.
      if (this.#closed) info.log(`Compaction of ${inputs} stopped: the database is closing`)
      else this.#backgroundError(fromFsError(`compacting level ${c.level}`, err))
    } finally {
      for (const n of numbers) this.#pendingOutputs.delete(n)
    }
  }

  /**
   * LevelDB's CompactRange: flushes the memtable, then compacts the range at every level down to the
   * deepest one holding part of it, in rounds. begin and end are user keys (undefined: unbounded).
   */
  async compactRange (begin?: Uint8Array, end?: Uint8Array): Promise<void> {
    this.assertWritable()
    await this.flush()
    const begin0 = begin === undefined ? undefined : maxTagKey(begin)
    const endKey = end === undefined ? undefined : minTagKey(end)
    let deepest = 1
    for (let level = 1; level < NUM_LEVELS; level++) {
      if (this.#versions.current.overlapInLevel(level, begin, end)) deepest = level
    }
    for (let level = 0; level < deepest; level++) {
      let from = begin0
      for (;;) {
        while (this.#compacting !== undefined || this.#installingFlush) await (this.#compacting ?? this.#flushing)
        if (this.#bgError !== undefined) throw this.#bgError
        if (this.#closed) return
        const c = compactRange(this.#versions.current, level, from, endKey, { maxFileSize: this.options.maxFileSize })
        if (c === undefined) break
        await this.#startCompaction(c)
        if (this.#bgError !== undefined) throw this.#bgError
        from = c.largestInputKey()
      }
    }
  }

  /** Closes a retired log: its writes are in a synced table, or covered by an fdatasync. */
  #closeRetired (file: WritableFile): void {
    this.#retiredLogs.delete(file)
    try { file.close() } catch {}
  }

  // --- helpers ---------------------------------------------------------------------------------

  /** Bytes of key (their count in #keyLen): a Uint8Array as is, a string as UTF-8 in a reused scratch buffer. */
  #encodeKey (key: Bytes): Uint8Array {
    if (typeof key !== 'string') {
      this.#keyLen = key.length
      return key
    }
    if (this.#keyScratch.length < key.length * 3) this.#keyScratch = allocUnsafe(key.length * 3)
    this.#keyLen = encodeUtf8Into(this.#keyScratch, 0, key)
    return this.#keyScratch
  }

  /**
   * Deletes the files no live version, pending output or live log needs (LevelDB's RemoveObsoleteFiles).
   * The unlinks run on the thread pool (deleting a large table frees its extents in the kernel); the promise
   * settles when they are done, and never rejects: a file left behind is deleted by the next open.
   */
  #removeObsoleteFiles (): Promise<void> {
    if (this.#bgError !== undefined) return Promise.resolve() // after an error we cannot tell what is live
    const v = this.#versions
    const live = v.liveFiles()
    for (const n of this.#pendingOutputs) live.add(n)
    let names: string[]
    try {
      names = this.fs.readdir(this.dir)
    } catch {
      return Promise.resolve()
    }
    const removals: Array<Promise<void>> = []
    for (const name of names) {
      const parsed = parseFileName(name)
      if (parsed === undefined || this.#removing.has(name)) continue
      let keep = true
      switch (parsed.type) {
        case FileType.Log: keep = parsed.number >= v.logNumber || parsed.number === v.prevLogNumber; break
        case FileType.Descriptor: keep = parsed.number >= v.manifestFileNumber; break
        case FileType.Table:
        case FileType.Temp: keep = live.has(parsed.number); break
        default: keep = true
      }
      if (!keep) {
        if (parsed.type === FileType.Table) this.#tableCache.evict(parsed.number)
        this.#info.log(`Delete type=${parsed.type} #${parsed.number}`)
        removals.push(this.#remove(name))
      }
    }
    return removals.length === 0 ? Promise.resolve() : Promise.all(removals).then(() => undefined)
  }

  /** Unlinks dir/name on the thread pool where the file system can; listed in #removing until done. */
  #remove (name: string): Promise<void> {
    const path = `${this.dir}/${name}`
    let done: Promise<void>
    try {
      done = this.fs.unlinkAsync?.(path) ?? Promise.resolve(this.fs.unlink(path))
    } catch {
      return Promise.resolve()
    }
    const settled = done.catch(() => {}).finally(() => this.#removing.delete(name))
    this.#removing.set(name, settled)
    return settled
  }
}

/** `userKey ‖ tag(0, Deletion)`: sorts after every entry of userKey. */
function minTagKey (userKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(userKey.length + 8)
  out.set(userKey, 0)
  return out
}

/** `userKey ‖ tag(2^56 - 1, Value)`: sorts before every entry of userKey. */
function maxTagKey (userKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(userKey.length + 8)
  out.set(userKey, 0)
  putMaxTag(out, userKey.length)
  return out
}
