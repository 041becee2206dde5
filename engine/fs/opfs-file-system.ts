// A FileSystem on the browser's Origin Private File System, for the engine inside a dedicated worker.
//
// Why a pool. OPFS reads and writes synchronously only through a FileSystemSyncAccessHandle, and creating
// one, like every directory operation (create, move, remove, list), is asynchronous; the engine's calls are
// synchronous (file-system.ts). So, as SQLite's opfs-sahpool VFS does, the file system opens a pool of slot
// files once, asynchronously (OpfsFileSystem.open), keeps a sync access handle on each for its life, and
// gives each slot the logical path of the file it holds in a header at its start:
//
//   slot file 'slot-<n>':  [ header: HEADER_BYTES ][ the file's bytes ... ]
//   header (little-endian): magic u32 | sequence f64 | path length u32 | crc32c u32 | path (UTF-8)
//
// Creating, renaming and deleting a file are then one header write plus a flush of that slot: synchronous,
// and durable when the call returns. The sync access handles are also OPFS's exclusion: no other worker can
// open a slot this one holds, so a second worker cannot open the pool (engine/fs/web-lock.ts excludes a
// second database handle in this worker and any other).
//
// Invariants and durability:
// - A slot whose header has no valid magic and checksum, or a path length of 0, is free.
// - A rename writes the new name into the source's header with a sequence higher than any in the pool,
//   flushes, then frees the destination's slot. A crash between the two leaves two slots naming the
//   destination: open keeps the one with the higher sequence, so the rename happened or it did not.
// - OPFS never makes its own metadata durable (Chromium keeps OPFS names in a per-origin store, written
//   without an fsync: strace of Chromium 156 showed none over ~600 creates and moves), so a slot file
//   created moments before an OS crash may be gone afterwards. Slots are created ahead of need (MIN_FREE
//   at least), and a file's name lives in its slot's data, which flush() makes durable; a terminated
//   worker or a crashed browser loses nothing that was flushed.
// - Directories are implied by the files in them, plus those made in this session: an empty directory does
//   not outlive the pool's close (the engine never relies on one).
//
// Limits: the pool grows asynchronously between the engine's calls (a slot costs ~2 ms to create), and a
// file created when no slot is free fails with ENOSPC; so do more than MIN_FREE files created in one
// synchronous stretch (a compaction writing many tables at once), and the files of more than about a dozen
// databases opened at the same moment (ready() promises at most MAX_PROMISED slots beyond MIN_FREE). freeBytes is unknown (the quota's
// estimate is asynchronous). describe() is undefined: handles cannot move to another worker, so the
// engine flushes and compacts inline.
import { allocUnsafe, decodeUtf8, encodeUtf8 } from '../util/bytes'
import { crc32c } from '../util/crc32c'
import { browserNavigator, type FileSystemDirectoryHandle, type FileSystemFileHandle, type FileSystemSyncAccessHandle } from '../browser/web-apis'
import { locked, notSupported } from '../errors'
import type { FileSystem, FileSystemDescription, RandomAccessFile, WritableFile } from './file-system'

/** Bytes before a file's data in its slot (one page: the data stays page-aligned). */
const HEADER_BYTES = 4096
const MAGIC = 0x31534c52 // 'RLS1'
const SEQUENCE_AT = 4
const LENGTH_AT = 12
const CRC_AT = 16
const PATH_AT = 20
const MAX_PATH_BYTES = HEADER_BYTES - PATH_AT
/** Free slots kept ready: the files the engine can create before the pool's next asynchronous refill. */
const MIN_FREE = 32
/** Slots promised to each caller of ready() (a database's open creates about six files), on top of MIN_FREE. */
const PER_READY = 8
/**
 * At most this many promised at once. A promise is only settled by slots taken, and an open that creates
 * fewer files than PER_READY leaves the rest promised: without a bound, the pool would grow with every open.
 */
const MAX_PROMISED = 64
/** Slots created at once while refilling (each is a few async OPFS calls). */
const REFILL_BATCH = 8
const SLOT_PREFIX = 'slot-'

export interface OpfsOptions {
  /** The OPFS directory holding the pool's slot files (default 'rough-level'). */
  pool?: string
  /** Free slots to keep ready (default 32). */
  minFree?: number
}

class Slot {
  /** The logical path, or undefined when free. */
  path: string | undefined
  sequence = 0
  /** Open RandomAccessFiles and WritableFiles: a deleted file's slot is reused only once they are closed. */
  opens = 0
  /** Deleted while open: freed by the last close. */
  orphaned = false

  constructor (readonly name: string, readonly handle: FileSystemSyncAccessHandle) {}
}

