// A Version (LevelDB db/version_set.cc): the table files of each level at one point in the database's
// history. Immutable once built; a new one is built from the previous one and a VersionEdit
// (VersionBuilder, LevelDB's VersionSet::Builder). Old versions stay alive while something reads them
// (an iterator pins the version it was created on), which is how files stay on disk under readers:
// the VersionSet counts the files of every version with refs > 0 as live.
//
// Invariants:
//   - Level 0 is ordered newest first: by file number, descending. Its files may overlap.
//     (LevelDB keeps level 0 sorted by smallest key and sorts by number on every Get; keeping the
//     read order saves that sort.)
//   - Levels >= 1 are sorted by smallest internal key (file number breaking ties), and each file's
//     largest key is below the next file's smallest: one binary search finds the only file that can
//     hold a key.
//   - A file number appears at most once in a version.
//
// Reads follow LevelDB's Version::Get: level-0 files whose user-key range holds the key, newest first, then
// at most one file per deeper level; the first entry found for the user key decides.
import { corruption } from '../errors'
import {
  compareBytes, compareInternalKeys, putTag, TAG_BYTES, VALUE_TYPE_FOR_SEEK, ValueType
} from '../internal-key'
import type { InternalIterator } from '../internal-iterator'
import { findFile, LevelIterator } from './level-iterator'
import { LookupResult } from '../memtable/memtable'
import type { TableEntry } from '../table/table'
import type { TableCache } from '../table/table-cache'
import { tableFileName } from '../filename'
import { MAX_MEM_COMPACT_LEVEL, maxGrandParentOverlapBytes } from '../constants'
import type { PointRead } from './point-read'
import { toHex } from '../util/bytes'
import { getFixed32 } from '../util/coding'
import { NUM_LEVELS, type FileMetaData, type VersionEdit } from './version-edit'

const NO_FILES: readonly FileMetaData[] = Object.freeze([])

/** The user-key part of an internal key's length. */
const userLen = (ikey: Uint8Array): number => ikey.length - TAG_BYTES

export class Version {
  readonly tableCache: TableCache
  /** Files per level, in the order the invariants above state. Frozen. */
  readonly files: ReadonlyArray<readonly FileMetaData[]>

  /** Called when unref() drops the count to 0 (the VersionSet forgets the version then). */
  onUnreferenced: ((version: Version) => void) | undefined
  #refs = 0

  /**
   * `files[level]` must already be in the order the invariants state (use VersionBuilder to build a
   * version from edits; it checks them). Missing levels are empty.
   */
  constructor (tableCache: TableCache, files: ReadonlyArray<readonly FileMetaData[]> = []) {
    this.tableCache = tableCache
    const levels: Array<readonly FileMetaData[]> = []
    for (let level = 0; level < NUM_LEVELS; level++) {
      const list = files[level]
      levels.push(list === undefined || list.length === 0 ? NO_FILES : Object.isFrozen(list) ? list : Object.freeze([...list]))
    }
    this.files = Object.freeze(levels)
  }

  /** Builds the version that results from applying `edit` to `base` (see VersionBuilder). */
  static apply (base: Version, edit: VersionEdit, tableCache: TableCache = base.tableCache): Version {
    const builder = new VersionBuilder(base)
    builder.apply(edit)
    return builder.build(tableCache)
  }

  get refs (): number {
    return this.#refs
  }

  ref (): void {
    this.#refs++
  }

