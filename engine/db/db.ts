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
import { BackgroundWorker, resultError } from '../compaction/background'
import { buildTable, buildTableOptions } from '../compaction/build-table'
import { Compaction, compactRange, pickCompaction } from '../compaction/compaction'
import { L0_SLOWDOWN_WRITES_TRIGGER, L0_STOP_WRITES_TRIGGER } from '../compaction/constants'
import { applyCompaction, maxOutputFiles, runCompaction, trivialMoveEdit } from '../compaction/run-compaction'
import { type EngineError, fromFsError, invalidArgument, ioError } from '../errors'
import { BudgetedFileSystem } from '../fs/budgeted-file-system'
import { DescriptorBudget, descriptorLimit, isDescriptorShortage } from '../fs/descriptor-budget'
import type { FileSystem, FileSystemDescription, WritableFile } from '../fs/file-system'
import { putMaxTag } from '../internal-key'
import { DbIterator } from '../iterators/db-iterator'
import type { InternalIterator } from '../iterators/internal-iterator'
import { MergingIterator } from '../iterators/merging-iterator'
import { acquireLock, type DbLock } from '../lock'
import { LogWriter } from '../log/writer'
import type { Arena } from '../memtable/arena'
import { LookupResult, MemTable } from '../memtable/memtable'
import { sanitizeOptions, type DbOptions, type DbOptionsInput } from '../options'
import { SnapshotList, type Snapshot } from '../snapshot-list'
import type { Block } from '../table/block'
import { checkCompressionSupported, CompressionType } from '../table/compression'
import { TableCache } from '../table/table-cache'
import { LruCache } from '../util/lru-cache'
import { FileType, logFileName, parseFileName, tableFileName } from '../version/filename'
import { NUM_LEVELS, VersionEdit, type FileMetaData } from '../version/version-edit'
import { VersionSet } from '../version/version-set'
import { BatchReader, WriteBatch, type Bytes } from '../write-batch'
import { getProperty } from './properties'
import { recover, type OpenLog } from './recovery'
import { WriteGroup } from './write-group'

/** Largest group buffer kept between commits; a larger one (after a huge batch) is dropped. */
const KEEP_BATCH_BYTES = 1024 * 1024

/** Bounds, as user keys (both inclusive), that an iterator will never leave: tables outside stay closed. */
export interface IteratorBounds {
  lower?: Uint8Array
  upper?: Uint8Array
}

export class Db {
  readonly dir: string
  readonly options: DbOptions
  readonly fs: FileSystem
  readonly #versions: VersionSet
  readonly #tableCache: TableCache
  readonly #blockCache: LruCache<Block> | undefined
  readonly #lock: DbLock
  #mem: MemTable
  /** The memtable being flushed, if any: still read until its table is installed. */
  #imm: MemTable | undefined
  /**
   * A flushed memtable's arena, kept for the next memtable: the flush worker's view of it would keep a
   * fresh SharedArrayBuffer per flush alive until that worker happens to collect garbage.
   */
  #spareArena: Arena | undefined
  #log: OpenLog
  /** Logs switched away from whose file may still have an fdatasync in flight. */
  readonly #retiredLogs = new Set<WritableFile>()
  readonly #snapshots = new SnapshotList()
  /** Builds flushed tables. */
  readonly #background = new BackgroundWorker(() => this.fs.closeIdle?.())
  /** Runs compactions: a thread of its own, so that a long compaction never delays a flush. */
  readonly #compactionWorker = new BackgroundWorker(() => this.fs.closeIdle?.())
  /** Set to 1 by close(): a running compaction stops at its next check and removes its outputs. */
  readonly #cancel = new Int32Array(new SharedArrayBuffer(4))
  #compacting: Promise<void> | undefined
  /** Table numbers being written: not in any version yet, but not garbage either. */
  readonly #pendingOutputs = new Set<number>()
  #flushing: Promise<void> | undefined
  /** A commit found the memtable full while a flush ran; the flush's end commits the group. */
  #stalled = false

  #batch = new WriteBatch(4096)
  #group: WriteGroup | undefined
  /** Groups written to the WAL whose sync writers wait for an fdatasync that has not begun yet. */
  #syncWaiters: WriteGroup[] = []
  #syncing: Promise<void> | undefined
  #syncingFile: WritableFile | undefined
  #bgError: EngineError | undefined
  #closed = false
  #keyScratch = Buffer.allocUnsafe(256)
  #keyLen = 0
  readonly #commitTask = (): void => this.#commit()

