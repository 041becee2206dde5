// Picking a compaction (LevelDB db/version_set.cc: Finalize, PickCompaction, SetupOtherInputs,
// AddBoundaryInputs, CompactRange; docs/design.md, "Compaction") and the Compaction it describes (LevelDB's
// Compaction class: IsTrivialMove, IsBaseLevelForKey, ShouldStopBefore).
//
// Pure functions of a Version, the compact pointers and maxFileSize: nothing here reads a table or
// writes a file. run-compaction.ts runs what is picked here.
//
// Size compaction only. Seek-triggered compaction (LevelDB's allowed_seeks / file_to_compact) is not
// implemented: FileMetaData carries no seek budget. A size compaction always takes priority over a seek
// compaction in LevelDB anyway, so what is picked here is what LevelDB would pick whenever a level's
// score is >= 1.
//
// Differences from LevelDB, all deliberate:
//   - Level 0 is kept newest first in a Version; where LevelDB's order matters (the first file past the
//     compact pointer, the boundary-file search) a copy sorted by smallest key is used, as LevelDB's
//     files_[0] is.
//   - AddBoundaryInputs is applied to the level+1 inputs as well as the level inputs (upstream LevelDB
//     after 1.23; 1.23 applies it to level only). With user-key overlap at level+1 it is a no-op in
//     practice; it costs nothing and keeps the invariant explicit.
//   - The compact pointer is recorded in the Compaction (and its edit) but not applied: the caller
//     applies it (LevelDB sets compact_pointer_ at once, so that a failed compaction moves on; a caller
//     that wants that applies `c.compactPointer` right after picking).
//   - A Compaction does not hold its Version: it keeps the files it needs (inputs, grandparents, and the
//     deeper levels' files that overlap its range, for IsBaseLevelForKey), so that it can be sent to a
//     worker as plain data (`spec()`) and rebuilt there (`new Compaction(spec)`).
import { compareBytes, compareInternalKeys, TAG_BYTES } from '../internal-key'
import { totalFileSize, type Version } from '../version/version'
import { NUM_LEVELS, VersionEdit, type FileMetaData } from '../version/version-edit'
import {
  expandedCompactionByteSizeLimit, L0_COMPACTION_TRIGGER, maxBytesForLevel, maxGrandParentOverlapBytes
} from '../constants'

export interface CompactionOptions {
  /** Target size of compaction outputs (LevelDB's max_file_size); the other limits derive from it. */
  maxFileSize: number
}

/**
 * Everything a Compaction is made of, as plain data (FileMetaData records and byte arrays): it survives
 * structured cloning, so a worker can rebuild the Compaction with `new Compaction(spec)`.
 */
export interface CompactionSpec {
  /** The level compacted; outputs go to level + 1. 0 <= level < NUM_LEVELS - 1. */
  level: number
  /** inputs[0]: files of `level`; inputs[1]: files of level + 1. */
  inputs: [FileMetaData[], FileMetaData[]]
  /** Files of level + 2 overlapping the compaction's key range, sorted (empty at level 5). */
  grandparents: FileMetaData[]
  /**
   * For each level from level + 2 to NUM_LEVELS - 1 (index 0 is level + 2), its files that overlap the
   * compaction's user-key range, sorted: what IsBaseLevelForKey looks at. Every key the compaction meets
   * lies in that range, so files outside it cannot matter.
   */
  deeperFiles: FileMetaData[][]
  /** maxFileSize at picking: the grandparent overlap limit is 10 x this. */
  maxFileSize: number
  /** The new compact pointer for `level`: the largest internal key among inputs[0]. */
  compactPointer: Uint8Array
  /** A manual compaction (compactRange): never a trivial move. */
  manual: boolean
}

const userLen = (ikey: Uint8Array): number => ikey.length - TAG_BYTES