  unref (): void {
    if (this.#refs <= 0) throw new Error('Version.unref() without a matching ref()')
    if (--this.#refs === 0) this.onUnreferenced?.(this)
  }

  numFiles (level: number): number {
    return this.files[level].length
  }

  /** Files per level as LevelDB's VersionSet::LevelSummary prints them: `files[ 2 5 0 0 0 0 0 ]`. */
  levelSummary (): string {
    return `files[ ${this.files.map((level) => level.length).join(' ')} ]`
  }

  /** Total size of the level's files, in bytes. */
  numLevelBytes (level: number): number {
    return totalFileSize(this.files[level])
  }

  /** Adds the number of every file of this version to `live`. */
  addLiveFiles (live: Set<number>): void {
    for (const level of this.files) for (const f of level) live.add(f.number)
  }

  /**
   * Looks up the newest entry for user key key[keyOff, keyOff + keyLen) with a sequence <= `sequence`
   * in the tables: Found (the value in read.entry), Deleted, or NotFound. Throws
   * LEVEL_CORRUPTION or LEVEL_IO_ERROR naming the table when one that must be consulted cannot be
   * read; it never skips a table to serve an older entry. Requires: sequence < 2^53.
   */
  get (key: Uint8Array, keyOff: number, keyLen: number, sequence: number, read: PointRead, fillCache = true): LookupResult {
    const ikeyLen = keyLen + TAG_BYTES
    if (read.lookup.length < ikeyLen) read.lookup = new Uint8Array(Math.max(ikeyLen, read.lookup.length * 2))
    const ikey = read.lookup
    if (keyLen <= 32) for (let i = 0; i < keyLen; i++) ikey[i] = key[keyOff + i]
    else ikey.set(key.subarray(keyOff, keyOff + keyLen), 0)
    putTag(ikey, keyLen, sequence, VALUE_TYPE_FOR_SEEK)
    const entry = read.entry

    for (let level = 0; level < NUM_LEVELS; level++) {
      const files = this.files[level]
      const n = files.length
      if (n === 0) continue
      // Level 0: every file whose range holds the key, newest first. Deeper: the one file that can.
      let i = level === 0 ? 0 : findFile(files, ikey, 0, ikeyLen)
      const end = level === 0 ? n : Math.min(i + 1, n)
      for (; i < end; i++) {
        const f = files[i]
        if (compareBytes(key, keyOff, keyLen, f.smallest, 0, userLen(f.smallest)) < 0) continue
        if (level === 0 && compareBytes(key, keyOff, keyLen, f.largest, 0, userLen(f.largest)) > 0) continue
        const result = this.#searchFile(f, key, keyOff, keyLen, ikey, ikeyLen, fillCache, entry)
        if (result !== LookupResult.NotFound) return result
      }
    }
    return LookupResult.NotFound
  }

  /**
   * The iterators to merge for a scan of this version: one per level-0 file and one per non-empty
   * deeper level, each opening its tables only when a move reaches them. With bounds (user keys,
   * both inclusive), files wholly outside [lower, upper] get no iterator and are never opened; the
   * caller still stops at the bounds. The caller closes every iterator (closing releases the tables)
   * and keeps this version referenced while they live.
   */
  iterators (fillCache: boolean, lower?: Uint8Array, upper?: Uint8Array): InternalIterator[] {
    const out: InternalIterator[] = []
    for (const f of this.files[0]) {
      if (lower !== undefined && compareBytes(f.largest, 0, userLen(f.largest), lower, 0, lower.length) < 0) continue
      if (upper !== undefined && compareBytes(f.smallest, 0, userLen(f.smallest), upper, 0, upper.length) > 0) continue
      out.push(new LevelIterator(this.tableCache, [f], fillCache))
    }
    for (let level = 1; level < NUM_LEVELS; level++) {
      const files = this.files[level]
      const start = lower === undefined ? 0 : firstEndingAtOrAfter(files, lower, 0, lower.length)
      const end = upper === undefined ? files.length : firstStartingAfter(files, upper, 0, upper.length)
      if (start >= end) continue
      const slice = start === 0 && end === files.length ? files : files.slice(start, end)
      out.push(new LevelIterator(this.tableCache, slice, fillCache))
    }
    return out
  }

  /**
   * True when some file in `level` overlaps the user-key range [smallest, largest]; an undefined end is
   * unbounded (LevelDB's OverlapInLevel / SomeFileOverlapsRange).
   */
  overlapInLevel (level: number, smallestUserKey?: Uint8Array, largestUserKey?: Uint8Array): boolean {
    const files = this.files[level]
    if (level === 0) {
      for (const f of files) {
        if (smallestUserKey !== undefined && compareBytes(smallestUserKey, 0, smallestUserKey.length, f.largest, 0, userLen(f.largest)) > 0) continue
        if (largestUserKey !== undefined && compareBytes(largestUserKey, 0, largestUserKey.length, f.smallest, 0, userLen(f.smallest)) < 0) continue
        return true
      }
      return false
    }
    const i = smallestUserKey === undefined ? 0 : firstEndingAtOrAfter(files, smallestUserKey, 0, smallestUserKey.length)
    if (i >= files.length) return false
    const f = files[i]
    return largestUserKey === undefined || compareBytes(largestUserKey, 0, largestUserKey.length, f.smallest, 0, userLen(f.smallest)) >= 0
  }

  /**
   * The level a flushed memtable holding user keys [smallest, largest] goes to (LevelDB's
   * PickLevelForMemTableOutput): 0 if it overlaps level 0; otherwise pushed down while the next level
   * has no overlap and the level after that overlaps at most 10 x maxFileSize bytes, to at most
   * MAX_MEM_COMPACT_LEVEL. (Flushes during recovery go to level 0 regardless: the caller's rule.)
   */
  pickLevelForMemTableOutput (smallestUserKey: Uint8Array, largestUserKey: Uint8Array, maxFileSize: number): number {
    let level = 0
    if (this.overlapInLevel(0, smallestUserKey, largestUserKey)) return level
    const limit = maxGrandParentOverlapBytes(maxFileSize)
    while (level < MAX_MEM_COMPACT_LEVEL) {
      if (this.overlapInLevel(level + 1, smallestUserKey, largestUserKey)) break
      if (level + 2 < NUM_LEVELS) {
        const overlaps = this.#overlappingInputs(level + 2, smallestUserKey, smallestUserKey.length, largestUserKey, largestUserKey.length)
        if (totalFileSize(overlaps) > limit) break
      }
      level++
    }
    return level
  }

  /**
   * The files of `level` that overlap [begin, end], internal keys of which only the user keys count;
   * an undefined end is unbounded. At level 0 the range grows to cover every file it pulls in, until
   * it stops growing (LevelDB's GetOverlappingInputs).
   */
  getOverlappingInputs (level: number, begin?: Uint8Array, end?: Uint8Array): FileMetaData[] {
    return this.#overlappingInputs(
      level, begin, begin === undefined ? 0 : userLen(begin), end, end === undefined ? 0 : userLen(end)
    )
  }

  /**
   * Roughly how many bytes of table data precede internal key `ikey` across all levels (LevelDB's
   * VersionSet::ApproximateOffsetOf): whole files before it, plus the offset within each file whose
   * range holds it.
   */
  approximateOffsetOf (ikey: Uint8Array): number {
    let result = 0
    for (let level = 0; level < NUM_LEVELS; level++) {
      for (const f of this.files[level]) {
        if (compareInternalKeys(f.largest, 0, f.largest.length, ikey, 0, ikey.length) <= 0) {
          result += f.fileSize
        } else if (compareInternalKeys(f.smallest, 0, f.smallest.length, ikey, 0, ikey.length) > 0) {
          // Levels >= 1 are sorted: no later file of the level reaches down to ikey.
          if (level > 0) break
        } else {
          result += this.tableCache.approximateOffsetOf(f.number, f.fileSize, ikey, 0, ikey.length)
        }
      }
    }
    return result
  }

  /** One line per level, `number:size[smallest .. largest]` with keys in hex (for debugging and tests). */
  toString (): string {
    const lines: string[] = []
    for (let level = 0; level < NUM_LEVELS; level++) {
      const files = this.files[level]
      if (files.length === 0) continue
      lines.push(`L${level}: ` + files.map(f => `${f.number}:${f.fileSize}[${hexKey(f.smallest)} .. ${hexKey(f.largest)}]`).join(' '))
    }
    return lines.join('\n')
  }

  /** Consults one table; NotFound means keep looking in older files. */
  #searchFile (
    f: FileMetaData, key: Uint8Array, keyOff: number, keyLen: number, ikey: Uint8Array, ikeyLen: number,
    fillCache: boolean, entry: TableEntry
  ): LookupResult {
    if (!this.tableCache.get(f.number, f.fileSize, ikey, 0, ikeyLen, fillCache, entry)) return LookupResult.NotFound
    const n = entry.keyLen
    const type = n < TAG_BYTES ? -1 : entry.keyBuf[n - TAG_BYTES]
    if (type !== ValueType.Value && type !== ValueType.Deletion) {
      throw corruption(`corrupted internal key (${n} bytes, type ${type}) in ${tableFileName(this.tableCache.dir, f.number)}`)
    }
    if (compareBytes(entry.keyBuf, 0, n - TAG_BYTES, key, keyOff, keyLen) !== 0) return LookupResult.NotFound
    return type === ValueType.Deletion ? LookupResult.Deleted : LookupResult.Found
  }

