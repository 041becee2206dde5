// A FileSystem for tests: the real one underneath, with every WAL append and sync counted, and faults
// that a test switches on (an append or an fdatasync that fails with EIO, an fdatasync held until the
// test releases it).
import type { FileSystem, RandomAccessFile, WritableFile } from '../../../engine/fs/file-system'
import { PosixFileSystem } from '../../../engine/fs/posix-file-system'

function eio (what: string): Error {
  return Object.assign(new Error(`EIO: i/o error, ${what}`), { code: 'EIO' })
}

export class FaultFileSystem extends PosixFileSystem implements FileSystem {
  appends = 0
  syncs = 0
  failAppends = false
  failSyncs = false
  /** While set, syncAsync waits for release() before syncing. */
  holdSyncs = false
  #held: Array<() => void> = []

  /** Lets every held fdatasync go ahead. */
  release (): void {
    const held = this.#held
    this.#held = []
    for (const go of held) go()
  }

  get heldSyncs (): number {
    return this.#held.length
  }

  override openWritable (path: string): WritableFile {
    const inner = super.openWritable(path)
    if (!path.endsWith('.log')) return inner
    const fs = this
    return {
      path,
      append (buf: Uint8Array, offset: number, length: number): void {
        if (fs.failAppends) throw eio(`write ${path}`)
        fs.appends++
        inner.append(buf, offset, length)
      },
      sync (): void {
        fs.syncs++
        inner.sync()
      },
      async syncAsync (): Promise<void> {
        if (fs.holdSyncs) await new Promise<void>((resolve) => fs.#held.push(resolve))
        if (fs.failSyncs) throw eio(`fdatasync ${path}`)
        fs.syncs++
        await inner.syncAsync()
      },
      close (): void {
        inner.close()
      }
    }
  }

  override openRandomAccess (path: string): RandomAccessFile {
    return super.openRandomAccess(path)
  }

  /** Faults live in this object: a worker could not rebuild them, so flushes run inline. */
  override describe (): undefined {
    return undefined
  }
}
