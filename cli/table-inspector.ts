// A table file opened for inspection (dump, verify): each structure is read on its own with checksums
// on, so damage costs only what it touches. The footer and the index must be readable (without them no
// data block can be found); the metaindex, the filter and each data block are read separately, and a
// damaged one is reported while the rest is still read. Built only on the engine's readers
// (engine/table/format.ts, block.ts, filter-block.ts).
import { fromFsError } from '../engine/errors'
import type { RandomAccessFile } from '../engine/fs/file-system'
import { PosixFileSystem } from '../engine/fs/posix-file-system'
import { compareBytes, compareInternalKeys, TAG_BYTES } from '../engine/internal-key'
import { Block, BlockIterator } from '../engine/table/block'
import { BloomFilterPolicy } from '../engine/table/bloom'
import { FILTER_META_KEY } from '../engine/table/bloom'
import { FilterBlockReader } from '../engine/table/filter-block'
import { BlockHandle, FOOTER_SIZE, type Footer, readBlock, readFooter } from '../engine/table/format'

export const COMPRESSION_NAMES = ['none', 'snappy', 'zstd']

export interface IndexEntry {
  /** The index key: an internal key >= every key of the block and < every key of the next. */
  key: Uint8Array
  offset: number
  size: number
}

export interface MetaEntry {
  name: string
  offset: number
  size: number
}

export interface FilterInfo {
  name: string
  offset: number
  size: number
  filters: number
  baseLg: number
}

export class TableInspector {
  readonly path: string
  readonly fileSize: number
  readonly footer: Footer
  /** The index entries read, in order; indexError says why reading stopped early. */
  readonly index: IndexEntry[]
  readonly indexError: string | undefined
  readonly meta: MetaEntry[]
  readonly metaError: string | undefined
  readonly filter: FilterInfo | undefined
  readonly filterError: string | undefined
  readonly #file: RandomAccessFile

  private constructor (file: RandomAccessFile, path: string, fileSize: number, footer: Footer) {
    this.#file = file
    this.path = path
    this.fileSize = fileSize
    this.footer = footer
    const limit = fileSize - FOOTER_SIZE
    const indexBlock = new Block(readBlock(file, footer.indexHandle, path, limit, true), path, footer.indexHandle.offset)
    ;[this.index, this.indexError] = readEntries(new BlockIterator(compareInternalKeys, indexBlock, TAG_BYTES), (it) => {
      const handle = new BlockHandle()
      handle.decodeFrom(it.valueBuf, it.valueOff, it.valueOff + it.valueLen, path, footer.indexHandle.offset)
      return { key: it.keyBuf.slice(0, it.keyLen), offset: handle.offset, size: handle.size }
    })
    let meta: MetaEntry[] = []
    let metaError: string | undefined
    try {
      const block = new Block(readBlock(file, footer.metaindexHandle, path, limit, true), path, footer.metaindexHandle.offset)
      ;[meta, metaError] = readEntries(new BlockIterator(compareBytes, block), (it) => {
        const handle = new BlockHandle()
        handle.decodeFrom(it.valueBuf, it.valueOff, it.valueOff + it.valueLen, path, footer.metaindexHandle.offset)
        return { name: Buffer.from(it.keyBuf.subarray(0, it.keyLen)).toString('latin1'), offset: handle.offset, size: handle.size }
      })
    } catch (err) {
      metaError = errorMessage(err)
    }
    this.meta = meta
    this.metaError = metaError
    const filterMeta = meta.find((m) => m.name === FILTER_META_KEY)
    if (filterMeta !== undefined) {
      try {
        const contents = readBlock(file, new BlockHandle(filterMeta.offset, filterMeta.size), path, limit, true)
        const reader = new FilterBlockReader(new BloomFilterPolicy(10), contents)
        this.filter = {
          name: filterMeta.name.slice('filter.'.length),
          offset: filterMeta.offset,
          size: filterMeta.size,
          filters: reader.count,
          baseLg: contents.length > 0 ? contents[contents.length - 1] : 0
        }
      } catch (err) {
        this.filterError = errorMessage(err)
      }
    }
  }

  /**
   * Opens the table at path. Throws LEVEL_CORRUPTION when the footer or index block cannot be read
   * (nothing in the table can be found then), LEVEL_IO_ERROR when the file cannot be read.
   */
  static open (path: string): TableInspector {
    let file: RandomAccessFile
    try {
      file = new PosixFileSystem().openRandomAccess(path)
    } catch (err) {
      throw fromFsError(`opening ${path}`, err)
    }
    try {
      const fileSize = file.size()
      return new TableInspector(file, path, fileSize, readFooter(file, fileSize, path))
    } catch (err) {
      file.close()
      throw err
    }
  }

  /** The compression type byte stored after the block at `entry` (read as is: the block may be damaged). */
  compressionType (entry: IndexEntry): number {
    const b = new Uint8Array(1)
    return this.#file.read(b, 0, 1, entry.offset + entry.size) === 1 ? b[0] : -1
  }

  /** The data block at `entry`, checksum verified and decompressed; LEVEL_CORRUPTION if it is damaged. */
  dataBlock (entry: IndexEntry): Block {
    const contents = readBlock(this.#file, new BlockHandle(entry.offset, entry.size), this.path, this.fileSize - FOOTER_SIZE, true)
    return new Block(contents, this.path, entry.offset)
  }

  close (): void {
    this.#file.close()
  }
}

/** Every entry of a block, mapped; stops at the first damaged entry and says why. */
function readEntries<T> (it: BlockIterator, map: (it: BlockIterator) => T): [T[], string | undefined] {
  const out: T[] = []
  try {
    for (it.seekToFirst(); it.valid(); it.next()) out.push(map(it))
  } catch (err) {
    return [out, errorMessage(err)]
  }
  return [out, undefined]
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
