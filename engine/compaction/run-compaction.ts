// Running a compaction (LevelDB db/db_impl.cc DoCompactionWork, OpenCompactionOutputFile,
// FinishCompactionOutputFile, InstallCompactionResults; docs/design.md, "Compaction"): merge the input
// files, drop what no reader can see any more, and write the rest as new tables at level + 1, split at
// maxFileSize and where an output would overlap too much of level + 2.
//
// It needs only a FileSystem, a directory and a TableCache over it, so it runs the same on the main
// thread and in a worker (which rebuilds the Compaction from `c.spec()`). Output file numbers come
// pre-allocated from the caller (the VersionSet's counter lives on the main thread). It writes table
// files and nothing else: the caller records them with the edit applyCompaction builds, and handles a
// trivial move (c.isTrivialMove()) with trivialMoveEdit alone, without calling runCompaction.
//
// Drop rules, with S = smallestSnapshot (the oldest live snapshot's sequence, or the last sequence when
// there is none), for the entries of one user key, newest first:
//   (A) an entry is dropped when a newer entry of the same user key has a sequence <= S: every reader
//       sees that one (or something newer) instead;
//   (B) a deletion with sequence <= S is dropped when no level below level + 1 has a file whose range
//       holds the key (c.isBaseLevelForKey): nothing older remains for it to hide, since the older
//       entries in this compaction are dropped by (A).
// An entry whose internal key cannot be parsed (shorter than 8 bytes, type > 1) is LEVEL_CORRUPTION
// (LevelDB copies it through unparsed; rough-level reports damage rather than carry it on).
import { corruption, fromFsError, ioError } from '../errors'
import type { FileSystem, WritableFile } from '../fs/file-system'
import { compareBytes, TAG_BYTES, tagSequence, ValueType } from '../internal-key'
import type { InternalIterator } from '../internal-iterator'
import { LevelIterator } from '../version/level-iterator'
import { MergingIterator } from '../iterators/merging-iterator'
import { TableBuilder } from '../table/table-builder'
import type { TableCache } from '../table/table-cache'
import type { TableParts } from '../table/table-parts'
import { tableFileName } from '../filename'
import { VersionEdit, type FileMetaData } from '../version/version-edit'
import type { BuildTableOptions } from '../table/build-table'
import { totalFileSize } from '../version/version'
import type { Compaction } from './compaction'
import { maxGrandParentOverlapBytes } from '../constants'

export interface CompactionOutputOptions extends BuildTableOptions {
  /** An output is finished once its size reaches this, after an add (LevelDB's max_file_size). */
  maxFileSize: number
}

export interface RunCompactionEnv {
  fs: FileSystem
  /** The database directory: inputs are read and outputs written there. */
  dir: string
  /** Opens the input tables (read with fillCache false) and checks each output after it is written. */
  tableCache: TableCache
  options: CompactionOutputOptions
  /** The oldest sequence a reader may still read at (see the drop rules above). */
  smallestSnapshot: number
  /**
   * Output file numbers, pre-allocated by the caller, used in order. Running out is an error (and
   * removes the outputs made so far); maxOutputFiles(c, maxFileSize) gives a safe count.
   */
  fileNumbers: readonly number[]
  /**
   * Polled every 256 input entries; when it returns true the compaction stops with LEVEL_IO_ERROR and
   * removes its outputs (LevelDB stops a compaction when the database is being closed).
   */
  cancelled?: () => boolean
  /** Told a line for the info log as each output is finished (LevelDB's "Generated table"). */
  log?: (message: string) => void
}

export interface CompactionRunStats {
  /** Input entries merged (dropped ones included). */
  entriesRead: number
  entriesWritten: number
  /** Sizes of the input files. */
  bytesRead: number
  /** Sizes of the output files. */
  bytesWritten: number
}

export interface CompactionResult {
  /** The new tables, in key order (each written, fsynced, closed, and opened once to check it). */
  outputs: FileMetaData[]
  /** What a reader keeps of each output, beside outputs one for one (table-parts.ts). */
  parts: TableParts[]
  /** The level they belong to: c.level + 1. */
  level: number
  stats: CompactionRunStats
}

const NO_SEQUENCE = Number.POSITIVE_INFINITY
const CANCEL_CHECK_MASK = 255

/**
 * An upper bound on the outputs runCompaction(c) can make with this maxFileSize, for pre-allocating
 * file numbers: one per maxFileSize of output (allowing outputs twice the inputs' size, e.g. inputs
 * written with better compression than the outputs), plus one per grandparent-overlap split (each needs
 * more than 10 x maxFileSize of level + 2 passed), plus slack. Numbers left unused are simply skipped
 * (the file-number counter has gaps anyway).
 */
