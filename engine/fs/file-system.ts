// The FileSystem seam (LevelDB's Env): every byte the engine reads or writes goes through it, so tests
// substitute a fault-injecting implementation (EIO, ENOSPC, torn writes, crashes) and the worker thread
// builds its own from a serialisable description.
//
// Calls are synchronous because getSync and recovery read synchronously; fdatasync and a directory's fsync
// also have async forms, run on libuv's thread pool, so that sync writers can join the next group while
// one runs and the event loop never waits for a disk to flush.
// Errors are thrown as they come from the platform (Node's fs errors); callers wrap them as
// LEVEL_IO_ERROR naming the file.

/** A file read by position (tables, and logs during recovery). */
export interface RandomAccessFile {
  readonly path: string
  /** Reads up to `length` bytes at `position` into buf[offset..]; returns the bytes read (short at EOF). */
  read (buf: Uint8Array, offset: number, length: number, position: number): number
  size (): number
  close (): void
}

/** A file written sequentially (logs, the MANIFEST, tables being built). */
export interface WritableFile {
  readonly path: string
  /** Appends all of buf[offset, offset + length) or throws. */
  append (buf: Uint8Array, offset: number, length: number): void
  /** fdatasync now, on this thread. */
  sync (): void
  /** fdatasync on the thread pool; resolves when the data is durable. */
  syncAsync (): Promise<void>
  close (): void
}

export interface FileSystem {
  openRandomAccess (path: string): RandomAccessFile
  /** Creates or truncates path. */
  openWritable (path: string): WritableFile
  readFile (path: string): Uint8Array
  /**
   * readFile on the thread pool: a log replayed at open, as large as writeBufferSize (2 ms of the main
   * thread for a 4 MiB log here, tens for a 64 MiB one). Optional: without it the open reads synchronously.
   */
  readFileAsync? (path: string): Promise<Uint8Array>
  exists (path: string): boolean
  readdir (dir: string): string[]
  /** Creates dir and its parents; no error if it exists. */
  mkdir (dir: string): void
  rename (from: string, to: string): void
  /**
   * Makes newPath a hard link to existing (a checkpoint's tables: engine/db/checkpoint.ts). Optional: without
   * it, or when it fails as links across file systems do (EXDEV, EPERM...), the file is copied instead.
   */
  link? (existing: string, newPath: string): void
  unlink (path: string): void
  /**
   * unlink on the thread pool: the Db's deletion of obsolete files, which may free tens of MiB of extents
   * (milliseconds of kernel time) after a compaction. Optional: without it the Db unlinks synchronously.
   */
  unlinkAsync? (path: string): Promise<void>
  /** Removes an empty directory. */
  rmdir (dir: string): void
  /** fsyncs a directory so that renames and creations in it are durable. */
  syncDir (dir: string): void
  /** syncDir on the thread pool (the main thread's steady-state path: a MANIFEST edit, a new log's name). */
  syncDirAsync (dir: string): Promise<void>
  /**
   * fdatasyncs the existing file at path on the thread pool (a log recovered at open, written by an earlier
   * session, that must be durable before the next log takes writes). Its descriptor is open when this returns.
   */
  syncFileAsync (path: string): Promise<void>
  realpath (path: string): string
  /** Bytes this process may still write on the file system holding dir, or undefined where that is unknown. */
  freeBytes (dir: string): number | undefined
  /**
   * How a worker thread rebuilds this file system, or undefined when it cannot (a test's in-memory or
   * fault-injecting file system): then flushes run on the calling thread instead.
   */
  describe (): FileSystemDescription | undefined
  /**
   * Closes descriptors held only to make later reads cheaper (a BudgetedFileSystem's idle table files),
   * so that another thread can have them. Optional: most file systems hold none.
   */
  closeIdle? (): void
  /**
   * Resolves when the file system can create files again without waiting (an OPFS pool's free slots:
   * engine/fs/opfs-file-system.ts). Optional: most file systems create files whenever asked.
   */
  ready? (): Promise<void>
}

/** What a worker thread needs to rebuild the same FileSystem on its side (postMessage cannot carry objects). */
export interface FileSystemDescription {
  kind: 'posix'
  /** The database's DescriptorBudget (its `shared` buffer), which the worker's file system counts in too. */
  descriptors?: SharedArrayBuffer
}
