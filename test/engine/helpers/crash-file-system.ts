// A FileSystem for fault-injection and crash tests of the engine: the real POSIX file system underneath (so the
// engine reads back exactly what it wrote), a log of every call, faults that fail the Nth call of a chosen kind
// with EIO, ENOSPC or EMFILE, and a crash model.
//
// Faults. fail({ op, kind, nth, code }) fails the nth call of `op` on a file of `kind` counted from when the rule
// is armed (an append can first write half of its bytes, as a full disk may). The returned rule counts how often
// it fired, so a test can check that it tested something.
//
// Crash model. Beside the real files, every file written through this object is shadowed in memory as an inode:
// the bytes appended to it and how many of them a sync (fdatasync/fsync) made durable. Names are kept twice:
// `current` (what readdir shows now) and `durable` (what the directory held at its last syncDir). crash(), or
// crashAt = N (the Nth mutating call), stops all further I/O: that call and every later one throws EIO, an
// fdatasync in flight never completes, and the shadow freezes. materialise() then writes one possible state of
// the disk after that crash into another directory:
//   data   'written'  every appended byte (a process kill: the page cache survives)
//          'synced'   only the synced prefix of each file (power loss, nothing unsynced reached the disk)
//          'torn'     the synced prefix plus the first half of the unsynced bytes (a write cut short)
//          'zeroed'   the synced prefix, then zeros up to the written length (the size reached the disk, the
//                     data did not: ext4 data=writeback, XFS)
//   names  'current'  every create, rename and unlink done so far (file systems that journal metadata in order)
//          'durable'  only what a directory fsync made durable: a create, rename or unlink not followed by
//                     syncDir of its directory is rolled back (strict POSIX; a renamed file is back under its
//                     old name, an unlinked one reappears, a created one is gone with its data)
// Simplifications: directories themselves (mkdir) are taken as durable; opening an existing file for writing
// truncates its inode at once and durably; a sync makes everything written before it durable, nothing partial;
// a failed fdatasync loses nothing already synced (no "fsyncgate" page dropping); close never fails, even after
// a crash (it changes nothing on disk, and tests must not leak descriptors). Syncs are not passed to the real file
// system at all: durability is what the shadow says, and skipping fdatasync keeps crash loops fast.
//
// describe() returns undefined, so the engine runs every flush inline, through this object.
import fs = require('node:fs')
import path = require('node:path')
import type { FileSystem, RandomAccessFile, WritableFile } from '../../../engine/fs/file-system'
import { PosixFileSystem } from '../../../engine/fs/posix-file-system'

export type FileKind = 'table' | 'log' | 'manifest' | 'temp' | 'current' | 'lock' | 'other'

export type Op =
  | 'openWritable' | 'append' | 'sync' | 'rename' | 'unlink' | 'syncDir' | 'mkdir' | 'rmdir'
  | 'readFile' | 'openRandomAccess' | 'exists' | 'readdir' | 'realpath'

/** Calls that can change what is on disk: the points where crashAt counts. */
export const MUTATING_OPS: ReadonlySet<Op> = new Set<Op>(['openWritable', 'append', 'sync', 'rename', 'unlink', 'syncDir', 'mkdir', 'rmdir'])

export type FaultCode = 'EIO' | 'ENOSPC' | 'EMFILE'

export interface FsCall {
  op: Op
  /** The file (or directory) the call is about; for a rename, its source. */
  path: string
  kind: FileKind
  /** A rename's destination. */
  to?: string
  /** Bytes an append was asked to write. */
  length?: number
  /** 1-based count of mutating calls up to this one (the crashAt it would take to crash here); 0 for reads. */
  mutation: number
}

