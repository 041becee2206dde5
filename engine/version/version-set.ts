// The VersionSet (LevelDB db/version_set.cc): the database's persistent state (log numbers, the file
// counter, the last sequence, the files of each level) recovered from the MANIFEST named by CURRENT,
// and changed only by appending a VersionEdit to the MANIFEST (fsynced) before it takes effect.
//
// Every open starts a new MANIFEST (numbered by the recovered next-file number, as LevelDB does)
// holding a snapshot record and the open's edit, and then switches CURRENT to it atomically
// (setCurrentFile: temp file, fsync, rename, directory fsync).
//
// Crash safety. The database on disk is what CURRENT's MANIFEST says plus the logs it says to replay.
// Files are made durable in this order ("sync" is fdatasync for a file, fsync for the directory):
//   1. A new table (a flush: table/build-table.ts; a compaction: run-compaction.ts; recovery and
//      repair alike) is written, synced and closed before it is reported. Until an edit names it, a crash
//      leaves only a file no version names, which the next open deletes or overwrites.
//   2. A new log (recovery.ts at every open, db.ts #switchMemtable at a switch) takes no write until its
//      name is durable: at open the edit of step 3 syncs the directory before the open resolves; at a
//      switch db.ts #switchSync first syncs the old log (if it holds unsynced writes) and the directory.
//      So a crash leaves every write of the old log before any of the new one's: a prefix.
//   3. An edit (logAndApply) is appended to the MANIFEST, the directory is synced (the names of the tables
//      and the log the edit lists), then the MANIFEST is synced. Only then is the edit applied: the version
//      installed, and what it makes obsolete (the logs below its log number, compaction inputs) deleted
//      (db.ts #removeObsoleteFiles). A crash before the MANIFEST sync leaves the previous state in force:
//      a torn last record is dropped as a torn tail, and every file that state names, the logs to replay
//      included, is still there, since nothing was deleted. (The record reaches the kernel before the
//      directory sync, as in LevelDB: this step relies on the file system not making it durable before
//      names created earlier, as a journal committed in order, ext4's for one, does not.)
//   4. A new MANIFEST (NewDB's MANIFEST-000001 and repair's, through installNewManifest; the first edit
//      after every open, through logAndApply) is complete and synced, with the directory, before CURRENT
//      names it. A crash before step 5 leaves CURRENT naming the old MANIFEST, still whole; the new one
//      is a file CURRENT does not name, which nothing reads (a later open or repair may take its number and
//      overwrite it).
//   5. CURRENT is replaced by setCurrentFile (current-file.ts): the name goes to NNNNNN.dbtmp, which is
//      synced and renamed over CURRENT, and the directory is synced. The rename is atomic: a crash leaves
//      the old CURRENT or the new one, each naming a complete, synced MANIFEST. A failed directory sync
//      after the rename is marked `committed`: CURRENT may already name the new MANIFEST, so the state
//      here follows it and nothing the new MANIFEST names is deleted.
//   6. Older MANIFESTs and logs, and tables no live version names, are deleted only after steps 3-5
//      (#removeObsoleteFiles after recovery and after each applied edit; never after a failed open, which
//      removes only the files it created).
// LevelDB (version_set.cc LogAndApply, db_impl.cc CompactMemTable, filename.cc SetCurrentFile,
// env_posix.cc SyncDirIfManifest) takes the same steps, except the sync of the old log at a switch (step 2)
// and the directory sync after CURRENT's rename (step 5), which it leaves to the next MANIFEST sync.
// docs/design.md, "Crash safety", gives the rules these steps keep.
import { corruption, type EngineError, fromFsError, invalidArgument } from '../errors'
import type { FileSystem, WritableFile } from '../fs/file-system'
import { LogReader } from '../log/reader'
import { readTailBytes } from '../log/tail-bytes'
import { LogWriter } from '../log/writer'
import type { TableCache } from '../table/table-cache'
import { finishSteps, runSteps } from '../util/steps'
import { currentManifestPath, setCurrentFile } from './current-file'
import { descriptorFileName } from '../filename'
import { Version, VersionBuilder } from './version'
import { NUM_LEVELS, VersionEdit } from './version-edit'

export const COMPARATOR_NAME = 'leveldb.BytewiseComparator'

export class VersionSet {
  readonly dir: string
  readonly fs: FileSystem
  nextFileNumber = 2
  manifestFileNumber = 0
  logNumber = 0
  prevLogNumber = 0
  lastSequence = 0
  /** The newest version: what new reads and iterators see. */
  current: Version
  compactPointers: Array<Uint8Array | undefined> = new Array(NUM_LEVELS).fill(undefined)
  /** Older versions still referenced (by iterators); their files must not be deleted. */
  readonly #older = new Set<Version>()
  #manifest?: { file: WritableFile, writer: LogWriter }
  /** The last logAndApply in flight (settled, never rejecting): the next one starts after it. */
  #manifestQueue: Promise<void> = Promise.resolve()

