// A checkpoint (RocksDB's Checkpoint, utilities/checkpoint/checkpoint_impl.cc): a complete LevelDB database
// in another directory holding exactly a database's state as of one sequence, made while writes go on.
//
// What it is made of:
//   - the tables of the version in force at that moment, hard-linked (the same inode: no bytes copied, and
//     the source may later compact, delete or destroy its files without touching it), or copied where a
//     link is not possible (another file system: EXDEV; a file system without links: EPERM, ENOTSUP...);
//   - the memtables' entries numbered at or below the sequence (every version and tombstone, through
//     AsOfIterator) written as one level-0 table by the flush's own table builder, on the flush worker
//     (writeMemTablesAsOf: it reads the arenas without a copy, the writable memtable's too while it takes
//     later writes; on this thread only where the Db runs without workers). A table rather
//     than copies of the logs cut at that sequence: the source's logs may be deleted by its next flush while
//     they are copied (and a follower's may be gone already), where the memtables are in memory and pinned;
//     and the checkpoint then opens without a log to replay, in rough-level and classic-level alike;
//   - a fresh MANIFEST holding one snapshot edit (every file and its level, the comparator, the sequence as
//     the last sequence, no log), then CURRENT (installNewManifest: MANIFEST synced, directory synced, CURRENT
//     through a synced temp file renamed, directory synced again).
//
// Crash safety: CURRENT is written last, so a destination left by a crash has no CURRENT and opens as
// nothing (LevelDB and rough-level refuse it without createIfMissing). Every file is synced (copies and the
// built table as they are written; linked tables share the source's synced inode) and the directory, and
// its parent when this created it, before the promise resolves; every fsync runs on the thread pool. The
// source is only read.
//
// What is read is taken in one synchronous step at the call: the caller pins the version (so that no
// concurrent compaction deletes a table before it is linked); writeCheckpoint pins the memtables (an open
// iterator each) before its first await, until the table is written, so that no flush recycles an arena
// the worker reads.
import path = require('path')  // Not 'node:', which webpack's `browser` field swap misses
import type { BackgroundWorker } from '../background/background'
import { fromFsError, invalidArgument, systemErrorCode } from '../errors'
import type { FileSystem } from '../fs/file-system'
import type { MemTable } from '../memtable/memtable'
import type { DbOptions } from '../options'
import { allocUnsafe } from '../util/bytes'
import { eventLoopBudget } from '../util/event-loop-budget'
import { currentFileName, descriptorFileName, sstTableFileName, tableFileName, tempFileName } from '../filename'
import type { Version } from '../version/version'
import { NUM_LEVELS, VersionEdit } from '../version/version-edit'
import { COMPARATOR_NAME, installNewManifest } from '../version/version-set'
import { writeMemTablesAsOf } from './memtable-flush'

/** Bytes copied per read and write when a table cannot be linked; the event loop may turn between them. */
const COPY_CHUNK = 1024 * 1024

/** What a checkpoint reads, pinned by the caller until it resolves. */
export interface CheckpointSource {
  readonly dir: string
  readonly options: DbOptions
  /** The version in force at the call. */
  readonly version: Version
  /** The memtables at the call (any order), the writable one included. */
  readonly memtables: readonly MemTable[]
  /** The Db's flush worker, which writes the memtables as a table. */
  readonly worker: BackgroundWorker
  /** The last sequence at the call: nothing numbered after it goes in. */
  readonly sequence: number
  /** The source's next file number, if it keeps one (a follower's is its own): the tables' numbers are above it anyway. */
  readonly nextFileNumber: number
}

/** What a checkpoint made: tables linked, copied, and the memtables' table (0 if they held nothing). */
export interface CheckpointReport {
  linked: number
  copied: number
  memtableBytes: number
}

/**
 * Makes `dest` (which must not exist or be empty, and must not be the source) a database holding the
 * source's state at `source.sequence`. On failure what it created is removed (a directory it created, too).
 */
export async function writeCheckpoint (source: CheckpointSource, dest: string): Promise<CheckpointReport> {
  const pins = source.memtables.map((mem) => mem.iterator())
  try {
    return await writeCheckpointFiles(source, dest)
  } finally {
    for (const pin of pins) pin.close()
  }
}

