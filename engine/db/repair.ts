// RepairDB (LevelDB db/repair.cc; docs/design.md, "Repair"): rebuilds a database's MANIFEST and CURRENT
// from the logs and tables found in its directory, salvaging what can still be read.
//
//   1. List the directory. A missing directory fails (ENOENT, "no such file or directory"); a directory
//      holding no name LevelDB recognises fails with "repair found no files" and is left untouched.
//      Otherwise take LOCK (LevelDB does not; rough-level never lets two handles change one directory)
//      and list again.
//   2. Convert every log to level-0 tables as recovery replays it (engine/db/replay.ts: on the flush
//      worker), reading it with checksums on and resyncing at the next 32 KiB block after damage (as
//      LevelDB's log::Reader does), so that every record outside a damaged region is kept. Records too
//      short to be a batch, batches that do not parse and batches that do not follow the last one are
//      dropped whole, never half-applied. The tables are fsynced before anything else changes.
//   3. Scan every table with checksums on, block by block (Table.walk): its smallest and largest keys and
//      largest sequence. A table whose footer or index cannot be read is archived to lost/. A table with
//      damaged data blocks (or keys that do not parse, or keys out of order) is rewritten with every
//      entry that can be read, and the original archived (LevelDB's RepairTable).
//   4. Write a new MANIFEST (one record: comparator, log number 0, next file number past every number
//      in use, last sequence = the largest seen, every table at level 0) and switch CURRENT to it
//      atomically (installNewManifest, as a new database's). Only then archive the old MANIFESTs and the
//      converted logs to lost/, so that a crash at any point leaves either the old database or the
//      repaired one (plus, at worst, files a second repair finds again).
// The event loop gets its turns throughout: between batches of a log and between blocks of a table.
// What it does goes to the info log in LevelDB's words: LOG becomes LOG.old and a new LOG is written, as
// LevelDB's Repairer (through SanitizeOptions) does, unless the options say infoLog: false.
//
// Differences from LevelDB, all on the side of safety: logs are read with checksums on (LevelDB passes
// false despite its comment), tables with checksums on; the new MANIFEST takes a fresh number instead of
// overwriting MANIFEST-000001; nothing already in lost/ is overwritten; the MANIFEST is fsynced.
import path = require('path')  // Not 'node:', which webpack's `browser` field swap misses
import { BackgroundWorker } from '../background/background'
import { buildTableOptions, type BuildTableOptions } from '../table/build-table'
import { replayLog } from './replay'
import { fromFsError, ioError, isDamage } from '../errors'
import { InfoLog } from '../info-log'
import type { FileSystem, RandomAccessFile } from '../fs/file-system'
import { compareInternalKeys, TAG_BYTES, tagSequence, tagType, ValueType } from '../internal-key'
import { acquireLock } from '../fs/lock'
import { sanitizeOptions, type DbOptions, type DbOptionsInput } from '../options'
import type { BlockHandle } from '../table/format'
import { Table, type TableWalker } from '../table/table'
import { TableBuilder } from '../table/table-builder'
import {
  descriptorFileName, FileType, logFileName, parseFileName, sstTableFileName, tableFileName
} from '../filename'
import { VersionEdit, type FileMetaData } from '../version/version-edit'
import { COMPARATOR_NAME, installNewManifest } from '../version/version-set'
import { eventLoopBudget } from '../util/event-loop-budget'
import { runSteps } from '../util/steps'

/** What happened to one log. */
export interface RepairedLog {
  number: number
  /** Tables written from it (none when it held no readable batch). */
  tables: number[]
  /** Batches (log records) applied, and the entries they held. */
  batches: number
  entries: number
  /** Records dropped whole: too short for a batch, a batch that does not parse, or a sequence out of order. */
  droppedRecords: number
  /** Bytes skipped because they failed a check (damage, a torn tail, fragments without their start). */
  droppedBytes: number
  /** Set when the log could not be converted at all (it is archived anyway, as LevelDB does). */
  error?: string
}

