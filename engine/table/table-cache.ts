// The table cache (LevelDB db/table_cache.cc): open tables by file number, at most `capacity` of them
// kept open when idle (maxOpenFiles - 10, as LevelDB's db_impl.cc TableCacheSize), least recently used
// closed first.
//
// A table is opened as NNNNNN.ldb, or NNNNNN.sst when there is no .ldb (tables written before
// LevelDB 1.14). Stricter than LevelDB, which trusts the MANIFEST: the file's real size must be the
// size the MANIFEST records, since a shorter or longer file is not the table it names.
// Errors are not cached (LevelDB's reasoning: a transient error, or a repaired file, then recovers).
//
// Reference counting, as LevelDB's cache handles: an iterator pins its table from creation to
// close(). A pinned table is never closed; it is not even a candidate for eviction, so the cache may
// hold more than `capacity` tables while iterators pin them, and trims back when they close. evict()
// (the file was deleted) forgets the table at once and closes it when its last iterator closes.
//
// Single-threaded: everything runs on the calling thread.
import { corruption, EngineError, fromFsError } from '../errors'
import type { FileSystem, RandomAccessFile } from '../fs/file-system'
import type { InternalIterator } from '../internal-iterator'
import { eventLoopBudget } from '../util/event-loop-budget'
import type { LruCache } from '../util/lru-cache'
import { RecencyList, type RecencyLinks } from '../util/recency-list'
import { sstTableFileName, tableFileName } from '../filename'
import type { Block } from './block'
import { Table, type TableEntry, type TableStats } from './table'
import type { TableParts } from './table-parts'

export interface TableCacheOptions {
  /** Verify every block's crc32c (default true). */
  verifyChecksums?: boolean
  /** Consult bloom filters on get (default true). */
  useFilter?: boolean
}

/** Counters over every table this cache has opened, closed ones included. */
export interface TableCacheStats extends TableStats {
  /** Table files opened (each open of the same file counts: a reopen after eviction too). */
  tablesOpened: number
  /** Tables open right now (idle, in use, or evicted but still pinned by an iterator). */
  openTables: number
  /** Tables that open iterators pin right now. */
  pinnedTables: number
}

/** One open table. `pins` counts iterators; `cached` is false once evicted or dropped by the LRU. */
interface Entry extends RecencyLinks<Entry> {
  readonly number: number
  readonly table: Table
  readonly cacheId: number
  pins: number
  cached: boolean
  /** In the idle list (pins === 0 and cached). */
  inIdleList: boolean
}

export class TableCache {
  readonly dir: string
  readonly fs: FileSystem
  readonly capacity: number
  readonly #blockCache: LruCache<Block> | undefined
  readonly #options: TableCacheOptions
  readonly #byNumber = new Map<number, Entry>()
  /** Every open table, cached or not, so stats and close() reach evicted tables still pinned. */
  readonly #open = new Set<Entry>()
  /** Cached tables no iterator pins, least recently used first. */
  readonly #idle = new RecencyList<Entry>()
  #nextCacheId = 1
  #tablesOpened = 0
  /** Counters of tables already closed. */
  readonly #closedStats: TableStats = { dataBlockReads: 0, blockCacheHits: 0, filterRejects: 0 }
  #closed = false

  /**
   * `capacity`: idle tables kept open (LevelDB: maxOpenFiles - 10; at least 1). `blockCache` holds data
   * blocks of every table here, each under its own cacheId; it must belong to this table cache alone,
   * since the ids are this cache's.
   */
  constructor (dir: string, fs: FileSystem, capacity: number, blockCache?: LruCache<Block>, options: TableCacheOptions = {}) {
    this.dir = dir
    this.fs = fs
    this.capacity = Math.max(1, Math.floor(capacity))
    this.#blockCache = blockCache
    this.#options = options
  }

  /**
   * Finds the first entry >= ikey in table `fileNumber` (through its bloom filter) and copies it into
   * `out`: see Table.get. Throws LEVEL_CORRUPTION or LEVEL_IO_ERROR naming the file when the table
   * cannot be opened or read.
   */
  get (
    fileNumber: number, fileSize: number, ikey: Uint8Array, off: number, len: number, fillCache: boolean, out: TableEntry
  ): boolean {
    return this.#find(fileNumber, fileSize).table.get(ikey, off, len, out, fillCache)
  }

  /**
   * An iterator over table `fileNumber` that pins the table until its close(). Opening errors are
   * thrown here, read errors from the move that meets them.
   */
  iterator (fileNumber: number, fileSize: number, fillCache: boolean): InternalIterator {
    const entry = this.#find(fileNumber, fileSize)
    this.#pin(entry)
    let released = false
    return entry.table.iterator(fillCache, () => {
      if (released) return
      released = true
      this.#unpin(entry)
    })
  }

  /**
   * Opens table `fileNumber` now if it is not open (a read-only open checks that its tables exist), from
   * `parts` when its builder's are given (table-parts.ts): then only the file itself is opened.
   */
  open (fileNumber: number, fileSize: number, parts?: TableParts): void {
    this.#find(fileNumber, fileSize, parts)
  }

  /**
   * The file table `fileNumber` reads, while the table is open here (a read-only database keeps the
   * descriptors of tables the writer may delete: engine/db/read-only.ts).
   */
  file (fileNumber: number): RandomAccessFile | undefined {
    return this.#byNumber.get(fileNumber)?.table.file
  }

  /** Where in table `fileNumber` the entries for ikey begin (Table.approximateOffsetOf). */
  approximateOffsetOf (fileNumber: number, fileSize: number, ikey: Uint8Array, off: number, len: number): number {
    return this.#find(fileNumber, fileSize).table.approximateOffsetOf(ikey, off, len)
  }

