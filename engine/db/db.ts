// The database (LevelDB db/db_impl.cc): open and recovery, the write path with group commit, point
// reads and iterators as of a snapshot sequence, and close.
//
// Writes: a write call appends its records to the group being collected and returns that group's
// promise; the first write of a tick schedules the commit as a microtask. The commit assigns sequence
// numbers, appends the whole group to the WAL with one write, inserts it into the memtable, publishes
// the new last sequence (so visibility follows sequence order) and resolves the group. Sync writers
// resolve after an fdatasync that began after their group was written; one fdatasync serves every
// group written before it began. A failed write or sync puts the database in an error state that fails
// every later write (LevelDB's bg_error).
//
// Reads are synchronous: an implicit snapshot is the last sequence published when the call is made.
import { corruption, EngineError, fromFsError, invalidArgument, ioError } from '../errors'
import type { FileSystem, WritableFile } from '../fs/file-system'
import { DbIterator } from '../iterators/db-iterator'
import { acquireLock, type DbLock } from '../lock'
import { LogReader } from '../log/reader'
import { LogWriter } from '../log/writer'
import { LookupResult, MemTable } from '../memtable/memtable'
import { sanitizeOptions, type DbOptions, type DbOptionsInput } from '../options'
import { SnapshotList, type Snapshot } from '../snapshot-list'
import { currentFileName, FileType, logFileName, parseFileName } from '../version/filename'
import { VersionEdit } from '../version/version-edit'
import { VersionSet } from '../version/version-set'
import { BatchReader, WriteBatch, type Bytes } from '../write-batch'
import { WriteGroup } from './write-group'

/** Largest group buffer kept between commits; a larger one (after a huge batch) is dropped. */
const KEEP_BATCH_BYTES = 1024 * 1024

interface OpenLog {
  number: number
  file: WritableFile
  writer: LogWriter
}

export class Db {
  readonly dir: string
  readonly options: DbOptions
  readonly fs: FileSystem
  readonly #versions: VersionSet
  readonly #lock: DbLock
  #mem: MemTable
  #log: OpenLog
  readonly #snapshots = new SnapshotList()

  #batch = new WriteBatch(4096)
  #group: WriteGroup | undefined
  /** Groups written to the WAL whose sync writers wait for an fdatasync that has not begun yet. */
  #syncWaiters: WriteGroup[] = []
  #syncing: Promise<void> | undefined
  #bgError: EngineError | undefined
  #closed = false
  #keyScratch = Buffer.allocUnsafe(256)
  #keyLen = 0
  readonly #commitTask = (): void => this.#commit()

  /** After get() returns true: the value is valueBuf[valueOff, valueOff + valueLen), until the next call. */
  valueBuf: Buffer = Buffer.alloc(0)
  valueOff = 0
  valueLen = 0

  private constructor (dir: string, options: DbOptions, versions: VersionSet, lock: DbLock, mem: MemTable, log: OpenLog) {
    this.dir = dir
    this.options = options
    this.fs = options.fs
    this.#versions = versions
    this.#lock = lock
    this.#mem = mem
    this.#log = log
  }

