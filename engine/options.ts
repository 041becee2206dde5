// Engine options, with LevelDB's defaults (include/leveldb/options.h) and the clamping of its
// SanitizeOptions (db/db_impl.cc), except that maxOpenFiles may go below LevelDB's 74: it bounds
// descriptors, which LevelDB mostly does not use for tables (it maps them into memory).
// index.ts maps classic-level's option names onto these.
import { invalidArgument, notSupported } from './errors'
import { MIN_OPEN_FILES } from './fs/descriptor-budget'
import type { FileSystem } from './fs/file-system'
import { defaultFileSystem } from './fs/default-file-system'

export type Compression = 'none' | 'snappy' | 'zstd'

export interface DbOptions {
  createIfMissing: boolean
  errorIfExists: boolean
  /** Memtable size that triggers a flush to a table. */
  writeBufferSize: number
  /** Uncompressed size of a table data block. */
  blockSize: number
  /** Keys between restart points in data blocks. */
  blockRestartInterval: number
  /** Size at which compaction starts a new output table. */
  maxFileSize: number
  /**
   * File descriptors the database may hold, all threads together (lowered to what the process can spare:
   * engine/fs/descriptor-budget.ts); the table cache keeps maxOpenFiles - 10 tables parsed (at least 64).
   */
  maxOpenFiles: number
  /** Bytes of uncompressed blocks kept in the block cache. */
  cacheSize: number
  compression: Compression
  /** Bloom filter bits per key; 0 writes no filter. */
  bloomBitsPerKey: number
  /**
   * Build flushed tables on the calling thread instead of the worker (for tests that inject faults
   * through `fs`; also chosen automatically when `fs` cannot be described to a worker).
   */
  flushInline: boolean
  /**
   * Open without creating, changing or deleting any file and without the lock, beside a writer
   * (engine/db/read-only.ts); every write fails with LEVEL_READONLY. createIfMissing is ignored.
   */
  readOnly: boolean
  /**
   * With readOnly: catch up with the writer every this many milliseconds (Db.refresh, on an unref'd timer
   * cleared at close). 0 (the default): only when refresh() is called.
   */
  refreshInterval: number
  /**
   * Write LevelDB's info log, LOG (engine/info-log.ts), renaming the previous one to LOG.old. Default true,
   * as LevelDB. A read-only open never writes one.
   */
  infoLog: boolean
  /**
   * LevelDB's paranoid_checks. True (the default, unlike LevelDB): damage in the middle of a log fails the
   * open with LEVEL_CORRUPTION naming the file and offset, so that nothing is lost silently. False gives
   * LevelDB's default leniency: the damaged records are skipped, the open succeeds, and what was dropped is
   * written to LOG and kept in the property rough-level.recovery-skipped. Either way, as LevelDB 1.23, a
   * damaged MANIFEST or a table the MANIFEST names that is missing fails the open (repair is the remedy).
   */
  paranoidChecks: boolean
  fs: FileSystem
}

export interface DbOptionsInput extends Partial<Omit<DbOptions, 'compression'>> {
  compression?: Compression | boolean
}

export const DEFAULTS = Object.freeze({
  createIfMissing: true,
  errorIfExists: false,
  writeBufferSize: 4 * 1024 * 1024,
  blockSize: 4 * 1024,
  blockRestartInterval: 16,
  maxFileSize: 2 * 1024 * 1024,
  maxOpenFiles: 1000,
  cacheSize: 8 * 1024 * 1024,
  compression: 'snappy' as Compression,
  bloomBitsPerKey: 10
})

function clip (value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback
  return Math.min(max, Math.max(min, Math.floor(value)))
}

/** Fills defaults and clamps sizes as LevelDB's SanitizeOptions does. */
export function sanitizeOptions (input: DbOptionsInput = {}): DbOptions {
  let compression: Compression
  if (input.compression === undefined || input.compression === true) compression = 'snappy'
  else if (input.compression === false) compression = 'none'
  else if (input.compression === 'none' || input.compression === 'snappy' || input.compression === 'zstd') compression = input.compression
  else throw notSupported(`compression ${JSON.stringify(input.compression)}: use true, false, 'snappy', 'none' or 'zstd'`)

  return {
    createIfMissing: input.createIfMissing ?? DEFAULTS.createIfMissing,
    errorIfExists: input.errorIfExists ?? DEFAULTS.errorIfExists,
    writeBufferSize: clip(input.writeBufferSize, DEFAULTS.writeBufferSize, 64 * 1024, 2 ** 30),
    blockSize: clip(input.blockSize, DEFAULTS.blockSize, 1024, 4 * 1024 * 1024),
    blockRestartInterval: clip(input.blockRestartInterval, DEFAULTS.blockRestartInterval, 1, 2 ** 31 - 1),
    maxFileSize: clip(input.maxFileSize, DEFAULTS.maxFileSize, 1024 * 1024, 2 ** 30),
    maxOpenFiles: clip(input.maxOpenFiles, DEFAULTS.maxOpenFiles, MIN_OPEN_FILES, 50000),
    cacheSize: clip(input.cacheSize, DEFAULTS.cacheSize, 0, Number.MAX_SAFE_INTEGER),
    compression,
    bloomBitsPerKey: clip(input.bloomBitsPerKey, DEFAULTS.bloomBitsPerKey, 0, 64),
    flushInline: input.flushInline ?? false,
    readOnly: input.readOnly ?? false,
    refreshInterval: refreshInterval(input),
    infoLog: input.infoLog ?? true,
    paranoidChecks: input.paranoidChecks ?? true,
    fs: input.fs ?? defaultFileSystem()
  }
}

function refreshInterval (input: DbOptionsInput): number {
  const ms = input.refreshInterval ?? 0
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw invalidArgument(`refreshInterval ${String(ms)}: use a number of milliseconds >= 0`)
  if (ms > 0 && input.readOnly !== true) throw invalidArgument('refreshInterval is for a database opened with readOnly: true')
  return ms
}