function fsError (code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code })
}

/** An absolute path with no empty, '.' or '..' parts: the key of every file and directory. */
function normalize (path: string): string {
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') out.pop()
    else out.push(part)
  }
  return '/' + out.join('/')
}

function parentOf (key: string): string {
  const at = key.lastIndexOf('/')
  return at <= 0 ? '/' : key.slice(0, at)
}

/** A view the sync access handle accepts: it refuses views of shared memory (a memtable's arena). */
function unshared (bytes: Uint8Array): Uint8Array {
  return bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice()
}

export class OpfsFileSystem implements FileSystem {
  readonly pool: string
  readonly #dir: FileSystemDirectoryHandle
  readonly #minFree: number
  readonly #files = new Map<string, Slot>()
  readonly #free: Slot[] = []
  readonly #all: Slot[] = []
  /** Directories made in this session (others are implied by their files). */
  readonly #dirs = new Set<string>(['/'])
  #sequence = 0
  #nextSlot = 0
  /** Slots promised by ready() and not yet taken: databases opening at once each get their own. */
  #promised = 0
  #refilling: Promise<void> | undefined
  #refillError: Error | undefined
  #closed = false

  private constructor (pool: string, dir: FileSystemDirectoryHandle, minFree: number) {
    this.pool = pool
    this.#dir = dir
    this.#minFree = minFree
  }

  /**
   * Opens (creating if needed) the pool in OPFS; only in a dedicated worker. Rejects with LEVEL_LOCKED when
   * another worker holds it, LEVEL_NOT_SUPPORTED where there is no OPFS.
   */
  static async open (options: OpfsOptions = {}): Promise<OpfsFileSystem> {
    const storage = browserNavigator()?.storage
    if (storage === undefined) throw notSupported('OPFS (navigator.storage.getDirectory) is not available here')
    const pool = options.pool ?? 'rough-level'
    const dir = await (await storage.getDirectory()).getDirectoryHandle(pool, { create: true })
    const fs = new OpfsFileSystem(pool, dir, options.minFree ?? MIN_FREE)
    try {
      for await (const entry of dir.values()) {
        if (entry.kind !== 'file' || !entry.name.startsWith(SLOT_PREFIX)) continue
        const n = Number(entry.name.slice(SLOT_PREFIX.length))
        if (Number.isInteger(n)) fs.#nextSlot = Math.max(fs.#nextSlot, n + 1)
        fs.#adopt(new Slot(entry.name, await openHandle(entry, pool)))
      }
      await fs.#refill()
    } catch (err) {
      fs.close()
      throw err
    }
    return fs
  }