  constructor (dir: string, fs: FileSystem, tableCache: TableCache) {
    this.dir = dir
    this.fs = fs
    this.current = new Version(tableCache)
  }

  /** Numbers of every table some live version names. */
  liveFiles (): Set<number> {
    const live = new Set<number>()
    this.current.addLiveFiles(live)
    for (const v of this.#older) v.addLiveFiles(live)
    return live
  }

  newFileNumber (): number {
    return this.nextFileNumber++
  }

  markFileNumberUsed (n: number): void {
    if (this.nextFileNumber <= n) this.nextFileNumber = n + 1
  }

  /** Writes MANIFEST-000001 and CURRENT for a new database (LevelDB's NewDB), fsyncs on the thread pool. */
  async create (): Promise<void> {
    const edit = new VersionEdit()
    edit.comparator = COMPARATOR_NAME
    edit.logNumber = 0
    edit.nextFileNumber = 2
    edit.lastSequence = 0
    await installNewManifest(this.fs, this.dir, 1, edit)
  }

  /**
   * Reads CURRENT and replays the MANIFEST it names, returning what it read. Changes nothing on disk. The
   * MANIFEST is read on the thread pool where the file system can, and its edits applied in slices of the
   * event loop's budget: a large one (every flush and compaction since the last open) is thousands of edits.
   */
  async recover (): Promise<ManifestState> {
    const state = await readManifestAsync(this.fs, this.dir, this.current.tableCache, COMPARATOR_NAME)
    this.compactPointers = state.compactPointers
    this.#install(state.version)

    this.manifestFileNumber = state.nextFileNumber
    this.nextFileNumber = state.nextFileNumber + 1
    this.logNumber = state.logNumber
    this.prevLogNumber = state.prevLogNumber
    this.lastSequence = state.lastSequence
    this.markFileNumberUsed(this.logNumber)
    this.markFileNumberUsed(this.prevLogNumber)
    return state
  }

  /**
   * Records `edit` in the MANIFEST (starting a new one, and switching CURRENT, on the first call after
   * recovery), then applies it. The edit always carries the log numbers, next file and last sequence.
   */
  logAndApply (edit: VersionEdit): Promise<void> {
    // One edit at a time, in call order: each is written, synced and applied before the next is written.
    const done = this.#manifestQueue.then(() => this.#logAndApply(edit))
    this.#manifestQueue = done.catch(() => {})
    return done
  }

  async #logAndApply (edit: VersionEdit): Promise<void> {
    edit.logNumber ??= this.logNumber
    edit.prevLogNumber ??= this.prevLogNumber
    edit.nextFileNumber = this.nextFileNumber
    edit.lastSequence ??= this.lastSequence

    let created: string | undefined
    try {
      if (this.#manifest === undefined) {
        created = descriptorFileName(this.dir, this.manifestFileNumber)
        const file = this.fs.openWritable(created)
        const writer = new LogWriter(file)
        this.#manifest = { file, writer }
        const snapshot = this.#snapshotEdit().encode()
        writer.addRecord(snapshot, 0, snapshot.length)
      }
      const record = edit.encode()
      this.#manifest.writer.addRecord(record, 0, record.length)
      // The edit names files (tables, the new log) created since the directory was last synced: their
      // names must be durable before the MANIFEST that needs them is (LevelDB's SyncDirIfManifest).
      // Both fsyncs run on the thread pool: a slow disk never holds the event loop.
      await this.fs.syncDirAsync(this.dir)
      await this.#manifest.file.syncAsync()
      if (created !== undefined) await setCurrentFile(this.fs, this.dir, this.manifestFileNumber)
    } catch (err) {
      if ((err as EngineError).committed !== true) {
        if (created !== undefined) {
          this.#manifest?.file.close()
          this.#manifest = undefined
          try { this.fs.unlink(created) } catch {}
        }
        throw fromFsError('writing the MANIFEST', err)
      }
      // CURRENT already names the new MANIFEST, which holds the edit: the directory has changed, so the
      // state here must match it, and nothing the edit names may be deleted. Only durability failed.
      this.#applyLogged(edit)
      throw err
    }
    this.#applyLogged(edit)
  }