/** Orders files by smallest internal key, file number breaking ties (LevelDB's BySmallestKey). */
function bySmallestKey (a: FileMetaData, b: FileMetaData): number {
  return compareInternalKeys(a.smallest, 0, a.smallest.length, b.smallest, 0, b.smallest.length) || a.number - b.number
}

/**
 * One compaction: merge inputs[0] (at `level`) and inputs[1] (at level + 1) into new files at level + 1.
 *
 * isBaseLevelForKey and shouldStopBefore keep cursors (LevelDB's level_ptrs_, grandparent_index_,
 * seen_key_, overlapped_bytes_): they require keys in increasing order between two resetCursors() calls.
 * runCompaction resets them when it starts.
 */
export class Compaction {
  readonly level: number
  readonly inputs: readonly [readonly FileMetaData[], readonly FileMetaData[]]
  readonly grandparents: readonly FileMetaData[]
  readonly maxFileSize: number
  readonly compactPointer: Uint8Array
  readonly manual: boolean
  /**
   * The edit this compaction starts from: the compact pointer for `level` (LevelDB's c->edit_ after
   * SetupOtherInputs). applyCompaction and trivialMoveEdit (run-compaction.ts) return a new edit with
   * this one's compact pointers plus the file changes; this one is not modified.
   */
  readonly edit: VersionEdit

  readonly #deeperFiles: ReadonlyArray<readonly FileMetaData[]>
  // IsBaseLevelForKey's cursor per deeper level (index 0 = level + 2).
  readonly #levelPtrs: number[]
  // ShouldStopBefore's state.
  #grandparentIndex = 0
  #seenKey = false
  #overlappedBytes = 0

