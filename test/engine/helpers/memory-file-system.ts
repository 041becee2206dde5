// A FileSystem in memory, with no Node module and no Buffer: for running the engine where neither exists
// (test/engine/browser-bundle.test.ts runs it in a context without Buffer). Files are MemoryWritableFiles,
// read back by position; directories are a set of paths. Nothing is durable, so syncs do nothing.
import type { FileSystem, RandomAccessFile, WritableFile } from '../../../engine/fs/file-system'
import { MemoryWritableFile } from './memory-file'

function enoent (path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: 'ENOENT' })
}

export class MemoryFileSystem implements FileSystem {
  readonly #files = new Map<string, MemoryWritableFile>()
  readonly #dirs = new Set<string>(['/'])

  #file (path: string): MemoryWritableFile {
    const file = this.#files.get(path)
    if (file === undefined) throw enoent(path)
    return file
  }

  openRandomAccess (path: string): RandomAccessFile {
    const file = this.#file(path)
    return {
      path,
      read: (buf, offset, length, position) => file.read(buf, offset, length, position),
      size: () => file.length,
      close: () => {}
    }
  }

  openWritable (path: string): WritableFile {
    const file = new MemoryWritableFile(path)
    this.#files.set(path, file)
    return file
  }

  readFile (path: string): Uint8Array {
    const file = this.#file(path)
    const out = new Uint8Array(file.length)
    file.read(out, 0, out.length, 0)
    return out
  }

  exists (path: string): boolean {
    return this.#files.has(path) || this.#dirs.has(path)
  }

  readdir (dir: string): string[] {
    if (!this.#dirs.has(dir)) throw enoent(dir)
    const prefix = dir.endsWith('/') ? dir : dir + '/'
    return [...this.#files.keys(), ...this.#dirs]
      .filter((p) => p.startsWith(prefix) && p.length > prefix.length && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length))
  }

  mkdir (dir: string): void {
    for (let at = dir.indexOf('/', 1); at !== -1; at = dir.indexOf('/', at + 1)) this.#dirs.add(dir.slice(0, at))
    this.#dirs.add(dir)
  }

  rename (from: string, to: string): void {
    this.#files.set(to, this.#file(from))
    this.#files.delete(from)
  }

  unlink (path: string): void {
    if (!this.#files.delete(path)) throw enoent(path)
  }

  rmdir (dir: string): void {
    if (!this.#dirs.delete(dir)) throw enoent(dir)
  }

  syncDir (): void {}

  async syncDirAsync (): Promise<void> {}

  async syncFileAsync (path: string): Promise<void> {
    this.#file(path)
  }

  realpath (path: string): string {
    return path
  }

  freeBytes (): number | undefined {
    return undefined
  }

  describe (): undefined {
    return undefined
  }
}