  /** After get() returns true: the value is valueBuf[valueOff, valueOff + valueLen), until the next call. */
  valueBuf: Uint8Array = new Uint8Array(0)
  valueOff = 0
  valueLen = 0

  private constructor (
    dir: string, options: DbOptions, versions: VersionSet, tableCache: TableCache, blockCache: LruCache<Block> | undefined,
    lock: DbLock, mem: MemTable, log: OpenLog
  ) {
    this.#blockCache = blockCache
    this.dir = dir
    this.options = options
    this.fs = options.fs
    this.#versions = versions
    this.#tableCache = tableCache
    this.#lock = lock
    this.#mem = mem
    this.#log = log
  }

  /**
   * Opens (and with createIfMissing, creates) the database at dir. A failed open changes nothing on
   * disk beyond creating an empty directory and LOCK: no existing file is deleted, truncated or
   * rewritten.
   */
  static async open (dir: string, input?: DbOptionsInput): Promise<Db> {
    const options = sanitizeOptions(input)
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
    try {
      // Counted once the lock's socket is open, so that the process's spare descriptors exclude it.
      options.fs = new BudgetedFileSystem(fs, new DescriptorBudget(descriptorLimit(options.maxOpenFiles)))
      return Db.#recover(dir, options, lock)
    } catch (err) {
      await lock.release()
      throw err
    }
  }