  /**
   * Opens (and with createIfMissing, creates) the database at dir. A failed open changes nothing on
   * disk beyond creating an empty directory and LOCK: no file is deleted, truncated or rewritten.
   */
  static async open (dir: string, input?: DbOptionsInput): Promise<Db> {
    const options = sanitizeOptions(input)
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
      return Db.#recover(dir, options, lock)
    } catch (err) {
      await lock.release()
      throw err
    }
  }

  static #recover (dir: string, options: DbOptions, lock: DbLock): Db {
    const fs = options.fs
    const versions = new VersionSet(dir, fs)
    if (!fs.exists(currentFileName(dir))) {
      if (!options.createIfMissing) throw invalidArgument(`${dir}: does not exist (create_if_missing is false)`)
      versions.create()
    } else if (options.errorIfExists) {
      throw invalidArgument(`${dir}: exists (error_if_exists is true)`)
    }
    versions.recover()

    const tables = versions.files.reduce((n, files) => n + files.length, 0)
    if (tables > 0) {
      throw new EngineError(`Not supported: ${dir} holds ${tables} table file(s); reading tables comes with the next stage of rough-level`, { code: 'LEVEL_NOT_SUPPORTED' })
    }

    // Replay every log at or after the MANIFEST's log number (and its previous log), oldest first.
    let names: string[]
    try {
      names = fs.readdir(dir)
    } catch (err) {
      throw fromFsError(`listing ${dir}`, err)
    }
    const logs = names
      .map(parseFileName)
      .filter((p) => p !== undefined && p.type === FileType.Log &&
        (p.number >= versions.logNumber || p.number === versions.prevLogNumber))
      .map((p) => p!.number)
      .sort((a, b) => a - b)
    const mem = new MemTable()
    let maxSequence = versions.lastSequence
    let oldestLogWithData: number | undefined
    for (const number of logs) {
      versions.markFileNumberUsed(number)
      const before = mem.entries
      maxSequence = Math.max(maxSequence, replayLog(fs, logFileName(dir, number), mem))
      if (mem.entries > before && oldestLogWithData === undefined) oldestLogWithData = number
    }
    versions.lastSequence = maxSequence

    // Every open writes a new log; until tables exist, older logs holding data stay live.
    const number = versions.newFileNumber()
    const path = logFileName(dir, number)
    let file: WritableFile
    try {
      file = fs.openWritable(path)
    } catch (err) {
      throw fromFsError(`creating ${path}`, err)
    }
    try {
      const edit = new VersionEdit()
      edit.logNumber = oldestLogWithData ?? number
      edit.prevLogNumber = 0
      edit.lastSequence = maxSequence
      versions.logAndApply(edit)
    } catch (err) {
      file.close()
      try { fs.unlink(path) } catch {}
      throw err
    }
    const db = new Db(dir, options, versions, lock, mem, { number, file, writer: new LogWriter(file) })
    db.#removeObsoleteFiles()
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
   * valueBuf[valueOff, valueOff + valueLen) until the next call.
   */
  get (key: Bytes, sequence: number): boolean {
    const buf = this.#encodeKey(key)
    const mem = this.#mem
    const r = mem.get(buf, 0, this.#keyLen, sequence)
    if (r !== LookupResult.Found) return false
    this.valueBuf = mem.arena.bytes
    this.valueOff = mem.valueOff
    this.valueLen = mem.valueLen
    return true
  }

  /** An explicit snapshot of the last published write; release() it when done. */
  snapshot (): Snapshot {
    return this.#snapshots.create(this.lastSequence)
  }

  /**
   * An iterator over the database as of `sequence` (default: now). It pins the memtable it reads and
   * registers its sequence as a snapshot until close().
   */
  iterator (sequence = this.lastSequence): DbIterator {
    const snapshot = this.#snapshots.create(sequence)
    return new DbIterator(this.#mem.iterator(), sequence, () => snapshot.release())
  }

  /** Waits for writes and syncs in flight, then closes the files and releases the lock. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#group !== undefined) this.#commit()
    while (this.#syncing !== undefined) await this.#syncing.catch(() => {})
    this.#log.file.close()
    this.#versions.close()
    await this.#lock.release()
  }

  /** Approximate bytes held by memtables. */
  get memoryUsage (): number {
    return this.#mem.approximateMemoryUsage
  }

  // --- write path ------------------------------------------------------------------------------

  #join (): WriteGroup {
    if (this.#closed) throw ioError('database is closed')
    if (this.#bgError !== undefined) throw this.#bgError
    let group = this.#group
    if (group === undefined) {
      group = this.#group = new WriteGroup()
      queueMicrotask(this.#commitTask)
    }
    return group
  }

  #commit (): void {
    const group = this.#group
    if (group === undefined) return
    this.#group = undefined
    const batch = this.#batch
    if (this.#bgError !== undefined) {
      batch.clear()
      group.fail(this.#bgError)
      return
    }
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
      try {
        await this.#log.file.syncAsync()
      } catch (err) {
        this.#bgError ??= fromFsError(`syncing ${this.#log.file.path}`, err)
        for (const g of waiters) g.fail(this.#bgError)
        for (const g of this.#syncWaiters) g.fail(this.#bgError)
        this.#syncWaiters = []
        break
      }
      for (const g of waiters) g.durable()
    }
    this.#syncing = undefined
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
    const v = this.#versions
    const live = new Set<number>()
    for (const files of v.files) for (const f of files) live.add(f.number)
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
        try { this.fs.unlink(`${this.dir}/${name}`) } catch {}
      }
    }
  }
}

/** Replays one WAL into mem; returns the largest sequence it held (0 if none). */
function replayLog (fs: FileSystem, path: string, mem: MemTable): number {
  let data: Buffer
  try {
    data = fs.readFile(path)
  } catch (err) {
    throw fromFsError(`reading ${path}`, err)
  }
  const reader = new LogReader(data, path)
  let maxSequence = 0
  for (let record = reader.readRecord(); record !== undefined; record = reader.readRecord()) {
    const what = `${path} record at offset ${reader.recordOffset}`
    if (record.length < 12) throw corruption(`log record too small in ${what}`)
    const batch = new BatchReader(record, 0, record.length, what)
    let s = batch.sequence
    while (batch.next()) {
      mem.add(s++, batch.type, record, batch.keyOff, batch.keyLen, record, batch.valueOff, batch.valueLen)
    }
    if (batch.count > 0) maxSequence = Math.max(maxSequence, batch.sequence + batch.count - 1)
  }
  return maxSequence
}