/** A table rewritten with the entries that could be read. */
export interface SalvagedTable {
  number: number
  /** The new file's size, entries copied, and what was left behind. */
  fileSize: number
  entries: number
  droppedBlocks: number
  droppedBlockBytes: number
  /** Entries skipped in readable blocks: keys that do not parse, or out of order. */
  droppedEntries: number
}

export interface ArchivedTable {
  number: number
  reason: string
}

export interface RepairReport {
  /** Tables kept as they were (numbers), including those written from logs. */
  tablesKept: number[]
  /** Tables rewritten with their readable entries (the damaged original is in lost/). */
  tablesSalvaged: SalvagedTable[]
  /** Tables moved to lost/ with nothing kept. */
  tablesArchived: ArchivedTable[]
  logsConverted: RepairedLog[]
  /** Names of the MANIFESTs moved to lost/. */
  manifestsArchived: string[]
  /** The new MANIFEST's file name, e.g. MANIFEST-000012. */
  manifest: string
  /** Every table the new MANIFEST names (all at level 0). */
  files: FileMetaData[]
  lastSequence: number
  nextFileNumber: number
  /** Totals over logs and tables. */
  droppedBytes: number
  droppedRecords: number
}

/** Told after each log is converted and each table scanned (for a progress display). */
export type RepairProgress = (file: { kind: 'log' | 'table', number: number }) => void

/** The repair of the database in dir. Rejects when dir is missing or holds nothing LevelDB recognises. */
export async function repairDb (dir: string, input?: DbOptionsInput, onProgress?: RepairProgress): Promise<RepairReport> {
  const options = sanitizeOptions(input)
  const fs = options.fs
  // Decide before creating anything (LOCK): a directory of someone else's files stays as it was.
  const before = listDir(fs, dir)
  if (!before.some((name) => parseFileName(name) !== undefined)) throw ioError(`${dir}: repair found no files`)
  const lock = await acquireLock(dir, fs)
  const info = options.infoLog ? new InfoLog(fs, dir) : InfoLog.disabled
  info.start()
  // Writes the tables converted from logs, as it writes a Db's flushes.
  const worker = new BackgroundWorker()
  try {
    return await new Repairer(dir, options, worker, info, onProgress).run()
  } catch (err) {
    info.log(`Repair failed: ${message(err)}`)
    throw err
  } finally {
    info.close()
    await worker.close()
    await lock.release()
  }
}

function listDir (fs: FileSystem, dir: string): string[] {
  try {
    return fs.readdir(dir)
  } catch (err) {
    throw fromFsError(`listing ${dir}`, err)
  }
}

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

interface ScannedTable {
  meta: FileMetaData
  maxSequence: number
}