export interface FaultSpec {
  op: Op
  /** Kind of the call's file; for a rename, the source's or the destination's. Any kind when absent. */
  kind?: FileKind
  /** Which matching call fails, counted from 1 when the rule is armed. Default 1. */
  nth?: number
  /** Default EIO. */
  code?: FaultCode
  /** An append writes the first half of its bytes before it fails. */
  partial?: boolean
  /** Every matching call from the nth on fails, not just the nth. */
  sticky?: boolean
  /** A further condition on the call; `calls` is every call so far, this one last. */
  when?: (call: FsCall, calls: readonly FsCall[]) => boolean
}

export interface Fault extends Readonly<Required<Omit<FaultSpec, 'kind' | 'when'>>> {
  readonly kind: FileKind | undefined
  /** Matching calls seen so far. */
  readonly seen: number
  /** Times this rule failed a call. */
  readonly fired: number
}

export type DataMode = 'written' | 'synced' | 'torn' | 'zeroed'
export type NameMode = 'current' | 'durable'

export interface CrashState {
  data: DataMode
  names: NameMode
}

/** What one file holds in the shadow: its appended bytes and how many of them are durable. */
export class Inode {
  #chunks: Buffer[] = []
  #joined: Buffer | undefined
  length = 0
  synced = 0

  append (bytes: Uint8Array): void {
    this.#chunks.push(Buffer.from(bytes))
    this.#joined = undefined
    this.length += bytes.length
  }

  truncate (): void {
    this.#chunks = []
    this.#joined = undefined
    this.length = 0
    this.synced = 0
  }

  /** Every appended byte. */
  bytes (): Buffer {
    if (this.#joined === undefined) {
      this.#joined = Buffer.concat(this.#chunks)
      this.#chunks = [this.#joined]
    }
    return this.#joined
  }

  /** The bytes a crash leaves under `mode`. */
  after (mode: DataMode): Buffer {
    const all = this.bytes()
    switch (mode) {
      case 'written': return all
      case 'synced': return all.subarray(0, this.synced)
      case 'torn': return all.subarray(0, this.synced + Math.floor((this.length - this.synced) / 2))
      case 'zeroed': return Buffer.concat([all.subarray(0, this.synced), Buffer.alloc(this.length - this.synced)])
    }
  }
}

/** The mutating call before the last one in `calls` (the one being made), if any. */
export function previousMutation (calls: readonly FsCall[]): FsCall | undefined {
  for (let i = calls.length - 2; i >= 0; i--) if (calls[i].mutation > 0) return calls[i]
  return undefined
}

export function fileKind (file: string): FileKind {
  const name = path.basename(file)
  if (/^\d+\.(ldb|sst)$/.test(name)) return 'table'
  if (/^\d+\.log$/.test(name)) return 'log'
  if (name.startsWith('MANIFEST-')) return 'manifest'
  if (/^\d+\.dbtmp$/.test(name)) return 'temp'
  if (name === 'CURRENT') return 'current'
  if (name === 'LOCK') return 'lock'
  return 'other'
}

function fsError (code: FaultCode, op: Op, file: string, note = ''): Error {
  const text = code === 'ENOSPC' ? 'no space left on device' : code === 'EMFILE' ? 'too many open files' : 'i/o error'
  return Object.assign(new Error(`${code}: ${text}${note}, ${op} '${file}'`), { code, syscall: op, path: file })
}

class FaultRule implements Fault {
  readonly op: Op
  readonly kind: FileKind | undefined
  readonly nth: number
  readonly code: FaultCode
  readonly partial: boolean
  readonly sticky: boolean
  readonly #when: FaultSpec['when']
  seen = 0
  fired = 0

  constructor (spec: FaultSpec) {
    this.op = spec.op
    this.kind = spec.kind
    this.nth = spec.nth ?? 1
    this.code = spec.code ?? 'EIO'
    this.partial = spec.partial ?? false
    this.sticky = spec.sticky ?? false
    this.#when = spec.when
  }