  constructor (spec: CompactionSpec) {
    const { level } = spec
    if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS - 1) {
      throw new RangeError(`compaction level ${level} out of range: 0 to ${NUM_LEVELS - 2}`)
    }
    this.level = level
    // Level 0 inputs may overlap and stay as given; deeper levels are walked in key order.
    const inputs0 = level === 0 ? Object.freeze([...spec.inputs[0]]) : Object.freeze([...spec.inputs[0]].sort(bySmallestKey))
    const inputs1 = Object.freeze([...spec.inputs[1]].sort(bySmallestKey))
    this.inputs = Object.freeze([inputs0, inputs1] as const)
    this.grandparents = Object.freeze([...spec.grandparents].sort(bySmallestKey))
    this.#deeperFiles = Object.freeze(spec.deeperFiles.map(files => Object.freeze([...files].sort(bySmallestKey))))
    this.#levelPtrs = this.#deeperFiles.map(() => 0)
    this.maxFileSize = spec.maxFileSize
    this.compactPointer = spec.compactPointer
    this.manual = spec.manual
    this.edit = new VersionEdit()
    this.edit.compactPointers.push({ level, key: spec.compactPointer })
  }

  /** The output level. */
  get outputLevel (): number {
    return this.level + 1
  }

  /** This compaction as plain data, for postMessage (see CompactionSpec). */
  spec (): CompactionSpec {
    return {
      level: this.level,
      inputs: [[...this.inputs[0]], [...this.inputs[1]]],
      grandparents: [...this.grandparents],
      deeperFiles: this.#deeperFiles.map(files => [...files]),
      maxFileSize: this.maxFileSize,
      compactPointer: this.compactPointer,
      manual: this.manual
    }
  }

  numInputFiles (which: 0 | 1): number {
    return this.inputs[which].length
  }

  /** Bytes of every input file, both levels. */
  get totalInputBytes (): number {
    return totalFileSize(this.inputs[0]) + totalFileSize(this.inputs[1])
  }

  /** The largest internal key among the inputs of `level` (manual compaction resumes after it). */
  largestInputKey (): Uint8Array {
    return getRange(this.inputs[0])[1]
  }

  /**
   * True when the compaction can be done by moving its one input file to level + 1, rewriting nothing
   * (LevelDB's IsTrivialMove): one file at `level`, none at level + 1, and at most 10 x maxFileSize of
   * grandparent overlap (else the moved file would make a very expensive compaction later). Never for a
   * manual compaction (LevelDB's BackgroundCompaction rewrites those).
   */
  isTrivialMove (): boolean {
    return !this.manual && this.inputs[0].length === 1 && this.inputs[1].length === 0 &&
      totalFileSize(this.grandparents) <= maxGrandParentOverlapBytes(this.maxFileSize)
  }

  /**
   * True when no level below level + 1 holds user key userKey[off, off + len) in a file's range: then a
   * deletion of it that no snapshot needs can be dropped. Requires: called with non-decreasing user keys
   * since the last resetCursors() (each level's cursor only moves forward).
   */
  isBaseLevelForKey (userKey: Uint8Array, off = 0, len = userKey.length - off): boolean {
    const deeper = this.#deeperFiles
    const ptrs = this.#levelPtrs
    for (let i = 0; i < deeper.length; i++) {
      const files = deeper[i]
      let p = ptrs[i]
      while (p < files.length) {
        const f = files[p]
        if (compareBytes(userKey, off, len, f.largest, 0, userLen(f.largest)) <= 0) {
          // Far enough: the key is in this file's range or in a gap before it.
          if (compareBytes(userKey, off, len, f.smallest, 0, userLen(f.smallest)) >= 0) {
            ptrs[i] = p
            return false
          }
          break
        }
        p++
      }
      ptrs[i] = p
    }
    return true
  }

  /**
   * True when the current output should end before internal key ikey[off, off + len) is added, so that
   * no output overlaps more than 10 x maxFileSize bytes of level + 2 (LevelDB's ShouldStopBefore).
   * Counting starts after the first key; the total resets when it fires. Requires: increasing keys
   * since the last resetCursors(); call it for every key in order, dropped ones included.
   */
  shouldStopBefore (ikey: Uint8Array, off = 0, len = ikey.length - off): boolean {
    const gp = this.grandparents
    while (this.#grandparentIndex < gp.length) {
      const largest = gp[this.#grandparentIndex].largest
      if (compareInternalKeys(ikey, off, len, largest, 0, largest.length) <= 0) break
      if (this.#seenKey) this.#overlappedBytes += gp[this.#grandparentIndex].fileSize
      this.#grandparentIndex++
    }
    this.#seenKey = true
    if (this.#overlappedBytes > maxGrandParentOverlapBytes(this.maxFileSize)) {
      this.#overlappedBytes = 0
      return true
    }
    return false
  }

  /** Rewinds the cursors of isBaseLevelForKey and shouldStopBefore, for a new pass over the keys. */
  resetCursors (): void {
    this.#levelPtrs.fill(0)
    this.#grandparentIndex = 0
    this.#seenKey = false
    this.#overlappedBytes = 0
  }
}

export interface CompactionScore {
  /** The level most in need of compaction (lowest level on a tie). */
  level: number
  /** Its score: >= 1 means a compaction is due. */
  score: number
}

/**
 * LevelDB's Finalize: scores levels 0 to NUM_LEVELS - 2 (the last level is never a source): level 0 by
 * file count / L0_COMPACTION_TRIGGER, level L >= 1 by bytes / maxBytesForLevel(L). The best level is
 * the highest score, the lowest level on ties.
 */
export function compactionScore (version: Version): CompactionScore {
  let bestLevel = -1
  let bestScore = -1
  for (let level = 0; level < NUM_LEVELS - 1; level++) {
    const score = level === 0
      ? version.numFiles(0) / L0_COMPACTION_TRIGGER
      : version.numLevelBytes(level) / maxBytesForLevel(level)
    if (score > bestScore) {
      bestLevel = level
      bestScore = score
    }
  }
  return { level: bestLevel, score: bestScore }
}

/** True when pickCompaction would pick something (some level's score is >= 1). */
export function needsCompaction (version: Version): boolean {
  return compactionScore(version).score >= 1
}

/**
 * LevelDB's PickCompaction, size-triggered only: the level with the best score if it is >= 1, else
 * undefined. Its first input is the first file (in key order) whose largest key is past
 * compactPointers[level], wrapping around to the first file; at level 0 the inputs grow to every level-0
 * file that overlaps them. Then SetupOtherInputs (see compactionFromInputs). `compactPointers[level]`
 * undefined or empty means none. The returned compaction's compactPointer is the new pointer for its
 * level; the caller applies it (and writes it to the MANIFEST with the compaction's edit).
 */
export function pickCompaction (
  version: Version, compactPointers: ReadonlyArray<Uint8Array | undefined>, options: CompactionOptions
): Compaction | undefined {
  const { level, score } = compactionScore(version)
  if (score < 1) return undefined
  const files = levelFilesInKeyOrder(version, level)
  const pointer = compactPointers[level]
  let first: FileMetaData | undefined
  if (pointer !== undefined && pointer.length > 0) {
    for (const f of files) {
      if (compareInternalKeys(f.largest, 0, f.largest.length, pointer, 0, pointer.length) > 0) {
        first = f
        break
      }
    }
  }
  // No pointer, or every file is at or before it: wrap around to the beginning of the key space.
  first ??= files[0]
  let inputs = [first]
  if (level === 0) {
    // Level-0 files overlap: take every one overlapping the range, which may widen it (the call
    // repeats until it does not). The result includes `first`.
    const [smallest, largest] = getRange(inputs)
    inputs = version.getOverlappingInputs(0, smallest, largest)
  }
  return compactionFromInputs(version, level, inputs, options, false)
}

/**
 * LevelDB's VersionSet::CompactRange: one round of a manual compaction of `level` over the internal-key
 * range [begin, end] (only the user keys count; undefined ends are unbounded), or undefined when no file
 * of `level` overlaps it. At levels > 0 the inputs are cut off at the file where their cumulative size
 * reaches maxFileSize (level 0 cannot be cut: an older overlapping file would be left behind a newer
 * one). The caller loops: the next round starts after c.largestInputKey(), until this returns undefined
 * (LevelDB's DBImpl::CompactRange / BackgroundCompaction). The result is never a trivial move.
 * For a user range [a, b], LevelDB passes begin = (a, kMaxSequenceNumber, Value) and end = (b, 0, Deletion).
 */
export function compactRange (
  version: Version, level: number, begin: Uint8Array | undefined, end: Uint8Array | undefined, options: CompactionOptions
): Compaction | undefined {
  if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS - 1) {
    throw new RangeError(`compactRange: level ${level} out of range: 0 to ${NUM_LEVELS - 2}`)
  }
  const inputs = version.getOverlappingInputs(level, begin, end)
  if (inputs.length === 0) return undefined
  if (level > 0) {
    let total = 0
    for (let i = 0; i < inputs.length; i++) {
      total += inputs[i].fileSize
      if (total >= options.maxFileSize) {
        inputs.length = i + 1
        break
      }
    }
  }
  return compactionFromInputs(version, level, inputs, options, true)
}

