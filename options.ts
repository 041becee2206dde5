// RoughLevel's public option types: abstract-level's, plus what classic-level adds under the same
// names (open options, fillCache on reads, sync on writes, highWaterMarkBytes on iterators), so that
// code typed against classic-level compiles against rough-level unchanged.
import type {
  AbstractBatchOptions, AbstractChainedBatchWriteOptions, AbstractDatabaseOptions, AbstractDelOptions,
  AbstractGetManyOptions, AbstractGetOptions, AbstractHasManyOptions, AbstractHasOptions,
  AbstractIteratorOptions, AbstractKeyIteratorOptions, AbstractOpenOptions, AbstractPutOptions,
  AbstractValueIteratorOptions, Transcoder
} from 'abstract-level'

/** Options of the constructor and open(), under classic-level's names. */
export interface OpenOptions extends AbstractOpenOptions {
  /** Memtable size before it is written to a table (default 4 MiB, at least 64 KiB). */
  writeBufferSize?: number
  /** Bytes of uncompressed blocks cached (default 8 MiB). */
  cacheSize?: number
  /** Uncompressed size of a table block (default 4 KiB; 1 KiB to 4 MiB). */
  blockSize?: number
  /** Table files kept open (default 1000; 74 to 50000). */
  maxOpenFiles?: number
  /** Keys between restart points in a block (default 16). */
  blockRestartInterval?: number
  /** Size of a table file written by compaction (default 2 MiB, at least 1 MiB). */
  maxFileSize?: number
  /** Snappy compression of table blocks (default true); 'zstd' where the runtime can compress it. */
  compression?: boolean | 'snappy' | 'zstd'
  /** Write LevelDB's info log, LOG, in the directory (the previous one becomes LOG.old). Default true. */
  infoLog?: boolean
  /**
   * LevelDB's paranoid_checks. Default true (LevelDB's default is false): a damaged record in the middle of a
   * log fails the open with LEVEL_CORRUPTION. False opens anyway, skipping the damaged records; what was
   * skipped is in LOG and in getProperty('rough-level.recovery-skipped').
   */
  paranoidChecks?: boolean
  /** classic-level shares one database between worker threads with this; rough-level refuses it (LEVEL_NOT_SUPPORTED). */
  multithreading?: boolean
}

export interface DatabaseOptions<K, V> extends AbstractDatabaseOptions<K, V>, Omit<OpenOptions, 'passive'> {
  /**
   * Open without creating, changing or deleting any file and without the lock, so that it works beside a
   * writer in another process (rough-level or classic-level) and on a directory it cannot write. It
   * reads the state as of the open (tables, plus the live logs replayed into memory), and catches up with
   * the writer at each `db.refresh()`. Every write, clear and compactRange fails with LEVEL_READONLY;
   * createIfMissing and errorIfExists are ignored. A constructor option only: it decides `db.supports`.
   */
  readOnly?: boolean
  /**
   * With readOnly: refresh every this many milliseconds (an unref'd timer, stopped at close; a failed
   * refresh keeps the view it had and is tried again at the next tick). Default 0: only on `db.refresh()`.
   */
  refreshInterval?: number
}

export interface ReadOptions {
  /** Keep blocks read in the block cache (default true for gets, false for iterators). */
  fillCache?: boolean
}

export interface WriteOptions {
  /** Acknowledge only once the write is durable (an fdatasync of the WAL). Default false. */
  sync?: boolean
}

export interface GetOptions<K, V> extends AbstractGetOptions<K, V>, ReadOptions {}
export interface GetManyOptions<K, V> extends AbstractGetManyOptions<K, V>, ReadOptions {}
export interface HasOptions<K> extends AbstractHasOptions<K>, ReadOptions {}
export interface HasManyOptions<K> extends AbstractHasManyOptions<K>, ReadOptions {}
export interface PutOptions<K, V> extends AbstractPutOptions<K, V>, WriteOptions {}
export interface DelOptions<K> extends AbstractDelOptions<K>, WriteOptions {}
export interface BatchOptions<K, V> extends AbstractBatchOptions<K, V>, WriteOptions {}
export interface ChainedBatchWriteOptions extends AbstractChainedBatchWriteOptions, WriteOptions {}

export interface AdditionalIteratorOptions extends ReadOptions {
  /** nextv() returns early once the entries it gathered exceed this many bytes (default: no limit). */
  highWaterMarkBytes?: number
}

export interface IteratorOptions<K, V> extends AbstractIteratorOptions<K, V>, AdditionalIteratorOptions {}
export interface KeyIteratorOptions<K> extends AbstractKeyIteratorOptions<K>, AdditionalIteratorOptions {}
export interface ValueIteratorOptions<K, V> extends AbstractValueIteratorOptions<K, V>, AdditionalIteratorOptions {}

/** Options of approximateSize() and compactRange(). */
export interface StartEndOptions<K> {
  keyEncoding?: string | Transcoder.PartialEncoder<K>
}