  /** Whether this call fails. */
  check (call: FsCall, calls: readonly FsCall[]): boolean {
    if (call.op !== this.op) return false
    if (this.kind !== undefined && call.kind !== this.kind && (call.to === undefined || fileKind(call.to) !== this.kind)) return false
    if (this.#when !== undefined && !this.#when(call, calls)) return false
    this.seen++
    if (this.seen === this.nth || (this.sticky && this.seen > this.nth)) {
      this.fired++
      return true
    }
    return false
  }
}

export class CrashFileSystem extends PosixFileSystem implements FileSystem {
  /** Every call, in order (reads included). */
  readonly calls: FsCall[] = []
  /** Mutating calls so far. */
  mutations = 0
  /** Crash when the mutating-call count reaches this (that call does not happen). */
  crashAt: number | undefined
  /** Called before each call is checked and carried out (it sees the state just before the call). */
  onCall: ((call: FsCall) => void) | undefined
  #crashed = false
  #rules: FaultRule[] = []
  /** Shadow namespaces: absolute path -> inode. */
  readonly #current = new Map<string, Inode>()
  readonly #durable = new Map<string, Inode>()
  readonly #held = new Map<FileKind | string, Promise<void>>()

  get crashed (): boolean {
    return this.#crashed
  }

  /** Fails calls as `spec` says, from now on. */
  fail (spec: FaultSpec): Fault {
    const rule = new FaultRule(spec)
    this.#rules.push(rule)
    return rule
  }

  /** Disarms every fault rule. */
  heal (): void {
    this.#rules = []
  }

  /** Crashes now: every later call throws, and the shadow keeps what it holds at this instant. */
  crash (): void {
    this.#crashed = true
  }