export function maxOutputFiles (c: Compaction, maxFileSize: number): number {
  const bySize = Math.ceil((2 * c.totalInputBytes) / maxFileSize)
  const bySplits = Math.floor(totalFileSize(c.grandparents) / maxGrandParentOverlapBytes(c.maxFileSize))
  return bySize + bySplits + 2
}

/**
 * Runs compaction c: merges its inputs, drops obsolete entries (rules above) and writes the survivors
 * as tables for level c.level + 1. On any failure every output file it created is deleted (and evicted
 * from the table cache) and the error is rethrown; inputs are never touched.
 */
export function runCompaction (c: Compaction, env: RunCompactionEnv): CompactionResult {
  const { fs, dir, tableCache, options, smallestSnapshot, fileNumbers, cancelled, log } = env
  const maxFileSize = options.maxFileSize
  c.resetCursors()

  const outputs: FileMetaData[] = []
  const parts: TableParts[] = []
  /** Every output number opened, finished or not: all of them go on failure. */
  const created: number[] = []
  let file: WritableFile | undefined
  let builder: TableBuilder | undefined
  let outNumber = 0
  let outSmallest: Uint8Array | undefined
  let lastKey = new Uint8Array(64)
  let lastKeyLen = 0
  let bytesWritten = 0
  let entriesRead = 0
  let entriesWritten = 0
  /** entriesWritten when the open output began. */
  let outEntriesBefore = 0

  // The user key of the entries being walked (copied: the iterator's views move on).
  let userKey = new Uint8Array(64)
  let userKeyLen = 0
  let hasUserKey = false
  let lastSequenceForKey = NO_SEQUENCE

  const openOutput = (): TableBuilder => {
    if (created.length >= fileNumbers.length) {
      throw new Error(
        `runCompaction: the ${fileNumbers.length} pre-allocated output file numbers ran out ` +
        `(level ${c.level}, ${c.totalInputBytes} input bytes); allocate maxOutputFiles(c, maxFileSize) numbers`
      )
    }
    outNumber = fileNumbers[created.length]
    created.push(outNumber)
    const path = tableFileName(dir, outNumber)
    try {
      file = fs.openWritable(path)
    } catch (err) {
      throw fromFsError(`create ${path}`, err)
    }
    builder = new TableBuilder(options, file)
    outSmallest = undefined
    outEntriesBefore = entriesWritten
    return builder
  }

  const finishOutput = (): void => {
    if (builder === undefined || file === undefined || outSmallest === undefined) throw new Error('no output open')
    const fileSize = builder.finish()
    const kept = builder.parts!
    builder = undefined
    const out = file
    try {
      out.sync()
    } catch (err) {
      throw fromFsError(`fdatasync ${out.path}`, err)
    }
    file = undefined
    try {
      out.close()
    } catch (err) {
      throw fromFsError(`close ${out.path}`, err)
    }
    // Check that the table opens (footer, index and filter read and verified), as LevelDB does.
    tableCache.iterator(outNumber, fileSize, false).close()
    outputs.push({ number: outNumber, fileSize, smallest: outSmallest, largest: lastKey.slice(0, lastKeyLen) })
    parts.push(kept)
    bytesWritten += fileSize
    log?.(`Generated table #${outNumber}@${c.level}: ${entriesWritten - outEntriesBefore} keys, ${fileSize} bytes`)
  }

  const input = makeInputIterator(c, tableCache)
  try {
    for (input.seekToFirst(); input.valid(); input.next()) {
      if (cancelled !== undefined && (entriesRead & CANCEL_CHECK_MASK) === 0 && cancelled()) {
        throw ioError(`compaction of level ${c.level} cancelled`)
      }
      entriesRead++
      const kb = input.keyBuf
      const ko = input.keyOff
      const kl = input.keyLen

      if (c.shouldStopBefore(kb, ko, kl) && builder !== undefined) finishOutput()

      if (kl < TAG_BYTES || kb[ko + kl - TAG_BYTES] > ValueType.Value) {
        throw corruption(`corrupted internal key (${kl} bytes) in compaction input: ${describeInputs(c)}`)
      }
      const ulen = kl - TAG_BYTES
      if (!hasUserKey || compareBytes(kb, ko, ulen, userKey, 0, userKeyLen) !== 0) {
        // First (newest) entry of this user key.
        if (ulen > userKey.length) userKey = new Uint8Array(Math.max(ulen, 2 * userKey.length))
        copyBytes(kb, ko, ulen, userKey)
        userKeyLen = ulen
        hasUserKey = true
        lastSequenceForKey = NO_SEQUENCE
      }
      const sequence = tagSequence(kb, ko + kl)
      const drop = lastSequenceForKey <= smallestSnapshot ||
        (kb[ko + ulen] === ValueType.Deletion && sequence <= smallestSnapshot && c.isBaseLevelForKey(kb, ko, ulen))
      lastSequenceForKey = sequence
      if (drop) continue

      const b = builder ?? openOutput()
      if (outSmallest === undefined) outSmallest = kb.slice(ko, ko + kl)
      b.add(kb, ko, kl, input.valueBuf, input.valueOff, input.valueLen)
      entriesWritten++
      if (kl > lastKey.length) lastKey = new Uint8Array(Math.max(kl, 2 * lastKey.length))
      copyBytes(kb, ko, kl, lastKey)
      lastKeyLen = kl
      if (b.fileSize() >= maxFileSize) finishOutput()
    }
    if (builder !== undefined) finishOutput()
  } catch (err) {
    builder?.abandon()
    builder = undefined
    if (file !== undefined) {
      try { file.close() } catch {}
      file = undefined
    }
    for (const number of created) {
      tableCache.evict(number)
      try { fs.unlink(tableFileName(dir, number)) } catch {}
    }
    throw err
  } finally {
    input.close()
  }

  return {
    outputs,
    parts,
    level: c.level + 1,
    stats: { entriesRead, entriesWritten, bytesRead: c.totalInputBytes, bytesWritten }
  }
}

