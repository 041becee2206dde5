// A FileSystem that keeps one database's descriptors within its DescriptorBudget, wrapped around the
// FileSystem that does the I/O. Every descriptor opened through it is counted in the budget:
// - A file read by position (a table) holds a descriptor only while the budget allows. When an open
//   would pass the limit, this thread's least recently read files close theirs first, and a file
//   without a descriptor reopens its path at its next read. Tables stay parsed (index, filter) in the
//   table cache either way: only the descriptor comes and goes.
// - Files being written (logs, the MANIFEST, new tables) and brief ones (readFile, readdir, a
//   directory fsync) are never refused: they are counted, and idle readers close to make room.
// - EMFILE or ENFILE (the process or the system is out of descriptors, whoever holds them) closes half
//   of this thread's idle readers and retries the open, a bounded number of times; only when none are
//   left to close does the error reach the caller.
//
// Threads: one instance per thread (the Db's on the main thread, one per worker job), sharing the count
// through the budget's SharedArrayBuffer; each closes only its own files. Reads are synchronous, so
// between two calls every descriptor of this thread is idle and may be closed.
import { DescriptorBudget, isDescriptorShortage, retryWhileShort } from './descriptor-budget'
import type { FileSystem, FileSystemDescription, RandomAccessFile, WritableFile } from './file-system'
import { RecencyList, type RecencyLinks } from '../util/recency-list'

/** Retries of one open after EMFILE / ENFILE, each after closing half of the idle readers. */
const SHORTAGE_RETRIES = 8

export class BudgetedFileSystem implements FileSystem {
  readonly #inner: FileSystem
  readonly #budget: DescriptorBudget
  /** Readers holding a descriptor, least recently read first. */
  readonly #holders = new RecencyList<BudgetedFile>()
  #holding = 0

  constructor (inner: FileSystem, budget: DescriptorBudget) {
    this.#inner = inner
    this.#budget = budget
  }

  get budget (): DescriptorBudget {
    return this.#budget
  }

  /** Readers of this thread holding a descriptor now. */
  get holding (): number {
    return this.#holding
  }

  openRandomAccess (path: string): RandomAccessFile {
    const file = new BudgetedFile(this, path)
    // Opened now, so that a missing file fails here as it would without a budget.
    this.reopen(file)
    return file
  }