  /**
   * Holds every async fdatasync of files of `kind` (or of the one file at path `what`) that starts from now
   * on, until the returned release() is called: a slow disk, or a worker's flush still running, widened into
   * a window a test can crash in.
   */
  holdSyncs (what: FileKind | string): () => void {
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    this.#held.set(what, held)
    return () => {
      if (this.#held.get(what) === held) this.#held.delete(what)
      release()
    }
  }

  /** @internal What an async fdatasync of the file at `file` (of `kind`) waits for first. */
  heldSyncs (kind: FileKind, file: string): Promise<void> | undefined {
    return this.#held.get(file) ?? this.#held.get(kind)
  }

  /**
   * Takes the files already in dir into the shadow as durable (names and every byte), so that a test can start
   * the crash model from an existing database.
   */
  adopt (dir: string): void {
    const abs = path.resolve(dir)
    for (const name of fs.readdirSync(abs)) {
      const file = path.join(abs, name)
      if (!fs.statSync(file).isFile()) continue
      const inode = new Inode()
      inode.append(fs.readFileSync(file))
      inode.synced = inode.length
      this.#current.set(file, inode)
      this.#durable.set(file, inode)
    }
  }

  /** The inode a name has in the shadow (current or durable names). */
  inode (file: string, names: NameMode = 'current'): Inode | undefined {
    return (names === 'current' ? this.#current : this.#durable).get(path.resolve(file))
  }

  /** Names of the shadowed files of dir under `names`, sorted. */
  list (dir: string, names: NameMode = 'current'): string[] {
    const abs = path.resolve(dir)
    const out: string[] = []
    for (const file of (names === 'current' ? this.#current : this.#durable).keys()) {
      if (path.dirname(file) === abs) out.push(path.basename(file))
    }
    return out.sort()
  }

  /** What a file would hold after a crash now, or undefined if its name would not be there. */
  contentAfterCrash (file: string, state: CrashState): Buffer | undefined {
    return this.inode(file, state.names)?.after(state.data)
  }

  /**
   * Writes the state the shadowed files of srcDir would be in after a crash (see the module comment) into
   * destDir, which is created and must not hold files of the same names.
   */
  materialise (srcDir: string, destDir: string, state: CrashState): void {
    fs.mkdirSync(destDir, { recursive: true })
    for (const name of this.list(srcDir, state.names)) {
      fs.writeFileSync(path.join(destDir, name), this.contentAfterCrash(path.join(srcDir, name), state)!)
    }
  }

  // --- the FileSystem -----------------------------------------------------------------------------------

  override openWritable (file: string): WritableFile {
    const abs = path.resolve(file)
    this.#enter({ op: 'openWritable', path: file, kind: fileKind(file), mutation: 0 })
    const inner = super.openWritable(file)
    let inode = this.#current.get(abs)
    if (inode === undefined) {
      inode = new Inode()
      this.#current.set(abs, inode)
    } else {
      inode.truncate()
    }
    return new CrashWritableFile(this, file, inner, inode)
  }

  override openRandomAccess (file: string): RandomAccessFile {
    this.#enter({ op: 'openRandomAccess', path: file, kind: fileKind(file), mutation: 0 })
    return super.openRandomAccess(file)
  }

  override readFile (file: string): Uint8Array {
    this.#enter({ op: 'readFile', path: file, kind: fileKind(file), mutation: 0 })
    return super.readFile(file)
  }

  /** readFile, so that the read is recorded in order with the other calls. */
  override readFileAsync (file: string): Promise<Uint8Array> {
    return Promise.resolve(this.readFile(file))
  }

  override exists (file: string): boolean {
    this.#enter({ op: 'exists', path: file, kind: fileKind(file), mutation: 0 })
    return super.exists(file)
  }

  override readdir (dir: string): string[] {
    this.#enter({ op: 'readdir', path: dir, kind: 'other', mutation: 0 })
    return super.readdir(dir)
  }

  override mkdir (dir: string): void {
    this.#enter({ op: 'mkdir', path: dir, kind: 'other', mutation: 0 })
    super.mkdir(dir)
  }

  override rmdir (dir: string): void {
    this.#enter({ op: 'rmdir', path: dir, kind: 'other', mutation: 0 })
    super.rmdir(dir)
  }

  override rename (from: string, to: string): void {
    this.#enter({ op: 'rename', path: from, to, kind: fileKind(from), mutation: 0 })
    super.rename(from, to)
    const a = path.resolve(from)
    const inode = this.#current.get(a)
    this.#current.delete(a)
    if (inode !== undefined) this.#current.set(path.resolve(to), inode)
    else this.#current.delete(path.resolve(to))
  }

  /** Synchronous, recorded as unlink: the model's operations happen in call order. */
  override unlinkAsync (file: string): Promise<void> {
    this.unlink(file)
    return Promise.resolve()
  }

  override unlink (file: string): void {
    this.#enter({ op: 'unlink', path: file, kind: fileKind(file), mutation: 0 })
    super.unlink(file)
    this.#current.delete(path.resolve(file))
  }

  override syncDir (dir: string): void {
    this.#enter({ op: 'syncDir', path: dir, kind: 'other', mutation: 0 })
    this.#makeNamesDurable(dir, new Map(this.#current))
  }

  /** What syncDir makes durable is fixed when it starts; it takes effect one macrotask later, if no crash came first. */
  override async syncDirAsync (dir: string): Promise<void> {
    const call: FsCall = { op: 'syncDir', path: dir, kind: 'other', mutation: 0 }
    this.#enter(call)
    const names = new Map(this.#current)
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.checkAlive(call)
    this.#makeNamesDurable(dir, names)
  }

  /**
   * An fdatasync of a file by name: what it covers (the shadow inode's bytes) is fixed when it starts and
   * becomes durable one macrotask later, if no crash came first (as CrashWritableFile.syncAsync).
   */
  override async syncFileAsync (file: string): Promise<void> {
    const call: FsCall = { op: 'sync', path: file, kind: fileKind(file), mutation: 0 }
    this.#enter(call)
    const inode = this.#current.get(path.resolve(file))
    const length = inode?.length ?? 0
    await this.heldSyncs(call.kind, call.path)
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.checkAlive(call)
    if (inode !== undefined && inode.synced < length) inode.synced = length
  }

  /** Every name in dir becomes durable as `names` has it; nothing is passed to the real file system. */
  #makeNamesDurable (dir: string, names: ReadonlyMap<string, Inode>): void {
    const abs = path.resolve(dir)
    for (const file of [...this.#durable.keys()]) {
      if (path.dirname(file) === abs && !names.has(file)) this.#durable.delete(file)
    }
    for (const [file, inode] of names) {
      if (path.dirname(file) === abs) this.#durable.set(file, inode)
    }
  }

  /** What freeBytes reports when set (a disk with that little room left); else the real file system's figure. */
  room: number | undefined

  override freeBytes (dir: string): number | undefined {
    return this.room ?? super.freeBytes(dir)
  }

  override realpath (file: string): string {
    this.#enter({ op: 'realpath', path: file, kind: 'other', mutation: 0 })
    return super.realpath(file)
  }

  override describe (): undefined {
    return undefined
  }

  // --- shared with CrashWritableFile ------------------------------------------------------------------

  /** Logs a call and throws if the file system has crashed, this call is the crash point, or a fault fails it. */
  #enter (call: FsCall): void {
    const partial = this.enter(call)
    if (partial !== undefined) throw fsError(partial.code, call.op, call.path)
  }

  /**
   * @internal #enter, for the writable files: a fault rule that fails an append after half its bytes is returned
   * instead of thrown (the file writes that half first).
   */
  enter (call: FsCall): FaultRule | undefined {
    if (MUTATING_OPS.has(call.op)) call.mutation = ++this.mutations
    this.calls.push(call)
    this.onCall?.(call)
    if (this.#crashed) throw fsError('EIO', call.op, call.path, ' (after a simulated crash)')
    if (call.mutation > 0 && call.mutation === this.crashAt) {
      this.#crashed = true
      throw fsError('EIO', call.op, call.path, ' (simulated crash)')
    }
    for (const rule of this.#rules) {
      if (!rule.check(call, this.calls)) continue
      if (rule.partial && call.op === 'append') return rule
      throw fsError(rule.code, call.op, call.path)
    }
    return undefined
  }

  /** @internal Throws the error a crash leaves behind, if the file system has crashed. */
  checkAlive (call: FsCall): void {
    if (this.#crashed) throw fsError('EIO', call.op, call.path, ' (simulated crash before the fdatasync completed)')
  }
}

class CrashWritableFile implements WritableFile {
  readonly path: string
  readonly #fs: CrashFileSystem
  readonly #inner: WritableFile
  readonly #inode: Inode

  constructor (fsys: CrashFileSystem, file: string, inner: WritableFile, inode: Inode) {
    this.path = file
    this.#fs = fsys
    this.#inner = inner
    this.#inode = inode
  }

  append (buf: Uint8Array, offset: number, length: number): void {
    const call: FsCall = { op: 'append', path: this.path, kind: fileKind(this.path), length, mutation: 0 }
    const partial = this.#fs.enter(call)
    if (partial !== undefined) {
      const half = length >>> 1
      this.#inner.append(buf, offset, half)
      this.#inode.append(buf.subarray(offset, offset + half))
      throw fsError(partial.code, 'append', this.path, ` (after ${half} of ${length} bytes)`)
    }
    this.#inner.append(buf, offset, length)
    this.#inode.append(buf.subarray(offset, offset + length))
  }

  sync (): void {
    this.#fs.enter(this.#syncCall())
    this.#inode.synced = this.#inode.length
  }

  async syncAsync (): Promise<void> {
    const call = this.#syncCall()
    this.#fs.enter(call)
    // What the fdatasync covers is fixed when it starts; it becomes durable only if it completes, one
    // macrotask later (as a thread-pool fdatasync would), before any crash.
    const length = this.#inode.length
    await this.#fs.heldSyncs(call.kind, call.path)
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.#fs.checkAlive(call)
    if (this.#inode.synced < length) this.#inode.synced = length
  }

  close (): void {
    this.#inner.close()
  }

  #syncCall (): FsCall {
    return { op: 'sync', path: this.path, kind: fileKind(this.path), mutation: 0 }
  }
}