  #overlappingInputs (
    level: number, begin: Uint8Array | undefined, beginLen: number, end: Uint8Array | undefined, endLen: number
  ): FileMetaData[] {
    const files = this.files[level]
    const inputs: FileMetaData[] = []
    for (let i = 0; i < files.length;) {
      const f = files[i++]
      const fileStartLen = userLen(f.smallest)
      const fileLimitLen = userLen(f.largest)
      if (begin !== undefined && compareBytes(f.largest, 0, fileLimitLen, begin, 0, beginLen) < 0) continue
      if (end !== undefined && compareBytes(f.smallest, 0, fileStartLen, end, 0, endLen) > 0) continue
      inputs.push(f)
      if (level !== 0) continue
      // Level-0 files overlap each other: if this one widens the range, start over with the wider one.
      if (begin !== undefined && compareBytes(f.smallest, 0, fileStartLen, begin, 0, beginLen) < 0) {
        begin = f.smallest
        beginLen = fileStartLen
        inputs.length = 0
        i = 0
      } else if (end !== undefined && compareBytes(f.largest, 0, fileLimitLen, end, 0, endLen) > 0) {
        end = f.largest
        endLen = fileLimitLen
        inputs.length = 0
        i = 0
      }
    }
    return inputs
  }
}

/**
 * Accumulates VersionEdits on top of a base version, then builds the result once (LevelDB's
 * VersionSet::Builder; recovery applies a whole MANIFEST this way). Within an edit, and across the
 * edits applied, a deletion of (level, number) removes that file unless a later edit adds it back;
 * an addition replaces any file of the same number at that level (LevelDB would keep both).
 * Compact pointers are the VersionSet's business and are ignored here.
 */