  static #recover (dir: string, options: DbOptions, lock: DbLock): Db {
    const r = recover(dir, options)
    const db = new Db(dir, options, r.versions, r.tableCache, r.blockCache, lock, new MemTable(), r.log)
    db.#removeObsoleteFiles()
    db.#maybeScheduleCompaction()
    return db
  }

  /** The sequence number of the last published write: what an implicit snapshot reads. */
  get lastSequence (): number {
    return this.#versions.lastSequence
  }

  put (key: Bytes, value: Bytes, sync = false): Promise<void> {
    const group = this.#join()
    this.#batch.put(key, value)
    return group.waitFor(sync)
  }

  del (key: Bytes, sync = false): Promise<void> {
    const group = this.#join()
    this.#batch.del(key)
    return group.waitFor(sync)
  }

  /** Writes the records `fill` adds, atomically: all in one group, or none if fill throws. */
  write (fill: (batch: WriteBatch) => void, sync = false): Promise<void> {
    const group = this.#join()
    this.#batch.mark()
    try {
      fill(this.#batch)
    } catch (err) {
      this.#batch.rollback()
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
    const buf = this.#encodeKey(key)
    const len = this.#keyLen
    let r = this.#memGet(this.#mem, buf, len, sequence)
    if (r === LookupResult.NotFound && this.#imm !== undefined) r = this.#memGet(this.#imm, buf, len, sequence)
    if (r !== LookupResult.NotFound) return r === LookupResult.Found
    const version = this.#versions.current
    if (version.get(buf, 0, len, sequence, fillCache) !== LookupResult.Found) return false
    this.valueBuf = version.valueBuf
    this.valueOff = version.valueOff
    this.valueLen = version.valueLen
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
    return this.#snapshots.create(this.lastSequence)
  }

  /**
   * An iterator over the database as of `sequence` (default: now). It pins the memtables and the
   * version it reads and registers its sequence as a snapshot until close(). Tables wholly outside
   * `bounds` are never opened.
   */
  iterator (sequence = this.lastSequence, fillCache = false, bounds: IteratorBounds = {}): DbIterator {
    const version = this.#versions.current
    version.ref()
    const children: InternalIterator[] = [this.#mem.iterator()]
    if (this.#imm !== undefined) children.push(this.#imm.iterator())
    for (const it of version.iterators(fillCache, bounds.lower, bounds.upper)) children.push(it)
    const snapshot = this.#snapshots.create(sequence)
    // A lone source needs no merging (the common case while everything is still in the memtable).
    const source = children.length === 1 ? children[0] : new MergingIterator(children)
    return new DbIterator(source, sequence, () => {
      snapshot.release()
      version.unref()
    })
  }

  /**
   * Approximate bytes of table data for user keys in [start, end) (LevelDB's GetApproximateSizes:
   * memtables are not counted).
   */
  approximateSize (start: Uint8Array, end: Uint8Array): number {
    const version = this.#versions.current
    const a = version.approximateOffsetOf(maxTagKey(start))
    const b = version.approximateOffsetOf(maxTagKey(end))
    return b > a ? b - a : 0
  }

  /** Writes the memtable to a table now (if it holds anything) and waits until it is installed. */
  async flush (): Promise<void> {
    // Commit what is queued first; that commit may itself start a flush, which must end before ours.
    do {
      while (this.#flushing !== undefined) await this.#flushing
      if (this.#bgError !== undefined) throw this.#bgError
      if (this.#group !== undefined) this.#commit()
    } while (this.#flushing !== undefined)
    if (this.#mem.entries === 0) return
    this.#switchMemtable()
    while (this.#flushing !== undefined) await this.#flushing
    if (this.#bgError !== undefined) throw this.#bgError
  }

  /** A LevelDB property (engine/db/properties.ts), or undefined for an unknown name. */
  getProperty (name: string): string | undefined {
    return getProperty(name, {
      version: this.#versions.current,
      memoryUsage: this.memoryUsage,
      blockCacheUsage: this.#blockCache?.totalCharge ?? 0,
      tableStats: this.#tableCache.stats
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
    // A compaction only reorganises what is already durable: stop it rather than wait for it (the flush
    // in flight is waited for, since it holds acknowledged writes).
    Atomics.store(this.#cancel, 0, 1)
    while (this.#flushing !== undefined || this.#compacting !== undefined) {
      await this.#flushing?.catch(() => {})
      await this.#compacting?.catch(() => {})
    }
    if (this.#group !== undefined) this.#commit()
    while (this.#syncing !== undefined) await this.#syncing.catch(() => {})
    this.#log.file.close()
    for (const file of this.#retiredLogs) file.close()
    this.#retiredLogs.clear()
    await this.#background.close()
    await this.#compactionWorker.close()
    this.#versions.close()
    this.#tableCache.close()
    await this.#lock.release()
  }

  /** Approximate bytes held by memtables. */
  get memoryUsage (): number {
    return this.#mem.approximateMemoryUsage + (this.#imm?.approximateMemoryUsage ?? 0)
  }

  // --- write path ------------------------------------------------------------------------------

  #join (): WriteGroup {
    if (this.#closed) throw ioError('database is closed')
    if (this.#bgError !== undefined) throw this.#bgError
    let group = this.#group
    if (group === undefined) {
      group = this.#group = new WriteGroup()
      if (this.#compacting !== undefined && this.#versions.current.numFiles(0) >= L0_SLOWDOWN_WRITES_TRIGGER) {
        // LevelDB's slowdown: each group waits 1 ms while level 0 is deep, giving the compaction room
        // before writes would have to stop. The group keeps collecting writes meanwhile.
        setTimeout(this.#commitTask, 1)
      } else {
        queueMicrotask(this.#commitTask)
      }
    }
    return group
  }

  #commit (): void {
    const group = this.#group
    if (group === undefined) return
    const batch = this.#batch
    if (this.#bgError !== undefined) {
      this.#group = undefined
      batch.clear()
      group.fail(this.#bgError)
      return
    }
    if (this.#compacting !== undefined && this.#versions.current.numFiles(0) >= L0_STOP_WRITES_TRIGGER) {
      // Level 0 is too deep for reads to stay fast: wait for the compaction (LevelDB's stop trigger).
      this.#stalled = true
      return
    }
    if (this.#mem.approximateMemoryUsage >= this.options.writeBufferSize) {
      // Room for the write: wait for the running flush if the memtable it left behind is full too.
      if (this.#imm !== undefined) {
        this.#stalled = true
        return
      }
      try {
        this.#switchMemtable()
      } catch (err) {
        // No descriptor for the new log, even after closing idle tables: nothing changed, so write on
        // into this memtable and try the switch again at the next commit.
        if (!isDescriptorShortage(err)) {
          this.#bgError = fromFsError('switching to a new log', err)
          this.#group = undefined
          batch.clear()
          group.fail(this.#bgError)
          return
        }
      }
    }
    this.#group = undefined
    const sequence = this.#versions.lastSequence + 1
    batch.seal(sequence)
    try {
      this.#log.writer.addRecord(batch.buf, batch.offset, batch.byteLength, true)
    } catch (err) {
      this.#bgError = fromFsError(`writing ${this.#log.file.path}`, err)
      batch.clear()
      group.fail(this.#bgError)
      return
    }
    const records = new BatchReader(batch.buf, batch.offset, batch.byteLength, 'write batch')
    const mem = this.#mem
    for (let s = sequence; records.next(); s++) {
      mem.add(s, records.type, batch.buf, records.keyOff, records.keyLen, batch.buf, records.valueOff, records.valueLen)
    }
    this.#versions.lastSequence = sequence + batch.count - 1
    if (batch.buf.length > KEEP_BATCH_BYTES) this.#batch = new WriteBatch(4096)
    else batch.clear()
    group.written()
    if (group.needsSync) {
      this.#syncWaiters.push(group)
      if (this.#syncing === undefined) this.#syncing = this.#syncLoop()
    }
  }

  /** Runs fdatasyncs while groups wait for one; each covers every group written before it began. */
  async #syncLoop (): Promise<void> {
    while (this.#syncWaiters.length > 0) {
      const waiters = this.#syncWaiters
      this.#syncWaiters = []
      const file = this.#syncingFile = this.#log.file
      try {
        await file.syncAsync()
      } catch (err) {
        this.#bgError ??= fromFsError(`syncing ${file.path}`, err)
        for (const g of waiters) g.fail(this.#bgError)
        for (const g of this.#syncWaiters) g.fail(this.#bgError)
        this.#syncWaiters = []
        break
      } finally {
        this.#syncingFile = undefined
        if (this.#retiredLogs.has(file) && file !== this.#log.file) this.#closeRetired(file)
      }
      for (const g of waiters) g.durable()
    }
    this.#syncing = undefined
  }

  /**
   * Seals the memtable as immutable, starts a new WAL and memtable, and starts the flush.
   * Requires: no flush running (#imm undefined).
   */
  #switchMemtable (): void {
    const versions = this.#versions
    const number = versions.newFileNumber()
    const path = logFileName(this.dir, number)
    const file = this.fs.openWritable(path)
    try {
      // Sync writes to the new log are acknowledged before the flush's MANIFEST edit syncs the directory:
      // make the log's name durable now, or a power loss could drop the file with those writes.
      this.fs.syncDir(this.dir)
    } catch (err) {
      file.close()
      try { this.fs.unlink(path) } catch {}
      throw err
    }
    const old = this.#log
    if (this.#syncWaiters.length > 0) {
      // Their groups are in the old log: make it durable now, as the sync loop moves to the new one.
      try {
        old.file.sync()
      } catch (err) {
        file.close()
        throw err
      }
      for (const g of this.#syncWaiters) g.durable()
      this.#syncWaiters = []
    }
    this.#log = { number, file, writer: new LogWriter(file) }
    this.#retiredLogs.add(old.file)
    this.#imm = this.#mem
    this.#mem = new MemTable(this.#spareArena)
    this.#spareArena = undefined
    this.#flushing = this.#flushImmutable()
  }

  /** Writes #imm as a table (on the worker unless told otherwise), then installs it. */
  async #flushImmutable (): Promise<void> {
    const imm = this.#imm!
    const number = this.#versions.newFileNumber()
    this.#pendingOutputs.add(number)
    try {
      let file: FileMetaData | undefined
      const description = this.#workerFs()
      if (description !== undefined) {
        const result = await this.#background.run({
          kind: 'flush', fs: description, dir: this.dir, fileNumber: number, memtable: imm.shape(), options: buildTableOptions(this.options)
        })
        if (!result.ok) throw resultError(result)
        file = result.files[0]
      } else {
        await undefined // as with the worker, the flush completes after the commit that started it
        const built = buildTable(this.fs, this.dir, number, imm.iterator(), buildTableOptions(this.options))
        if (built.fileSize > 0) file = built
      }
      this.#installFlush(file)
    } catch (err) {
      this.#bgError ??= fromFsError(`flushing the memtable to ${tableFileName(this.dir, number)}`, err)
    } finally {
      this.#pendingOutputs.delete(number)
      this.#flushing = undefined
    }
    this.#resumeStalled()
    this.#maybeScheduleCompaction()
  }

  /** Records a flushed table and the new log in the MANIFEST, then retires the immutable memtable. */
  #installFlush (file: FileMetaData | undefined): void {
    const edit = new VersionEdit()
    if (file !== undefined) {
      // While a compaction runs, its outputs are not in the version yet: a table placed deeper than
      // level 0 could overlap them, so it stays at level 0 then.
      const level = this.#compacting !== undefined
        ? 0
        : this.#versions.current.pickLevelForMemTableOutput(
          file.smallest.subarray(0, file.smallest.length - 8), file.largest.subarray(0, file.largest.length - 8),
          this.options.maxFileSize)
      edit.addFile(level, file)
    }
    edit.logNumber = this.#log.number
    edit.prevLogNumber = 0
    this.#versions.logAndApply(edit)
    const imm = this.#imm
    this.#imm = undefined
    if (imm !== undefined && imm.openIterators === 0) this.#spareArena = imm.arena
    for (const f of [...this.#retiredLogs]) {
      if (f !== this.#syncingFile) this.#closeRetired(f)
    }
    this.#removeObsoleteFiles()
  }

  /** A group waiting for a flush or a compaction to make room: commit it now if there is room. */
  #resumeStalled (): void {
    if (!this.#stalled) return
    this.#stalled = false
    this.#commit()
  }

  /** How a worker rebuilds our FileSystem, or undefined to build tables on this thread. */
  #workerFs (): FileSystemDescription | undefined {
    return this.options.flushInline ? undefined : this.fs.describe()
  }

  /** Starts the compaction LevelDB's size scores call for, if none is running. */
  #maybeScheduleCompaction (): void {
    if (this.#compacting !== undefined || this.#closed || this.#bgError !== undefined) return
    const c = pickCompaction(this.#versions.current, this.#versions.compactPointers, { maxFileSize: this.options.maxFileSize })
    if (c !== undefined) this.#startCompaction(c)
  }

  #startCompaction (c: Compaction): Promise<void> {
    const running = this.#compacting = this.#runCompaction(c).finally(() => {
      if (this.#compacting === running) this.#compacting = undefined
      this.#resumeStalled()
      this.#maybeScheduleCompaction()
    })
    return running
  }

  /**
   * Runs c (on the compaction worker unless told otherwise) and installs its result: inputs deleted,
   * outputs added, in one MANIFEST edit; then deletes the files no version needs any more.
   */
  async #runCompaction (c: Compaction): Promise<void> {
    const versions = this.#versions
    if (c.isTrivialMove()) {
      try {
        versions.logAndApply(trivialMoveEdit(c))
      } catch (err) {
        this.#bgError ??= fromFsError('recording a trivial move', err)
      }
      return
    }
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
      const description = this.#workerFs()
      if (description !== undefined) {
        const result = await this.#compactionWorker.run({
          kind: 'compaction', fs: description, dir: this.dir, compaction: c.spec(), options, smallestSnapshot, fileNumbers: numbers, cancel: this.#cancel.buffer as SharedArrayBuffer
        })
        if (!result.ok) {
          const err = resultError(result)
          // A shortage of descriptors that outlasted the worker's retries is no error of the database:
          // the inputs are untouched, and it is picked again (each run of the job retries with pauses).
          if (isDescriptorShortage(err)) return
          throw err
        }
        outputs = result.files
      } else {
        await undefined
        outputs = runCompaction(c, {
          fs: this.fs, dir: this.dir, tableCache: this.#tableCache, options, smallestSnapshot, fileNumbers: numbers, cancelled: () => this.#closed
        }).outputs
      }
      if (this.#bgError !== undefined || this.#closed) return
      versions.logAndApply(applyCompaction(c, outputs))
      this.#removeObsoleteFiles()
    } catch (err) {
      // Closing cancels a running compaction; that is not an error of the database.
      if (!this.#closed) this.#bgError ??= fromFsError(`compacting level ${c.level}`, err)
    } finally {
      for (const n of numbers) this.#pendingOutputs.delete(n)
    }
  }

  /**
   * LevelDB's CompactRange: flushes the memtable, then compacts the range at every level down to the
   * deepest one holding part of it, in rounds. begin and end are user keys (undefined: unbounded).
   */
  async compactRange (begin?: Uint8Array, end?: Uint8Array): Promise<void> {
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
        while (this.#compacting !== undefined) await this.#compacting
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
    if (this.#keyScratch.length < key.length * 3) this.#keyScratch = Buffer.allocUnsafe(key.length * 3)
    this.#keyLen = this.#keyScratch.write(key, 0, 'utf8')
    return this.#keyScratch
  }

  /** Deletes files no longer needed (LevelDB's RemoveObsoleteFiles); errors are ignored. */
  #removeObsoleteFiles (): void {
    if (this.#bgError !== undefined) return // after an error we cannot tell what is live
    const v = this.#versions
    const live = v.liveFiles()
    for (const n of this.#pendingOutputs) live.add(n)
    let names: string[]
    try {
      names = this.fs.readdir(this.dir)
    } catch {
      return
    }
    for (const name of names) {
      const parsed = parseFileName(name)
      if (parsed === undefined) continue
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
        try { this.fs.unlink(`${this.dir}/${name}`) } catch {}
      }
    }
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