  /** Reads a slot's header at open: a named slot joins the files (the highest sequence wins a name). */
  #adopt (slot: Slot): void {
    this.#all.push(slot)
    const header = new Uint8Array(PATH_AT + MAX_PATH_BYTES)
    const n = slot.handle.read(header, { at: 0 })
    const view = new DataView(header.buffer)
    const length = n >= PATH_AT ? view.getUint32(LENGTH_AT, true) : 0
    if (n < PATH_AT || view.getUint32(0, true) !== MAGIC || length === 0 || length > MAX_PATH_BYTES || n < PATH_AT + length ||
        view.getUint32(CRC_AT, true) !== headerCrc(header, length)) {
      this.#free.push(slot)
      return
    }
    slot.path = decodeUtf8(header, PATH_AT, PATH_AT + length)
    slot.sequence = view.getFloat64(SEQUENCE_AT, true)
    this.#sequence = Math.max(this.#sequence, slot.sequence)
    const other = this.#files.get(slot.path)
    if (other === undefined) {
      this.#files.set(slot.path, slot)
    } else {
      // A rename cut short between its two header writes (see the invariants above).
      const [keep, drop] = other.sequence > slot.sequence ? [other, slot] : [slot, other]
      this.#files.set(slot.path, keep)
      this.#release(drop)
    }
  }

  /** Free slots wanted now. */
  get #target (): number {
    return this.#minFree + this.#promised
  }

  /** Creates slot files until the target is free. */
  async #refill (): Promise<void> {
    while (this.#free.length < this.#target && !this.#closed) {
      const batch = Math.min(REFILL_BATCH, this.#target - this.#free.length)
      await Promise.all(Array.from({ length: batch }, async () => {
        const name = `${SLOT_PREFIX}${this.#nextSlot++}`
        const handle = await openHandle(await this.#dir.getFileHandle(name, { create: true }), this.pool)
        if (this.#closed) {
          handle.close()
          return
        }
        handle.truncate(HEADER_BYTES)
        const slot = new Slot(name, handle)
        this.#all.push(slot)
        this.#free.push(slot)
      }))
    }
  }

  #scheduleRefill (): void {
    if (this.#refilling !== undefined || this.#free.length >= this.#target) return
    this.#refilling = this.#refill().then(() => { this.#refillError = undefined }, (err: unknown) => {
      this.#refillError = err instanceof Error ? err : new Error(String(err))
    }).finally(() => { this.#refilling = undefined })
  }

  /**
   * Resolves once the pool holds free slots for the caller (PER_READY of them, beyond MIN_FREE and what
   * earlier callers were promised): web-lock.ts awaits it before a database's open creates its files.
   */
  async ready (): Promise<void> {
    this.#promised = Math.min(this.#promised + PER_READY, MAX_PROMISED)
    while (this.#free.length < this.#target) {
      this.#scheduleRefill()
      await this.#refilling
      if (this.#refillError !== undefined) throw this.#refillError
    }
  }

  #check (): void {
    if (this.#closed) throw fsError('EBADF', `OPFS pool ${this.pool} is closed`)
  }

  /** Writes slot's header naming path (undefined: free) with a new sequence, and flushes it. */
  #writeHeader (slot: Slot, path: string | undefined): void {
    const name = path === undefined ? new Uint8Array(0) : encodeUtf8(path)
    if (name.length > MAX_PATH_BYTES) throw fsError('ENAMETOOLONG', path ?? '')
    const header = new Uint8Array(PATH_AT + name.length)
    const view = new DataView(header.buffer)
    view.setUint32(0, MAGIC, true)
    view.setFloat64(SEQUENCE_AT, ++this.#sequence, true)
    view.setUint32(LENGTH_AT, name.length, true)
    header.set(name, PATH_AT)
    view.setUint32(CRC_AT, headerCrc(header, name.length), true)
    if (slot.handle.write(header, { at: 0 }) !== header.length) throw fsError('EIO', `short write of slot ${slot.name}'s header`)
    slot.handle.flush()
    slot.path = path
    slot.sequence = this.#sequence
  }

  /** Returns a slot no name points to any more to the free list, once nothing has it open. */
  #release (slot: Slot): void {
    slot.path = undefined
    if (slot.opens > 0) {
      slot.orphaned = true
      return
    }
    slot.orphaned = false
    slot.handle.truncate(HEADER_BYTES)
    this.#free.push(slot)
  }

  #closeOne (slot: Slot): void {
    slot.opens--
    if (slot.opens === 0 && slot.orphaned) this.#release(slot)
  }

  #slot (path: string): Slot {
    this.#check()
    const slot = this.#files.get(normalize(path))
    if (slot === undefined) throw fsError('ENOENT', `no such file: ${path}`)
    return slot
  }

  #isDir (key: string): boolean {
    if (this.#dirs.has(key)) return true
    const prefix = key === '/' ? '/' : key + '/'
    for (const file of this.#files.keys()) if (file.startsWith(prefix)) return true
    return false
  }

  openRandomAccess (path: string): RandomAccessFile {
    const slot = this.#slot(path)
    slot.opens++
    let closed = false
    return {
      path,
      read: (buf, offset, length, position) => {
        const target = buf.subarray(offset, offset + length)
        if (target.buffer instanceof ArrayBuffer) return slot.handle.read(target, { at: HEADER_BYTES + position })
        const copy = new Uint8Array(length)
        const n = slot.handle.read(copy, { at: HEADER_BYTES + position })
        target.set(copy.subarray(0, n))
        return n
      },
      size: () => slot.handle.getSize() - HEADER_BYTES,
      close: () => {
        if (closed) return
        closed = true
        this.#closeOne(slot)
      }
    }
  }

  openWritable (path: string): WritableFile {
    this.#check()
    const key = normalize(path)
    if (!this.#isDir(parentOf(key))) throw fsError('ENOENT', `no such directory: ${parentOf(key)}`)
    if (this.#isDir(key) && !this.#files.has(key)) throw fsError('EISDIR', path)
    let slot = this.#files.get(key)
    if (slot !== undefined) {
      slot.handle.truncate(HEADER_BYTES)
    } else {
      slot = this.#take()
      this.#writeHeader(slot, key)
      this.#files.set(key, slot)
    }
    const owned = slot
    owned.opens++
    let position = HEADER_BYTES
    let closed = false
    return {
      path,
      append: (buf, offset, length) => {
        const n = owned.handle.write(unshared(buf.subarray(offset, offset + length)), { at: position })
        if (n !== length) throw fsError('EIO', `short write to ${path}: ${n} of ${length} bytes`)
        position += n
      },
      sync: () => { owned.handle.flush() },
      syncAsync: async () => { owned.handle.flush() },
      close: () => {
        if (closed) return
        closed = true
        this.#closeOne(owned)
      }
    }
  }

  #take (): Slot {
    const slot = this.#free.pop()
    if (this.#promised > 0) this.#promised--
    this.#scheduleRefill()
    if (slot === undefined) {
      const why = this.#refillError === undefined ? 'the pool is growing: retry shortly' : this.#refillError.message
      throw fsError('ENOSPC', `no free slot in OPFS pool ${this.pool} (${why})`)
    }
    return slot
  }

  readFile (path: string): Uint8Array {
    const slot = this.#slot(path)
    const size = slot.handle.getSize() - HEADER_BYTES
    const out = allocUnsafe(size)
    const n = slot.handle.read(out, { at: HEADER_BYTES })
    return n === size ? out : out.subarray(0, n)
  }

  exists (path: string): boolean {
    this.#check()
    const key = normalize(path)
    return this.#files.has(key) || this.#isDir(key)
  }

  readdir (dir: string): string[] {
    this.#check()
    const key = normalize(dir)
    if (!this.#isDir(key)) throw fsError(this.#files.has(key) ? 'ENOTDIR' : 'ENOENT', `no such directory: ${dir}`)
    const prefix = key === '/' ? '/' : key + '/'
    const names = new Set<string>()
    for (const path of [...this.#files.keys(), ...this.#dirs]) {
      if (path.length > prefix.length && path.startsWith(prefix)) names.add(path.slice(prefix.length).split('/')[0])
    }
    return [...names].sort()
  }

  mkdir (dir: string): void {
    this.#check()
    const key = normalize(dir)
    if (this.#files.has(key)) throw fsError('EEXIST', `a file: ${dir}`)
    for (let d = key; d !== '/'; d = parentOf(d)) this.#dirs.add(d)
  }

  rename (from: string, to: string): void {
    const slot = this.#slot(from)
    const key = normalize(to)
    const replaced = this.#files.get(key)
    if (replaced === slot) return
    if (!this.#isDir(parentOf(key))) throw fsError('ENOENT', `no such directory: ${parentOf(key)}`)
    this.#writeHeader(slot, key)
    this.#files.delete(normalize(from))
    this.#files.set(key, slot)
    // After the rename's own header: a crash before this leaves the replaced slot the older of two names.
    if (replaced !== undefined) this.#clearName(replaced)
  }

  /** Frees a slot whose name has moved on: its header is cleared, so that a later open need not decide. */
  #clearName (slot: Slot): void {
    this.#writeHeader(slot, undefined)
    this.#release(slot)
  }

  unlink (path: string): void {
    const slot = this.#slot(path)
    this.#files.delete(normalize(path))
    this.#clearName(slot)
  }

  rmdir (dir: string): void {
    const key = normalize(dir)
    if (this.readdir(dir).length > 0) throw fsError('ENOTEMPTY', dir)
    this.#dirs.delete(key)
  }

  // Every name change is flushed as it is made: a directory has nothing left to sync.
  syncDir (_dir: string): void {}

  async syncDirAsync (_dir: string): Promise<void> {}

  async syncFileAsync (path: string): Promise<void> {
    this.#slot(path).handle.flush()
  }

  realpath (path: string): string {
    this.#check()
    const key = normalize(path)
    if (!this.exists(key)) throw fsError('ENOENT', `no such file or directory: ${path}`)
    return key
  }

  freeBytes (_dir: string): number | undefined {
    return undefined
  }

  describe (): FileSystemDescription | undefined {
    return undefined
  }

  /** Closes every slot's handle: another worker can open the pool then. Files still open fail afterwards. */
  close (): void {
    this.#closed = true
    for (const slot of this.#all) slot.handle.close()
    this.#all.length = 0
    this.#free.length = 0
    this.#files.clear()
  }
}

/** The crc32c of a header's fixed fields (before the checksum) and its path. */
function headerCrc (header: Uint8Array, length: number): number {
  const fixed = crc32c(header.subarray(0, CRC_AT), 0)
  return crc32c(header.subarray(PATH_AT, PATH_AT + length), fixed)
}

async function openHandle (file: FileSystemFileHandle, pool: string): Promise<FileSystemSyncAccessHandle> {
  try {
    return await file.createSyncAccessHandle()
  } catch (err) {
    if (err instanceof Error && err.name === 'NoModificationAllowedError') {
      throw locked(`OPFS pool ${pool}: held by another worker (${err.message})`, err)
    }
    throw err
  }
}