export class VersionBuilder {
  readonly #base: Version
  readonly #deleted: Array<Set<number>> = Array.from({ length: NUM_LEVELS }, () => new Set<number>())
  readonly #added: Array<Map<number, FileMetaData>> = Array.from({ length: NUM_LEVELS }, () => new Map<number, FileMetaData>())

  constructor (base: Version) {
    this.#base = base
  }

  apply (edit: VersionEdit): void {
    for (const [level, number] of edit.deletedFiles) {
      checkLevel(level)
      this.#deleted[level].add(number)
      // A file an earlier edit of this build added cannot be in the result: forget it now, so that replaying
      // a MANIFEST (every table added since its snapshot, most of them deleted again) holds only live files.
      this.#added[level].delete(number)
    }
    for (const { level, file } of edit.newFiles) {
      checkLevel(level)
      const { smallest, largest } = file
      if (compareInternalKeys(smallest, 0, smallest.length, largest, 0, largest.length) > 0) {
        throw corruption(`table ${file.number} has its smallest key ${hexKey(smallest)} above its largest ${hexKey(largest)}`)
      }
      this.#deleted[level].delete(file.number)
      this.#added[level].set(file.number, file)
    }
  }

  /**
   * The resulting version. Throws LEVEL_CORRUPTION when two files of a level >= 1 overlap or a file
   * number would appear twice (a MANIFEST that says so is damaged). apply() throws it for an added
   * file whose smallest key is above its largest, or a level out of range.
   */
  build (tableCache: TableCache = this.#base.tableCache): Version {
    const levels: Array<readonly FileMetaData[]> = []
    const addedNumbers = new Set<number>()
    for (let level = 0; level < NUM_LEVELS; level++) {
      const base = this.#base.files[level]
      const deleted = this.#deleted[level]
      const added = this.#added[level]
      if (added.size === 0 && !base.some(f => deleted.has(f.number))) {
        levels.push(base)
        continue
      }
      const order = level === 0 ? newestFirst : bySmallestKey
      const adds = [...added.values()].filter(f => !deleted.has(f.number)).sort(order)
      for (const f of adds) addedNumbers.add(f.number)
      const merged: FileMetaData[] = []
      let j = 0
      for (const f of base) {
        // An addition of a number the level already holds replaces that file.
        if (deleted.has(f.number) || added.has(f.number)) continue
        while (j < adds.length && order(adds[j], f) < 0) merged.push(adds[j++])
        merged.push(f)
      }
      while (j < adds.length) merged.push(adds[j++])
      if (level > 0) checkDisjoint(level, merged)
      levels.push(Object.freeze(merged))
    }
    // The base has no duplicates, so a duplicate involves an added file.
    if (addedNumbers.size > 0) {
      const seen = new Map<number, number>()
      for (let level = 0; level < NUM_LEVELS; level++) {
        for (const f of levels[level]) {
          if (!addedNumbers.has(f.number)) continue
          const other = seen.get(f.number)
          if (other !== undefined) throw corruption(`table ${f.number} appears twice in a version (levels ${other} and ${level})`)
          seen.set(f.number, level)
        }
      }
    }
    return new Version(tableCache, levels)
  }
}