/**
 * LevelDB's SetupOtherInputs, given the level inputs: add boundary files at `level`; take the level + 1
 * files overlapping their range (plus boundary files); try to grow the level inputs to everything
 * overlapping the combined range, accepted only if that adds level files, keeps the level + 1 set the
 * same size, and keeps the total under 25 x maxFileSize; then the grandparents, the deeper levels' files
 * in range, and the compact pointer (the largest key of the final level inputs).
 */
export function compactionFromInputs (
  version: Version, level: number, levelInputs: readonly FileMetaData[], options: CompactionOptions, manual: boolean
): Compaction {
  if (levelInputs.length === 0) throw new Error('a compaction needs at least one input file')
  const levelFiles = levelFilesInKeyOrder(version, level)
  const parentFiles = version.files[level + 1]

  let inputs0 = [...levelInputs]
  addBoundaryInputs(levelFiles, inputs0)
  const [smallest, initialLargest] = getRange(inputs0)
  let largest = initialLargest
  let inputs1 = version.getOverlappingInputs(level + 1, smallest, largest)
  addBoundaryInputs(parentFiles, inputs1)
  let all = getRange(inputs0, inputs1)

  // Grow the level inputs without changing the level + 1 inputs, if that stays small enough.
  if (inputs1.length > 0) {
    const expanded0 = version.getOverlappingInputs(level, all[0], all[1])
    addBoundaryInputs(levelFiles, expanded0)
    if (expanded0.length > inputs0.length &&
      totalFileSize(inputs1) + totalFileSize(expanded0) < expandedCompactionByteSizeLimit(options.maxFileSize)) {
      const [newStart, newLimit] = getRange(expanded0)
      const expanded1 = version.getOverlappingInputs(level + 1, newStart, newLimit)
      addBoundaryInputs(parentFiles, expanded1)
      if (expanded1.length === inputs1.length) {
        largest = newLimit
        inputs0 = expanded0
        inputs1 = expanded1
        all = getRange(inputs0, inputs1)
      }
    }
  }

  const deeperFiles: FileMetaData[][] = []
  for (let l = level + 2; l < NUM_LEVELS; l++) deeperFiles.push(version.getOverlappingInputs(l, all[0], all[1]))
  return new Compaction({
    level,
    inputs: [inputs0, inputs1],
    grandparents: deeperFiles.length > 0 ? deeperFiles[0] : [],
    deeperFiles,
    maxFileSize: options.maxFileSize,
    compactPointer: largest,
    manual
  })
}