class Repairer {
  readonly #dir: string
  readonly #options: DbOptions
  readonly #fs: FileSystem
  readonly #build: BuildTableOptions
  readonly #worker: BackgroundWorker
  readonly #onProgress: RepairProgress | undefined
  readonly #info: InfoLog
  #nextFileNumber = 1
  readonly #manifests: string[] = []
  readonly #logs: number[] = []
  readonly #tableNumbers: number[] = []
  readonly #tables: ScannedTable[] = []
  readonly #report: RepairReport = {
    tablesKept: [],
    tablesSalvaged: [],
    tablesArchived: [],
    logsConverted: [],
    manifestsArchived: [],
    manifest: '',
    files: [],
    lastSequence: 0,
    nextFileNumber: 0,
    droppedBytes: 0,
    droppedRecords: 0
  }

  constructor (dir: string, options: DbOptions, worker: BackgroundWorker, info: InfoLog, onProgress?: RepairProgress) {
    this.#dir = dir
    this.#info = info
    this.#onProgress = onProgress
    this.#options = options
    this.#fs = options.fs
    this.#build = buildTableOptions(options)
    this.#worker = worker
  }

  /** Repairs, giving the event loop its turns between files and within them. */
  async run (): Promise<RepairReport> {
    this.#findFiles()
    for (const number of this.#logs) {
      await this.#convertLog(number)
      this.#onProgress?.({ kind: 'log', number })
      await eventLoopBudget.pause()
    }
    for (const number of this.#tableNumbers) {
      await this.#scanTable(number)
      this.#onProgress?.({ kind: 'table', number })
      await eventLoopBudget.pause()
    }
    await this.#writeDescriptor()
    // CURRENT now names the new MANIFEST: what it replaces can go to lost/.
    for (const name of this.#manifests) {
      if (this.#archive(path.join(this.#dir, name))) this.#report.manifestsArchived.push(name)
    }
    for (const number of this.#logs) this.#archive(logFileName(this.#dir, number))
    try { await this.#fs.syncDirAsync(this.#dir) } catch (err) { throw fromFsError(`syncing ${this.#dir}`, err) }
    let bytes = 0
    for (const t of this.#tables) bytes += t.meta.fileSize
    this.#info.log(`**** Repaired leveldb ${this.#dir}; recovered ${this.#tables.length} files; ${bytes} bytes. ` +
      'Some data may have been lost. ****')
    return this.#report
  }

  #findFiles (): void {
    const names = listDir(this.#fs, this.#dir)
    const tables = new Set<number>()
    for (const name of names) {
      const parsed = parseFileName(name)
      if (parsed === undefined) continue
      if (parsed.type === FileType.Descriptor) {
        this.#manifests.push(name)
        continue
      }
      if (parsed.number + 1 > this.#nextFileNumber) this.#nextFileNumber = parsed.number + 1
      if (parsed.type === FileType.Log) this.#logs.push(parsed.number)
      else if (parsed.type === FileType.Table) tables.add(parsed.number)
    }
    // Oldest first, so that tables written from logs come out numbered in the logs' order.
    this.#logs.sort((a, b) => a - b)
    this.#tableNumbers.push(...[...tables].sort((a, b) => a - b))
  }

  // ---- Step 2: logs to tables ----

  async #convertLog (number: number): Promise<void> {
    const name = logFileName(this.#dir, number)
    const result: RepairedLog = { number, tables: [], batches: 0, entries: 0, droppedRecords: 0, droppedBytes: 0 }
    this.#report.logsConverted.push(result)
    let data: Uint8Array
    try {
      data = this.#fs.readFile(name)
    } catch (err) {
      result.error = fromFsError(`reading ${name}`, err).message
      this.#info.log(`Log #${number}: ignoring conversion error: ${result.error}`)
      return
    }
    const info = this.#info
    const replayed = await replayLog(data, name, {
      dir: this.#dir,
      options: this.#options,
      worker: this.#worker,
      newFileNumber: () => this.#nextFileNumber++,
      added: (table) => {
        result.tables.push(table.number)
        this.#tableNumbers.push(table.number)
      },
      info
    }, {
      // Damage is skipped and counted, and reading goes on; a record that is not a batch is dropped whole.
      corruption: (offset, end, error) => {
        result.droppedBytes += end - offset
        info.log(`Log #${number}: dropping ${end - offset} bytes; ${error.message}`)
      },
      badBatch: (_offset, _bytes, error) => {
        result.droppedRecords++
        info.log(`Log #${number}: ignoring ${error.message}`)
      }
    })
    result.batches = replayed.batches
    result.entries = replayed.entries
    // A torn tail (a write a crash cut short) is dropped too.
    if (replayed.tornAt >= 0) result.droppedBytes += data.length - replayed.tornAt
    info.log(`Log #${number}: ${replayed.entries} ops saved to ${result.tables.length === 0 ? 'no table' : 'Table #' + result.tables.join(', #')} OK`)
    this.#report.droppedBytes += result.droppedBytes
    this.#report.droppedRecords += result.droppedRecords
  }

  // ---- Step 3: scan tables ----

  async #scanTable (number: number): Promise<void> {
    let fileName = tableFileName(this.#dir, number)
    if (!this.#fs.exists(fileName)) fileName = sstTableFileName(this.#dir, number)
    const archiveBoth = (reason: string): void => {
      this.#info.log(`Table #${number}: dropped: ${reason}`)
      this.#archive(tableFileName(this.#dir, number))
      this.#archive(sstTableFileName(this.#dir, number))
      this.#report.tablesArchived.push({ number, reason })
    }
    let file: RandomAccessFile
    try {
      file = this.#fs.openRandomAccess(fileName)
    } catch (err) {
      archiveBoth(fromFsError(`opening ${fileName}`, err).message)
      return
    }
    let table: Table
    try {
      // Without its footer and index no entry can be found. The filter is not needed to scan: leaving it
      // out means a damaged filter costs nothing.
      table = Table.open(file, file.size(), fileName, { verifyChecksums: true, useFilter: false })
    } catch (err) {
      const size = safeSize(file)
      try { file.close() } catch {}
      if (!isDamage(err)) throw err
      archiveBoth(message(err))
      this.#report.droppedBytes += size
      return
    }
    try {
      const scan = new TableScan()
      try {
        await runSteps(table.walk(scan)) // a turn between blocks once the slice is spent
      } catch (err) {
        if (!isDamage(err)) throw err
        archiveBoth(message(err))
        this.#report.droppedBytes += table.fileSize
        return
      }
      if (scan.entries === 0) {
        archiveBoth(scan.damaged ? 'no readable entries' : 'no entries')
        this.#report.droppedBytes += scan.droppedBlockBytes
        this.#report.droppedRecords += scan.droppedEntries
        return
      }
      if (!scan.damaged) {
        this.#tables.push({
          meta: { number, fileSize: table.fileSize, smallest: scan.smallest, largest: scan.largest },
          maxSequence: scan.maxSequence
        })
        this.#report.tablesKept.push(number)
        this.#info.log(`Table #${number}: ${scan.entries} entries OK`)
        return
      }
      await this.#repairTable(number, fileName, table)
    } finally {
      table.close()
    }
  }

  /** Copies the readable entries of a damaged table into a new one that takes the original's number. */
  async #repairTable (number: number, fileName: string, table: Table): Promise<void> {
    const copyNumber = this.#nextFileNumber++
    const copy = tableFileName(this.#dir, copyNumber)
    let scan: TableScan
    let fileSize: number
    try {
      const out = this.#fs.openWritable(copy)
      const builder = new TableBuilder(this.#build, out)
      scan = new TableScan((key, keyOff, keyLen, value, valueOff, valueLen) => {
        builder.add(key, keyOff, keyLen, value, valueOff, valueLen)
      })
      try {
        await runSteps(table.walk(scan)) // a turn between blocks once the slice is spent
        fileSize = builder.finish()
        out.sync()
      } catch (err) {
        builder.abandon()
        throw err
      } finally {
        out.close()
      }
    } catch (err) {
      try { this.#fs.unlink(copy) } catch {}
      throw fromFsError(`writing ${copy}`, err)
    }
    const target = tableFileName(this.#dir, number)
    this.#archive(fileName)
    if (target !== fileName) this.#archive(target)
    try {
      this.#fs.rename(copy, target)
    } catch (err) {
      throw fromFsError(`renaming ${copy} to ${target}`, err)
    }
    this.#tables.push({ meta: { number, fileSize, smallest: scan.smallest, largest: scan.largest }, maxSequence: scan.maxSequence })
    this.#report.tablesSalvaged.push({
      number,
      fileSize,
      entries: scan.entries,
      droppedBlocks: scan.droppedBlocks,
      droppedBlockBytes: scan.droppedBlockBytes,
      droppedEntries: scan.droppedEntries
    })
    this.#report.droppedBytes += scan.droppedBlockBytes
    this.#report.droppedRecords += scan.droppedEntries
    this.#info.log(`Table #${number}: ${scan.entries} entries repaired (${scan.droppedBlocks} damaged blocks, ${scan.droppedEntries} bad entries dropped)`)
  }

  // ---- Step 4: the new MANIFEST ----

  async #writeDescriptor (): Promise<void> {
    let maxSequence = 0
    for (const t of this.#tables) maxSequence = Math.max(maxSequence, t.maxSequence)
    const manifestNumber = this.#nextFileNumber++
    const edit = new VersionEdit()
    edit.comparator = COMPARATOR_NAME
    edit.logNumber = 0
    edit.nextFileNumber = this.#nextFileNumber
    edit.lastSequence = maxSequence
    for (const t of this.#tables) edit.addFile(0, t.meta)

    // Its directory fsync makes every table written or renamed here durable before CURRENT names them.
    await installNewManifest(this.#fs, this.#dir, manifestNumber, edit)
    const report = this.#report
    report.manifest = path.basename(descriptorFileName(this.#dir, manifestNumber))
    report.files = this.#tables.map((t) => t.meta)
    report.lastSequence = maxSequence
    report.nextFileNumber = this.#nextFileNumber
  }

  /** Moves a file into dir/lost/ under a name not already there; false if it does not exist or cannot be moved. */
  #archive (file: string): boolean {
    const fs = this.#fs
    if (!fs.exists(file)) return false
    const lost = path.join(path.dirname(file), 'lost')
    try {
      fs.mkdir(lost)
      const base = path.basename(file)
      let target = path.join(lost, base)
      for (let i = 1; fs.exists(target); i++) target = path.join(lost, `${base}.${i}`)
      fs.rename(file, target)
      this.#info.log(`Archiving ${file}: OK`)
      return true
    } catch (err) {
      this.#info.log(`Archiving ${file}: ${message(err)}`)
      return false
    }
  }
}

function safeSize (file: RandomAccessFile): number {
  try { return file.size() } catch { return 0 }
}

type EntryVisitor = (key: Uint8Array, keyOff: number, keyLen: number, value: Uint8Array, valueOff: number, valueLen: number) => void

/**
 * What one walk over a table found. An entry is kept when its key parses (type value or deletion,
 * sequence below 2^53) and sorts after the last kept key; each kept entry goes to `keep`.
 */
class TableScan implements TableWalker {
  entries = 0
  droppedBlocks = 0
  droppedBlockBytes = 0
  droppedEntries = 0
  smallest = new Uint8Array(0)
  maxSequence = 0
  #last = new Uint8Array(64)
  #lastLen = -1
  readonly #keep: EntryVisitor | undefined

  constructor (keep?: EntryVisitor) {
    this.#keep = keep
  }

  get damaged (): boolean {
    return this.droppedBlocks > 0 || this.droppedEntries > 0
  }

  /** The last key kept. */
  get largest (): Uint8Array {
    return this.#last.slice(0, Math.max(0, this.#lastLen))
  }

  entry (key: Uint8Array, keyOff: number, keyLen: number, value: Uint8Array, valueOff: number, valueLen: number): void {
    const end = keyOff + keyLen
    if (!parses(key, keyLen, end) ||
      (this.#lastLen >= 0 && compareInternalKeys(this.#last, 0, this.#lastLen, key, keyOff, keyLen) >= 0)) {
      this.droppedEntries++
      return
    }
    if (keyLen > this.#last.length) this.#last = new Uint8Array(Math.max(keyLen, this.#last.length * 2))
    this.#last.set(key.subarray(keyOff, end), 0)
    this.#lastLen = keyLen
    if (this.entries === 0) this.smallest = key.slice(keyOff, end)
    this.entries++
    this.maxSequence = Math.max(this.maxSequence, tagSequence(key, end))
    this.#keep?.(key, keyOff, keyLen, value, valueOff, valueLen)
  }

  damagedBlock (handle: BlockHandle | undefined): void {
    this.droppedBlocks++
    this.droppedBlockBytes += handle?.size ?? 0
  }
}

/** True when an internal key (ending at `end`) parses as LevelDB's ParseInternalKey requires, with a sequence that fits a JS number. */
function parses (key: Uint8Array, keyLen: number, end: number): boolean {
  if (keyLen < TAG_BYTES) return false
  const type = tagType(key, end)
  if (type !== ValueType.Value && type !== ValueType.Deletion) return false
  try {
    tagSequence(key, end)
    return true
  } catch {
    return false
  }
}