/**
 * The edit that installs a finished compaction (LevelDB's InstallCompactionResults): c.edit's compact
 * pointer, every input deleted from its level, every output added at level + 1. A new edit each call;
 * the caller adds what else it records (log number, next file number, last sequence).
 */
export function applyCompaction (c: Compaction, outputs: readonly FileMetaData[]): VersionEdit {
  const edit = baseEdit(c)
  for (let which = 0; which < 2; which++) {
    for (const f of c.inputs[which]) edit.deleteFile(c.level + which, f.number)
  }
  for (const f of outputs) edit.addFile(c.outputLevel, f)
  return edit
}

/**
 * The edit for a trivial move (requires c.isTrivialMove()): the one input file leaves `level` and joins
 * level + 1 with the same number and metadata, plus c.edit's compact pointer. Nothing is rewritten.
 */
export function trivialMoveEdit (c: Compaction): VersionEdit {
  if (c.inputs[0].length !== 1 || c.inputs[1].length !== 0) {
    throw new Error(`not a trivial move: ${c.inputs[0].length}+${c.inputs[1].length} input files`)
  }
  const f = c.inputs[0][0]
  const edit = baseEdit(c)
  edit.deleteFile(c.level, f.number)
  edit.addFile(c.level + 1, f)
  return edit
}

function baseEdit (c: Compaction): VersionEdit {
  const edit = new VersionEdit()
  for (const p of c.edit.compactPointers) edit.compactPointers.push({ level: p.level, key: p.key })
  return edit
}

/**
 * The merged inputs (LevelDB's MakeInputIterator): one iterator per level-0 input file (they overlap),
 * one concatenating iterator per deeper level. Tables open lazily, without filling the block cache.
 */
function makeInputIterator (c: Compaction, tableCache: TableCache): InternalIterator {
  const children: InternalIterator[] = []
  for (let which = 0; which < 2; which++) {
    const files = c.inputs[which]
    if (files.length === 0) continue
    if (c.level + which === 0) {
      for (const f of files) children.push(new LevelIterator(tableCache, [f], false))
    } else {
      children.push(new LevelIterator(tableCache, files, false))
    }
  }
  return new MergingIterator(children)
}

function copyBytes (src: Uint8Array, off: number, len: number, dst: Uint8Array): void {
  if (len <= 32) {
    for (let i = 0; i < len; i++) dst[i] = src[off + i]
  } else {
    dst.set(src.subarray(off, off + len), 0)
  }
}

function describeInputs (c: Compaction): string {
  const names = (files: readonly FileMetaData[]): string => files.map(f => f.number).join(', ')
  return `level ${c.level} tables [${names(c.inputs[0])}], level ${c.level + 1} tables [${names(c.inputs[1])}]`
}