  /** Applies an edit that the MANIFEST now holds. */
  #applyLogged (edit: VersionEdit): void {
    for (const { level, key } of edit.compactPointers) this.compactPointers[level] = key
    this.#install(Version.apply(this.current, edit))
    this.logNumber = edit.logNumber!
    this.prevLogNumber = edit.prevLogNumber!
    this.lastSequence = Math.max(this.lastSequence, edit.lastSequence!)
  }

  /**
   * A follower's catch-up (engine/db/read-only.ts): makes `version`, read from the MANIFEST another
   * process writes, current, with the last sequence the follower replayed. Never writes.
   */
  follow (version: Version, lastSequence: number): void {
    this.#install(version)
    this.lastSequence = lastSequence
  }

  close (): void {
    this.#manifest?.file.close()
    this.#manifest = undefined
  }

  /** Makes v current; the previous version lives on while something still references it. */
  #install (v: Version): void {
    const old = this.current
    v.onUnreferenced = (x) => { if (x !== this.current) this.#older.delete(x) }
    this.current = v
    if (old !== v && old.refs > 0) this.#older.add(old)
  }

  /** The first record of a new MANIFEST: the comparator, compact pointers and every live file. */
  #snapshotEdit (): VersionEdit {
    const edit = new VersionEdit()
    edit.comparator = COMPARATOR_NAME
    this.compactPointers.forEach((key, level) => { if (key !== undefined) edit.compactPointers.push({ level, key }) })
    this.current.files.forEach((files, level) => { for (const file of files) edit.addFile(level, file) })
    return edit
  }
}

/**
 * Writes MANIFEST-<number> holding `edit` alone, fsyncs it and the directory (so that its name, and the
 * names of the files the edit lists, are durable before CURRENT names it), and points CURRENT at it:
 * LevelDB's NewDB, RepairDB's WriteDescriptor and a checkpoint's. Every fsync runs on the thread pool: the
 * event loop never waits for the disk. A failure before CURRENT changed removes the MANIFEST; a failure
 * after it is marked `committed` (see setCurrentFile).
 */
export async function installNewManifest (fs: FileSystem, dir: string, number: number, edit: VersionEdit): Promise<void> {
  const name = descriptorFileName(dir, number)
  try {
    const file = writeManifestFile(fs, name, edit)
    try {
      await file.syncAsync()
    } finally {
      file.close()
    }
    await fs.syncDirAsync(dir)
    await setCurrentFile(fs, dir, number)
  } catch (err) {
    throw manifestFailure(fs, name, err)
  }
}

/** MANIFEST `name` holding `edit` alone, written and still open (the caller syncs and closes it). */
function writeManifestFile (fs: FileSystem, name: string, edit: VersionEdit): WritableFile {
  const file = fs.openWritable(name)
  try {
    const record = edit.encode()
    new LogWriter(file).addRecord(record, 0, record.length)
  } catch (err) {
    file.close()
    throw err
  }
  return file
}

/** A new MANIFEST's failure: removed unless CURRENT already names it (deleting it would leave CURRENT naming nothing). */
function manifestFailure (fs: FileSystem, name: string, err: unknown): EngineError {
  if ((err as EngineError).committed !== true) try { fs.unlink(name) } catch {}
  return fromFsError(`writing ${name}`, err)
}

/** The state a MANIFEST describes once all its edits are applied (LevelDB's VersionSet::Recover, before it takes effect). */
export interface ManifestState {
  /** The MANIFEST CURRENT names: its path and number. */
  manifestPath: string
  manifestNumber: number
  /** Bytes of it read: a writer that appends an edit makes the file longer. */
  bytes: number
  /** Where the next edit begins: the end of the last whole record (readManifestTail reads on from there). */
  end: number
  /** The comparator its edits name (the last one that does), if any does. */
  comparator: string | undefined
  logNumber: number
  prevLogNumber: number
  nextFileNumber: number
  lastSequence: number
  compactPointers: Array<Uint8Array | undefined>
  version: Version
  /** Records read, and where a torn tail began (-1 if none: a writer may be appending to it). */
  edits: number
  tornAt: number
}

/**
 * Reads CURRENT and replays the MANIFEST it names into a version over `tableCache`. Changes nothing on
 * disk and takes no lock, so tools can read a database another process has open. With `comparator`, an
 * edit naming another one fails with LEVEL_INVALID_ARGUMENT, as LevelDB's open does.
 */
export function readManifest (fs: FileSystem, dir: string, tableCache: TableCache, comparator?: string): ManifestState {
  const manifestPath = currentManifestPath(fs, dir)
  let data: Uint8Array
  try {
    data = fs.readFile(manifestPath)
  } catch (err) {
    throw fromFsError(`reading ${manifestPath}`, err)
  }
  return finishSteps(manifestSteps(data, 0, newManifestFields(manifestPath, tableCache), comparator))
}