  openWritable (path: string): WritableFile {
    return new CountedWritableFile(this.#acquire(() => this.#inner.openWritable(path)), this.#budget)
  }

  readFile (path: string): Uint8Array {
    return this.#brief(() => this.#inner.readFile(path))
  }

  /** readFileAsync, counted and waiting out a shortage as syncDirAsync does; the inner readFile where it has none. */
  readFileAsync (path: string): Promise<Uint8Array> {
    const inner = this.#inner
    if (inner.readFileAsync === undefined) return Promise.resolve(this.readFile(path))
    return this.#briefAsync(() => inner.readFileAsync!(path))
  }

  readdir (dir: string): string[] {
    return this.#brief(() => this.#inner.readdir(dir))
  }

  syncDir (dir: string): void {
    this.#brief(() => this.#inner.syncDir(dir))
  }

  /**
   * syncDir on the thread pool: its descriptor is counted while the fsync runs. Being async, it can wait out
   * a shortage the rest of the process causes (retryWhileShort): this thread's idle tables are closed first,
   * then it pauses and retries, before the error is the caller's.
   */
  syncDirAsync (dir: string): Promise<void> {
    return this.#briefAsync(() => this.#inner.syncDirAsync(dir))
  }

  /** syncFileAsync, counted and waiting out a shortage as syncDirAsync does. */
  syncFileAsync (path: string): Promise<void> {
    return this.#briefAsync(() => this.#inner.syncFileAsync(path))
  }

  /** An async call holding one descriptor while it runs (its first attempt starts before this returns). */
  async #briefAsync<T> (call: () => Promise<T>): Promise<T> {
    this.#acquire(() => undefined)
    try {
      const outcome = await retryWhileShort(
        () => call().then((value): { value: T } | { err: unknown } => ({ value }), (err: unknown) => ({ err })),
        (outcome) => 'err' in outcome && isDescriptorShortage(outcome.err),
        { relieve: () => this.#relieve() })
      if ('err' in outcome) throw outcome.err
      return outcome.value
    } finally {
      this.#budget.give()
    }
  }

  exists (path: string): boolean {
    return this.#inner.exists(path)
  }

  mkdir (dir: string): void {
    this.#inner.mkdir(dir)
  }

  rename (from: string, to: string): void {
    this.#inner.rename(from, to)
  }

  link (existing: string, newPath: string): void {
    if (this.#inner.link === undefined) throw Object.assign(new Error(`link ${existing}: not supported by the file system`), { code: 'ENOTSUP' })
    this.#inner.link(existing, newPath)
  }

  unlink (path: string): void {
    this.#inner.unlink(path)
  }

  /** Holds no descriptor. The inner file system's unlinkAsync where it has one, else its synchronous unlink. */
  unlinkAsync (path: string): Promise<void> {
    if (this.#inner.unlinkAsync !== undefined) return this.#inner.unlinkAsync(path)
    this.#inner.unlink(path)
    return Promise.resolve()
  }

  rmdir (dir: string): void {
    this.#inner.rmdir(dir)
  }

  freeBytes (dir: string): number | undefined {
    return this.#inner.freeBytes(dir)
  }

  realpath (path: string): string {
    return this.#inner.realpath(path)
  }

  describe (): FileSystemDescription | undefined {
    const inner = this.#inner.describe()
    return inner === undefined ? undefined : { ...inner, descriptors: this.#budget.shared }
  }

  /** Closes the descriptors of every reader of this thread (they reopen on their next read). */
  closeIdle (): void {
    this.#closeOldest(this.#holding)
  }

  /**
   * Keeps `file` (a reader opened here) holding a descriptor until release(file) or its close: opened now if
   * it has none (throwing as an open does: ENOENT when the file is gone), then never closed to make room,
   * though still counted. For a file another process may delete while it is still to be read: a read-only
   * database's older views (engine/db/read-only.ts). A file of another file system is left as it is.
   */
  hold (file: RandomAccessFile): void {
    if (!(file instanceof BudgetedFile) || file.held) return
    if (file.inner === undefined) this.reopen(file)
    this.#holders.remove(file)
    this.#holding--
    file.held = true
  }

  /** Undoes hold(file): its descriptor may be closed to make room again. */
  release (file: RandomAccessFile): void {
    if (!(file instanceof BudgetedFile) || !file.held) return
    file.held = false
    if (file.inner === undefined) return
    this.#holders.push(file)
    this.#holding++
  }

  // --- for BudgetedFile ---------------------------------------------------------------------------

  /** Gives `file` a descriptor (it has none). */
  reopen (file: BudgetedFile): RandomAccessFile {
    const inner = this.#acquire(() => this.#inner.openRandomAccess(file.path))
    file.inner = inner
    this.#holders.push(file)
    this.#holding++
    return inner
  }

  /** `file` was just read: it becomes the last to lose its descriptor. */
  touch (file: BudgetedFile): void {
    if (!file.held) this.#holders.touch(file)
  }

  /** Closes file's descriptor, if it holds one, and uncounts it. */
  drop (file: BudgetedFile): void {
    const inner = file.inner
    if (inner === undefined) return
    file.inner = undefined
    if (file.held) {
      file.held = false
    } else {
      this.#holders.remove(file)
      this.#holding--
    }
    try {
      inner.close()
    } catch {
      // A failed close of a file opened for reading loses nothing; the descriptor is gone either way.
    } finally {
      this.#budget.give()
    }
  }

  // --- counting -----------------------------------------------------------------------------------

  /**
   * Counts a descriptor and runs `open`, which opens it: idle readers close first while the count is
   * over the limit, and again (half of them each time) when the open fails for want of descriptors.
   * On failure nothing stays counted.
   */
  #acquire<T> (open: () => T): T {
    if (!this.#budget.take()) {
      for (let file = this.#holders.oldest; file !== undefined && this.#budget.over; file = this.#holders.oldest) this.drop(file)
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return open()
      } catch (err) {
        if (attempt < SHORTAGE_RETRIES && isDescriptorShortage(err) && this.#relieve()) continue
        this.#budget.give()
        throw err
      }
    }
  }

  /** Runs `use`, which opens a descriptor and closes it before returning, counted while it runs. */
  #brief<T> (use: () => T): T {
    const result = this.#acquire(use)
    this.#budget.give()
    return result
  }

  /** Closes half of this thread's idle readers; false when there are none. */
  #relieve (): boolean {
    if (this.#holding === 0) return false
    this.#closeOldest(Math.ceil(this.#holding / 2))
    return true
  }

  #closeOldest (count: number): void {
    for (let i = 0, file = this.#holders.oldest; i < count && file !== undefined; i++, file = this.#holders.oldest) this.drop(file)
  }
}

/** A file read by position whose descriptor may be closed between reads and reopened by the next. */
class BudgetedFile implements RandomAccessFile, RecencyLinks<BudgetedFile> {
  readonly path: string
  readonly #owner: BudgetedFileSystem
  /** The open file, while this holds a descriptor. */
  inner: RandomAccessFile | undefined
  /** Kept open by BudgetedFileSystem.hold: out of the list of readers that close to make room. */
  held = false
  // The owner's list of readers holding a descriptor.
  older: BudgetedFile | undefined
  newer: BudgetedFile | undefined
  #closed = false

  constructor (owner: BudgetedFileSystem, path: string) {
    this.#owner = owner
    this.path = path
  }

  read (buf: Uint8Array, offset: number, length: number, position: number): number {
    return this.#open().read(buf, offset, length, position)
  }

  size (): number {
    return this.#open().size()
  }

  close (): void {
    this.#closed = true
    this.#owner.drop(this)
  }

  #open (): RandomAccessFile {
    if (this.#closed) throw new Error(`${this.path}: read after close`)
    const inner = this.inner
    if (inner === undefined) return this.#owner.reopen(this)
    this.#owner.touch(this)
    return inner
  }
}

/** A file being written, counted in the budget until closed. */
class CountedWritableFile implements WritableFile {
  readonly #inner: WritableFile
  readonly #budget: DescriptorBudget
  #counted = true

  constructor (inner: WritableFile, budget: DescriptorBudget) {
    this.#inner = inner
    this.#budget = budget
  }

  get path (): string {
    return this.#inner.path
  }

  append (buf: Uint8Array, offset: number, length: number): void {
    this.#inner.append(buf, offset, length)
  }

  sync (): void {
    this.#inner.sync()
  }

  syncAsync (): Promise<void> {
    return this.#inner.syncAsync()
  }

  close (): void {
    try {
      this.#inner.close()
    } finally {
      if (this.#counted) {
        this.#counted = false
        this.#budget.give()
      }
    }
  }
}