  /**
   * Forgets table `fileNumber` (its file is being deleted): closed now if idle, else when its last
   * iterator closes. Its blocks leave the block cache too, since no reader can ask for them again.
   */
  evict (fileNumber: number): void {
    const entry = this.#byNumber.get(fileNumber)
    if (entry === undefined) return
    this.#uncache(entry)
    this.#blockCache?.eraseId(entry.cacheId)
  }

  /**
   * Closes every idle table and forgets them all; tables pinned by open iterators close when those
   * iterators do. Using the cache afterwards is an error.
   */
  close (): void {
    this.#closed = true
    for (const entry of [...this.#byNumber.values()]) this.#uncache(entry)
  }

  /** Sums the counters of every table opened so far. For tests and properties; not a hot path. */
  get stats (): TableCacheStats {
    const s: TableCacheStats = { ...this.#closedStats, tablesOpened: this.#tablesOpened, openTables: this.#open.size, pinnedTables: 0 }
    for (const entry of this.#open) {
      if (entry.pins > 0) s.pinnedTables++
      const t = entry.table.stats
      s.dataBlockReads += t.dataBlockReads
      s.blockCacheHits += t.blockCacheHits
      s.filterRejects += t.filterRejects
    }
    return s
  }

  /** The cached entry for fileNumber, opening the table if needed; marks it most recently used. */
  #find (fileNumber: number, fileSize: number, parts?: TableParts): Entry {
    let entry = this.#byNumber.get(fileNumber)
    if (entry !== undefined) {
      if (entry.inIdleList) this.#idle.touch(entry)
      return entry
    }
    if (this.#closed) throw new Error('TableCache used after close()')
    // A new id per open, so that a reopened (or reused) file number never meets stale blocks.
    const cacheId = this.#nextCacheId++
    const table = this.#openTable(fileNumber, fileSize, cacheId, parts)
    // Make room first, so that the table just opened is never the one trimmed.
    this.#trim(this.capacity - 1)
    entry = { number: fileNumber, table, cacheId, pins: 0, cached: true, older: undefined, newer: undefined, inIdleList: false }
    this.#byNumber.set(fileNumber, entry)
    this.#open.add(entry)
    this.#linkIdle(entry)
    return entry
  }

  #pin (entry: Entry): void {
    if (entry.pins++ === 0 && entry.inIdleList) this.#unlinkIdle(entry)
  }

  #unpin (entry: Entry): void {
    if (--entry.pins > 0) return
    if (!entry.cached) {
      this.#closeEntry(entry)
      return
    }
    this.#linkIdle(entry)
    this.#trim(this.capacity)
  }

  /** Closes idle tables, least recently used first, until at most `limit` tables are cached. */
  #trim (limit: number): void {
    for (let e = this.#idle.oldest; e !== undefined && this.#byNumber.size > limit; e = this.#idle.oldest) this.#uncache(e)
  }

  /** Removes entry from the cache; closes it unless an iterator still pins it. */
  #uncache (entry: Entry): void {
    if (!entry.cached) return
    entry.cached = false
    this.#byNumber.delete(entry.number)
    if (entry.inIdleList) this.#unlinkIdle(entry)
    if (entry.pins === 0) this.#closeEntry(entry)
  }

  #closeEntry (entry: Entry): void {
    if (!this.#open.delete(entry)) return
    const t = entry.table.stats
    this.#closedStats.dataBlockReads += t.dataBlockReads
    this.#closedStats.blockCacheHits += t.blockCacheHits
    this.#closedStats.filterRejects += t.filterRejects
    try {
      entry.table.close()
    } catch {
      // A failed close of a read-only file loses nothing; the descriptor is gone either way.
    }
  }

  #linkIdle (entry: Entry): void {
    this.#idle.push(entry)
    entry.inIdleList = true
  }

  #unlinkIdle (entry: Entry): void {
    this.#idle.remove(entry)
    entry.inIdleList = false
  }

  /** Opens and parses table fileNumber; on any failure closes what it opened and throws. */
  #openTable (fileNumber: number, fileSize: number, cacheId: number, parts: TableParts | undefined): Table {
    const ldb = tableFileName(this.dir, fileNumber)
    let file: RandomAccessFile
    let name = ldb
    try {
      file = this.fs.openRandomAccess(ldb)
    } catch (err) {
      const sst = sstTableFileName(this.dir, fileNumber)
      try {
        file = this.fs.openRandomAccess(sst)
        name = sst
      } catch {
        // Report the .ldb error, as LevelDB does.
        if (isNotFound(err)) throw corruption(`missing file ${ldb} (table ${fileNumber} named by the MANIFEST)`)
        throw fromFsError(`opening ${ldb}`, err)
      }
    }
    try {
      let actual: number
      try {
        actual = file.size()
      } catch (err) {
        throw fromFsError(`reading the size of ${name}`, err)
      }
      if (actual !== fileSize) {
        throw corruption(`table ${name} is ${actual} bytes, the MANIFEST records ${fileSize}`)
      }
      const table = Table.open(file, fileSize, name, {
        verifyChecksums: this.#options.verifyChecksums,
        useFilter: this.#options.useFilter,
        blockCache: this.#blockCache,
        cacheId
      }, parts)
      this.#tablesOpened++
      if (parts === undefined) eventLoopBudget.longWork()
      return table
    } catch (err) {
      try { file.close() } catch {}
      if (err instanceof EngineError) throw err
      throw fromFsError(`opening table ${name}`, err)
    }
  }
}

function isNotFound (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT'
}