/**
 * LevelDB's AddBoundaryInputs: while some file of levelFiles starts with the same user key as the
 * largest key of `inputs` but a greater internal key (the level was split between two versions of that
 * user key), add the smallest such file to `inputs` and repeat from its largest key. Leaving it out
 * would put the older versions of the key in a shallower level than the newer ones.
 */
export function addBoundaryInputs (levelFiles: readonly FileMetaData[], inputs: FileMetaData[]): void {
  if (inputs.length === 0) return
  let largest = getRange(inputs)[1]
  for (;;) {
    let boundary: FileMetaData | undefined
    const ulen = userLen(largest)
    for (const f of levelFiles) {
      const s = f.smallest
      if (compareInternalKeys(s, 0, s.length, largest, 0, largest.length) > 0 &&
        compareBytes(s, 0, userLen(s), largest, 0, ulen) === 0 &&
        (boundary === undefined || compareInternalKeys(s, 0, s.length, boundary.smallest, 0, boundary.smallest.length) < 0)) {
        boundary = f
      }
    }
    if (boundary === undefined) return
    inputs.push(boundary)
    largest = boundary.largest
  }
}

/** The smallest and largest internal keys over the files of the lists (LevelDB's GetRange/GetRange2). */
function getRange (...lists: Array<readonly FileMetaData[]>): [Uint8Array, Uint8Array] {
  let smallest: Uint8Array | undefined
  let largest: Uint8Array | undefined
  for (const files of lists) {
    for (const f of files) {
      if (smallest === undefined || compareInternalKeys(f.smallest, 0, f.smallest.length, smallest, 0, smallest.length) < 0) smallest = f.smallest
      if (largest === undefined || compareInternalKeys(f.largest, 0, f.largest.length, largest, 0, largest.length) > 0) largest = f.largest
    }
  }
  if (smallest === undefined || largest === undefined) throw new Error('getRange of no files')
  return [smallest, largest]
}

/** A level's files in LevelDB's order: by smallest key (a sorted copy for level 0, kept newest first). */
function levelFilesInKeyOrder (version: Version, level: number): readonly FileMetaData[] {
  const files = version.files[level]
  return level === 0 ? [...files].sort(bySmallestKey) : files
}