/**
 * readManifest for the main thread: the MANIFEST read on the thread pool where the file system can, and its
 * records applied in slices of the event loop's budget (engine/util/event-loop-budget.ts).
 */
export async function readManifestAsync (fs: FileSystem, dir: string, tableCache: TableCache, comparator?: string): Promise<ManifestState> {
  const manifestPath = currentManifestPath(fs, dir)
  let data: Uint8Array
  try {
    data = fs.readFileAsync !== undefined ? await fs.readFileAsync(manifestPath) : fs.readFile(manifestPath)
  } catch (err) {
    throw fromFsError(`reading ${manifestPath}`, err)
  }
  return await runSteps(manifestSteps(data, 0, newManifestFields(manifestPath, tableCache), comparator))
}

/** Nothing set yet: what a MANIFEST's first record starts from. */
function newManifestFields (manifestPath: string, tableCache: TableCache): ManifestFields {
  return {
    manifestPath,
    manifestNumber: Number(manifestPath.slice(manifestPath.lastIndexOf('MANIFEST-') + 9)),
    comparator: undefined,
    logNumber: undefined,
    prevLogNumber: undefined,
    nextFileNumber: undefined,
    lastSequence: undefined,
    compactPointers: new Array<Uint8Array | undefined>(NUM_LEVELS).fill(undefined),
    version: new Version(tableCache),
    edits: 0
  }
}

/**
 * What the edits appended to `state`'s MANIFEST since it was read make of it (a follower's catch-up:
 * engine/db/read-only.ts): the records from `state.end` on, applied to `state`, which is not changed.
 * `state` itself when the file has not grown. File system errors are thrown as they come (ENOENT: the
 * writer started a new MANIFEST and deleted this one).
 */
export function readManifestTail (fs: FileSystem, state: ManifestState, comparator?: string): ManifestState {
  const data = readTailBytes(fs, state.manifestPath, state.end, state.bytes)
  if (data === undefined) return state
  return finishSteps(manifestSteps(data, state.end, { ...state, compactPointers: [...state.compactPointers] }, comparator))
}

/** The numbers a MANIFEST's edits have set so far (undefined: not yet set). */
interface ManifestFields {
  manifestPath: string
  manifestNumber: number
  comparator: string | undefined
  logNumber: number | undefined
  prevLogNumber: number | undefined
  nextFileNumber: number | undefined
  lastSequence: number | undefined
  compactPointers: Array<Uint8Array | undefined>
  version: Version
  edits: number
}

/**
 * Applies the MANIFEST records of `data` from `start` to `fields` (changed in place) and checks the result
 * is whole; yields after each record, where an async reader may give the event loop a turn.
 */
function * manifestSteps (data: Uint8Array, start: number, fields: ManifestFields, comparator: string | undefined): Generator<void, ManifestState, void> {
  const { manifestPath } = fields
  const reader = new LogReader(data, manifestPath, undefined, start)
  const builder = new VersionBuilder(fields.version)
  for (let record = reader.readRecord(); record !== undefined; record = reader.readRecord()) {
    const edit = VersionEdit.decode(record, `${manifestPath} record at offset ${reader.recordOffset}`)
    fields.edits++
    if (edit.comparator !== undefined) {
      if (comparator !== undefined && edit.comparator !== comparator) {
        throw invalidArgument(`${edit.comparator} does not match existing comparator ${comparator}`)
      }
      fields.comparator = edit.comparator
    }
    builder.apply(edit)
    for (const { level, key } of edit.compactPointers) fields.compactPointers[level] = key
    if (edit.logNumber !== undefined) fields.logNumber = edit.logNumber
    if (edit.prevLogNumber !== undefined) fields.prevLogNumber = edit.prevLogNumber
    if (edit.nextFileNumber !== undefined) fields.nextFileNumber = edit.nextFileNumber
    if (edit.lastSequence !== undefined) fields.lastSequence = edit.lastSequence
    yield
  }
  const { nextFileNumber, logNumber, lastSequence } = fields
  if (nextFileNumber === undefined) throw corruption(`no meta-nextfile entry in descriptor ${manifestPath}`)
  if (logNumber === undefined) throw corruption(`no meta-lognumber entry in descriptor ${manifestPath}`)
  if (lastSequence === undefined) throw corruption(`no last-sequence-number entry in descriptor ${manifestPath}`)
  return {
    ...fields,
    bytes: data.length,
    end: reader.resumeAt,
    logNumber,
    prevLogNumber: fields.prevLogNumber ?? 0,
    nextFileNumber,
    lastSequence,
    version: builder.build(),
    tornAt: reader.tornAt
  }
}
