// The concatenating iterator over one level's files (LevelDB's LevelFileNumIterator under a
// two-level iterator, db/version_set.cc and table/two_level_iterator.cc): the files are sorted and
// their key ranges disjoint, so walking them in order, one table iterator at a time, yields the level
// in internal-key order. Tables are opened lazily, through the table cache, only when a move reaches
// them, and released as the iterator leaves them; so a level iterator pins at most one table.
//
// It also serves as a lazily opened iterator over a single file (a list of one), which is how
// Version gives each level-0 file its iterator: opening (and its errors) waits for the first move.
import type { TableCache } from '../table/table-cache'
import { compareInternalKeys } from '../internal-key'
import type { FileMetaData } from './version-edit'
import type { InternalIterator } from '../internal-iterator'

const EMPTY = new Uint8Array(0)

/**
 * The index of the first file whose largest internal key is >= key, or files.length if none
 * (LevelDB's FindFile). Requires: files sorted by key range, ranges disjoint (a level >= 1).
 */
export function findFile (files: readonly FileMetaData[], key: Uint8Array, keyOff: number, keyLen: number): number {
  let left = 0
  let right = files.length
  while (left < right) {
    const mid = (left + right) >>> 1
    const largest = files[mid].largest
    if (compareInternalKeys(largest, 0, largest.length, key, keyOff, keyLen) < 0) left = mid + 1
    else right = mid
  }
  return right
}

/**
 * Iterates the files of one level in order. Requires: `files` sorted by smallest key with disjoint
 * ranges, and unchanged while the iterator lives (a Version's lists are immutable). Entry views are
 * the current table iterator's: valid until the next move. Errors opening or reading a table are
 * thrown from the move that reaches it; the iterator is then invalid.
 */
export class LevelIterator implements InternalIterator {
  readonly #tableCache: TableCache
  readonly #files: readonly FileMetaData[]
  readonly #fillCache: boolean
  /** The table iterator of files[#index], or undefined (then #index is -1). */
  #table: InternalIterator | undefined
  #index = -1
  #closed = false

  constructor (tableCache: TableCache, files: readonly FileMetaData[], fillCache: boolean) {
    this.#tableCache = tableCache
    this.#files = files
    this.#fillCache = fillCache
  }

  get keyBuf (): Uint8Array { const t = this.#table; return t === undefined ? EMPTY : t.keyBuf }
  get keyOff (): number { const t = this.#table; return t === undefined ? 0 : t.keyOff }
  get keyLen (): number { const t = this.#table; return t === undefined ? 0 : t.keyLen }
  get valueBuf (): Uint8Array { const t = this.#table; return t === undefined ? EMPTY : t.valueBuf }
  get valueOff (): number { const t = this.#table; return t === undefined ? 0 : t.valueOff }
  get valueLen (): number { const t = this.#table; return t === undefined ? 0 : t.valueLen }

  valid (): boolean {
    const t = this.#table
    return t !== undefined && t.valid()
  }

  seekToFirst (): void {
    this.#setFile(0)?.seekToFirst()
    this.#skipEmptyForward()
  }

  seekToLast (): void {
    this.#setFile(this.#files.length - 1)?.seekToLast()
    this.#skipEmptyBackward()
  }

  seek (target: Uint8Array, targetOff: number, targetLen: number): void {
    this.#setFile(findFile(this.#files, target, targetOff, targetLen))?.seek(target, targetOff, targetLen)
    this.#skipEmptyForward()
  }

  next (): void {
    this.#table?.next()
    this.#skipEmptyForward()
  }

  prev (): void {
    this.#table?.prev()
    this.#skipEmptyBackward()
  }

  /** Releases the table it is on; afterwards it stays invalid and opens nothing. */
  close (): void {
    this.#closed = true
    this.#setFile(-1)
  }

  /** Moves on to the following files while the current one is exhausted. */
  #skipEmptyForward (): void {
    while (this.#table !== undefined && !this.#table.valid()) this.#setFile(this.#index + 1)?.seekToFirst()
  }

  #skipEmptyBackward (): void {
    while (this.#table !== undefined && !this.#table.valid()) this.#setFile(this.#index - 1)?.seekToLast()
  }

  /**
   * Points #table at files[index] (keeping it if it is there already) and returns it; outside the
   * list, releases the current table and returns undefined.
   */
  #setFile (index: number): InternalIterator | undefined {
    if (index === this.#index && this.#table !== undefined) return this.#table
    const previous = this.#table
    this.#table = undefined
    this.#index = -1
    previous?.close()
    if (index < 0 || index >= this.#files.length || this.#closed) return undefined
    const f = this.#files[index]
    this.#table = this.#tableCache.iterator(f.number, f.fileSize, this.#fillCache)
    this.#index = index
    return this.#table
  }
}
