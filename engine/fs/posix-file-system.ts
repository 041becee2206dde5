// The default FileSystem: Node's synchronous fs calls on POSIX file descriptors.
import fs = require('node:fs')
import { BudgetedFileSystem } from './budgeted-file-system'
import { DescriptorBudget } from './descriptor-budget'
import type { FileSystem, FileSystemDescription, RandomAccessFile, WritableFile } from './file-system'

class PosixRandomAccessFile implements RandomAccessFile {
  readonly path: string
  #fd: number

  constructor (path: string) {
    this.path = path
    this.#fd = fs.openSync(path, 'r')
  }

  read (buf: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0
    while (done < length) {
      const n = fs.readSync(this.#fd, buf, offset + done, length - done, position + done)
      if (n === 0) break
      done += n
    }
    return done
  }

  size (): number {
    return fs.fstatSync(this.#fd).size
  }

  close (): void {
    if (this.#fd >= 0) {
      fs.closeSync(this.#fd)
      this.#fd = -1
    }
  }
}

class PosixWritableFile implements WritableFile {
  readonly path: string
  #fd: number

  constructor (path: string) {
    this.path = path
    this.#fd = fs.openSync(path, 'w')
  }

  append (buf: Uint8Array, offset: number, length: number): void {
    // writeSync may write less than asked (signals, full pipes); loop until all bytes are out.
    while (length > 0) {
      const n = fs.writeSync(this.#fd, buf, offset, length)
      offset += n
      length -= n
    }
  }

  sync (): void {
    fs.fdatasyncSync(this.#fd)
  }

  syncAsync (): Promise<void> {
    const fd = this.#fd
    return new Promise((resolve, reject) => {
      fs.fdatasync(fd, (err) => { err ? reject(err) : resolve() })
    })
  }

  close (): void {
    if (this.#fd >= 0) {
      fs.closeSync(this.#fd)
      this.#fd = -1
    }
  }
}

export class PosixFileSystem implements FileSystem {
  openRandomAccess (path: string): RandomAccessFile {
    return new PosixRandomAccessFile(path)
  }

  openWritable (path: string): WritableFile {
    return new PosixWritableFile(path)
  }

  readFile (path: string): Uint8Array {
    return fs.readFileSync(path)
  }

  readFileAsync (path: string): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      fs.readFile(path, (err, data) => { err !== null ? reject(err) : resolve(data) })
    })
  }

  exists (path: string): boolean {
    return fs.existsSync(path)
  }

  readdir (dir: string): string[] {
    return fs.readdirSync(dir)
  }

  mkdir (dir: string): void {
    fs.mkdirSync(dir, { recursive: true })
  }

  rename (from: string, to: string): void {
    fs.renameSync(from, to)
  }

  link (existing: string, newPath: string): void {
    fs.linkSync(existing, newPath)
  }

  unlink (path: string): void {
    fs.unlinkSync(path)
  }

  unlinkAsync (path: string): Promise<void> {
    return new Promise((resolve, reject) => fs.unlink(path, (err) => { err !== null ? reject(err) : resolve() }))
  }

  rmdir (dir: string): void {
    fs.rmdirSync(dir)
  }

  syncDir (dir: string): void {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  }

  syncDirAsync (dir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(dir, 'r', (err, fd) => {
        if (err !== null) return reject(err)
        fs.fsync(fd, (syncErr) => {
          fs.close(fd, () => { syncErr !== null ? reject(syncErr) : resolve() })
        })
      })
    })
  }

  syncFileAsync (path: string): Promise<void> {
    let fd: number
    try {
      fd = fs.openSync(path, 'r')
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      fs.fdatasync(fd, (err) => {
        fs.close(fd, () => { err !== null ? reject(err) : resolve() })
      })
    })
  }

  freeBytes (dir: string): number | undefined {
    try {
      const s = fs.statfsSync(dir)
      return s.bavail * s.bsize
    } catch {
      return undefined
    }
  }

  realpath (path: string): string {
    return fs.realpathSync(path)
  }

  describe (): FileSystemDescription | undefined {
    return { kind: 'posix' }
  }
}

/** The file system a description names (the worker's side of describe()), within its budget if it has one. */
export function fileSystemFrom (description: FileSystemDescription): FileSystem {
  if (description.kind !== 'posix') throw new Error(`unknown file system ${JSON.stringify(description)}`)
  const fs = new PosixFileSystem()
  const shared = description.descriptors
  return shared === undefined ? fs : new BudgetedFileSystem(fs, new DescriptorBudget(shared))
}