async function writeCheckpointFiles (source: CheckpointSource, dest: string): Promise<CheckpointReport> {
  const fs = source.options.fs
  const created = prepareDestination(fs, source.dir, dest)
  const made: string[] = []
  try {
    const edit = new VersionEdit()
    edit.comparator = COMPARATOR_NAME
    const report: CheckpointReport = { linked: 0, copied: 0, memtableBytes: 0 }
    for (let level = 0; level < NUM_LEVELS; level++) {
      for (const f of source.version.files[level]) {
        const to = tableFileName(dest, f.number)
        made.push(to)
        if (await linkOrCopyTable(fs, source.dir, f.number, to)) report.linked++
        else report.copied++
        edit.addFile(level, f)
        if (eventLoopBudget.spent()) await eventLoopBudget.turn()
      }
    }
    let tableNumber = source.nextFileNumber
    for (const files of source.version.files) for (const f of files) tableNumber = Math.max(tableNumber, f.number + 1)
    made.push(tableFileName(dest, tableNumber))
    const table = await writeMemTablesAsOf(source.worker, dest, source.options, tableNumber, source.memtables, source.sequence)
    if (table !== undefined) {
      // The newest data: level 0 reads newest (highest number) first.
      edit.addFile(0, table)
      report.memtableBytes = table.fileSize
    }
    const manifestNumber = tableNumber + 1
    edit.logNumber = 0
    edit.prevLogNumber = 0
    edit.nextFileNumber = manifestNumber + 1
    edit.lastSequence = source.sequence
    made.push(descriptorFileName(dest, manifestNumber), tempFileName(dest, manifestNumber), currentFileName(dest))
    // Syncs the directory (the tables' names) before CURRENT names the MANIFEST; CURRENT last.
    await installNewManifest(fs, dest, manifestNumber, edit)
    if (created) await syncParent(fs, dest)
    return report
  } catch (err) {
    for (const p of made) try { fs.unlink(p) } catch {}
    if (created) try { fs.rmdir(dest) } catch {}
    throw fromFsError(`writing a checkpoint to ${dest}`, err)
  }
}

/** Checks dest (absent, or an empty directory, and not the source) and creates it; true when it created it. */
function prepareDestination (fs: FileSystem, dir: string, dest: string): boolean {
  let names: string[] | undefined
  try {
    names = fs.readdir(dest)
  } catch (err) {
    if (systemErrorCode(err) !== 'ENOENT') throw fromFsError(`reading ${dest}`, err)
  }
  if (names !== undefined) {
    if (fs.realpath(dest) === fs.realpath(dir)) throw invalidArgument(`${dest} is the database itself: a checkpoint needs another directory`)
    if (names.length > 0) throw invalidArgument(`${dest} is not empty: a checkpoint goes to a new or empty directory`)
    return false
  }
  try {
    fs.mkdir(dest)
  } catch (err) {
    throw fromFsError(`creating ${dest}`, err)
  }
  return true
}

/** Links table `number` (as .ldb, or .sst as LevelDB before 1.14 named it) to `to`, or copies it; true if linked. */
async function linkOrCopyTable (fs: FileSystem, dir: string, number: number, to: string): Promise<boolean> {
  let from = tableFileName(dir, number)
  if (!fs.exists(from) && fs.exists(sstTableFileName(dir, number))) from = sstTableFileName(dir, number)
  if (fs.link !== undefined) {
    try {
      fs.link(from, to)
      return true
    } catch (err) {
      // Not linkable here (another file system, no hard links, a link count at its limit): copy instead.
      if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes(systemErrorCode(err) ?? '')) throw fromFsError(`linking ${from} to ${to}`, err)
    }
  }
  await copyFile(fs, from, to)
  return false
}

/** Copies from to `to` a chunk per slice, and fdatasyncs the copy on the thread pool. */
async function copyFile (fs: FileSystem, from: string, to: string): Promise<void> {
  const input = fs.openRandomAccess(from)
  try {
    const output = fs.openWritable(to)
    try {
      const size = input.size()
      const buf = allocUnsafe(Math.min(COPY_CHUNK, Math.max(size, 1)))
      for (let at = 0; at < size;) {
        if (eventLoopBudget.spent()) await eventLoopBudget.turn()
        const n = input.read(buf, 0, Math.min(buf.length, size - at), at)
        if (n <= 0) throw fromFsError(`copying ${from}`, Object.assign(new Error(`${from} ended at ${at} of ${size} bytes`), { code: 'EIO' }))
        output.append(buf, 0, n)
        at += n
      }
      await output.syncAsync()
    } finally {
      output.close()
    }
  } finally {
    input.close()
  }
}

/** Makes dest's own name durable: its parent directory is synced. */
async function syncParent (fs: FileSystem, dest: string): Promise<void> {
  try {
    await fs.syncDirAsync(path.dirname(path.resolve(dest)))
  } catch (err) {
    throw fromFsError(`syncing the directory holding ${dest}`, err)
  }
}