function checkLevel (level: number): void {
  if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS) throw corruption(`VersionEdit: level ${level} out of range`)
}

function checkDisjoint (level: number, files: readonly FileMetaData[]): void {
  for (let i = 1; i < files.length; i++) {
    const a = files[i - 1]
    const b = files[i]
    if (compareInternalKeys(a.largest, 0, a.largest.length, b.smallest, 0, b.smallest.length) >= 0) {
      throw corruption(
        `overlapping ranges in level ${level}: table ${a.number} [${hexKey(a.smallest)} .. ${hexKey(a.largest)}] ` +
        `and table ${b.number} [${hexKey(b.smallest)} .. ${hexKey(b.largest)}]`
      )
    }
  }
}

function newestFirst (a: FileMetaData, b: FileMetaData): number {
  return b.number - a.number
}

function bySmallestKey (a: FileMetaData, b: FileMetaData): number {
  return compareInternalKeys(a.smallest, 0, a.smallest.length, b.smallest, 0, b.smallest.length) || a.number - b.number
}

/** Bytes of the given tables. */
export function totalFileSize (files: readonly FileMetaData[]): number {
  let sum = 0
  for (const f of files) sum += f.fileSize
  return sum
}

/** In a sorted level: the first file whose largest user key is >= the user key. */
function firstEndingAtOrAfter (files: readonly FileMetaData[], key: Uint8Array, off: number, len: number): number {
  let left = 0
  let right = files.length
  while (left < right) {
    const mid = (left + right) >>> 1
    const largest = files[mid].largest
    if (compareBytes(largest, 0, userLen(largest), key, off, len) < 0) left = mid + 1
    else right = mid
  }
  return right
}

/** In a sorted level: the first file whose smallest user key is > the user key. */
function firstStartingAfter (files: readonly FileMetaData[], key: Uint8Array, off: number, len: number): number {
  let left = 0
  let right = files.length
  while (left < right) {
    const mid = (left + right) >>> 1
    const smallest = files[mid].smallest
    if (compareBytes(smallest, 0, userLen(smallest), key, off, len) <= 0) left = mid + 1
    else right = mid
  }
  return right
}

/** An internal key as `userkey-hex@sequence:type`, for messages. */
function hexKey (ikey: Uint8Array): string {
  if (ikey.length < TAG_BYTES) return toHex(ikey)
  const n = ikey.length - TAG_BYTES
  // The tag as a bigint: a corrupt key's sequence may be beyond 2^53, and the message should show it.
  const tag = BigInt(getFixed32(ikey, n + 4)) << 32n | BigInt(getFixed32(ikey, n))
  return `${toHex(ikey.subarray(0, n))}@${tag >> 8n}:${tag & 0xffn}`
}
