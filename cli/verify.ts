// rough-level verify <dir>: reads every block of every live table and every record of every live log
// (and the MANIFEST) with checksums on, and says what is damaged: the file, the offset, and what was
// lost there. Exit status 1 if anything is. Reads the files without the lock and changes nothing, so it
// can check a database that is open elsewhere (a table its writer deletes meanwhile is not counted).
// When the MANIFEST itself cannot be read, every table and log in the directory is checked instead.
import fs = require('node:fs')
import path = require('node:path')
import { compareInternalKeys, TAG_BYTES, ValueType } from '../engine/internal-key'
import { BlockIterator } from '../engine/table/block'
import { FileType, logFileName, parseFileName } from '../engine/filename'
import type { FileMetaData } from '../engine/version/version-edit'
import { BatchReader } from '../engine/db/write-batch'
import { type ByteFormat, formatBytes } from './byte-format'
import { type Command, JSON_OPTION, type ParsedArgs } from './command'
import { type DbState, fileSize, listDir, readDbState, readWholeFile } from './db-state'
import { EXIT_FAILURE, EXIT_OK, levelCode } from './errors'
import { splitInternalKey } from './internal-key-text'
import { walkLog } from './log-walk'
import type { Output } from './output'
import { formatSize, Progress } from './progress'
import { errorMessage, TableInspector } from './table-inspector'

export interface Problem {
  file: string
  offset?: number
  /** Bytes [offset, end) are affected, when known. */
  end?: number
  reason: string
  /** What cannot be read because of it. */
  lost: string
}

interface TableToCheck {
  number: number
  path: string | undefined
  /** What the MANIFEST says about it (undefined when checking files the MANIFEST does not name). */
  meta: FileMetaData | undefined
}

interface Counts {
  tables: number
  tableBytes: number
  blocks: number
  entries: number
  logs: number
  logBytes: number
  records: number
  logEntries: number
}

export const verify: Command = {
  name: 'verify',
  summary: 'Read every block of every live table and every log record with checksums on; report damage (exit 1).',
  args: '<dir>',
  options: {
    ...JSON_OPTION,
    format: { type: 'string', value: 'utf8|hex|base64', description: 'how keys in reports are written (default utf8)' }
  },
  details: [
    'Checks the MANIFEST, every table it names (file present with the recorded size, footer, index,',
    'metaindex, filter, every data block, every entry parsed and in order within the recorded range) and',
    'every log a recovery would replay (every record, every batch). Takes no lock and changes nothing.',
    'Prints each damaged place (file, offset, what is lost there) and a summary; exit status 1 if any.',
    'A torn log tail (a write a crash cut short, which an open drops) is noted, not counted as damage.',
    '`rough-level repair <dir>` salvages what can be read.'
  ],
  examples: ['rough-level verify ./db', 'rough-level verify ./db --json'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const dir = args.positionals[0]
    const format = args.byteFormat('key')
    const problems: Problem[] = []
    const notes: string[] = []
    const counts: Counts = { tables: 0, tableBytes: 0, blocks: 0, entries: 0, logs: 0, logBytes: 0, records: 0, logEntries: 0 }

    let state: DbState | undefined
    let tables: TableToCheck[]
    let logs: string[]
    try {
      state = readDbState(dir)
      const m = state.manifest
      if (m.tornAt >= 0) notes.push(`${path.basename(m.manifestPath)}: torn tail at offset ${m.tornAt} (an edit a crash cut short)`)
      tables = m.version.files.flat().map((meta) => ({ number: meta.number, path: state!.tableFiles.get(meta.number), meta }))
      logs = state.liveLogs.map((n) => logFileName(dir, n))
    } catch (err) {
      if (levelCode(err) === 'LEVEL_IO_ERROR' && !fs.existsSync(dir)) throw err
      problems.push({ file: 'MANIFEST', reason: errorMessage(err), lost: 'the list of live tables and the database\'s numbers; every table and log in the directory is checked instead' })
      const names = listDir(dir)
      tables = []
      logs = []
      for (const name of names) {
        const p = parseFileName(name)
        if (p?.type === FileType.Table) tables.push({ number: p.number, path: path.join(dir, name), meta: undefined })
        if (p?.type === FileType.Log) logs.push(path.join(dir, name))
      }
    }

    let total = 0
    for (const t of tables) total += fileSize(t.path)
    for (const l of logs) total += fileSize(l)
    const progress = Progress.onStderr('verify', 'bytes', total)
    try {
      for (const t of tables) checkTable(t, format, problems, counts, progress)
      for (const l of logs) checkLog(l, problems, notes, counts, progress)
    } finally {
      progress.finish()
    }

    // A writer may have compacted a table away (or retired a log) while we read: only what is still
    // live counts as missing.
    if (state !== undefined && problems.some((p) => p.reason.startsWith('missing'))) {
      let live = new Set<number>()
      try {
        live = new Set(readDbState(dir).manifest.version.files.flat().map((f) => f.number))
      } catch {} // unreadable now: keep reporting what was missing
      for (let i = problems.length - 1; i >= 0; i--) {
        const p = problems[i]
        const n = parseFileName(path.basename(p.file))?.number
        if (p.reason.startsWith('missing') && n !== undefined && live.size > 0 && !live.has(n)) {
          problems.splice(i, 1)
          notes.push(`${path.basename(p.file)}: deleted by the database's writer during the check`)
        }
      }
    }

    const summary = `checked ${counts.tables} tables (${formatSize(counts.tableBytes)}, ${counts.blocks} blocks, ${counts.entries} entries) and ` +
      `${counts.logs} ${counts.logs === 1 ? 'log' : 'logs'} (${formatSize(counts.logBytes)}, ${counts.records} records, ${counts.logEntries} entries)`
    if (args.flag('json')) {
      await out.line(JSON.stringify({ ok: problems.length === 0, dir: path.resolve(dir), ...counts, problems, notes }))
    } else {
      for (const p of problems) {
        await out.line(`damaged: ${p.file}${p.offset === undefined ? '' : ` at offset ${p.offset}`}: ${p.reason}\n  lost: ${p.lost}`)
      }
      for (const n of notes) await out.line(`note: ${n}`)
      await out.line(summary)
      await out.line(problems.length === 0 ? 'OK: no damage found' : `${problems.length} damaged ${problems.length === 1 ? 'place' : 'places'}: \`rough-level repair ${dir}\` keeps what can be read`)
    }
    return problems.length === 0 ? EXIT_OK : EXIT_FAILURE
  }
}


/** An internal key's user key, quoted, in `format`. */
function userKeyText (ikey: Uint8Array, format: ByteFormat): string {
  return `'${formatBytes(ikey.subarray(0, Math.max(0, ikey.length - TAG_BYTES)), format)}'`
}

/** The entries between two internal keys (either end open), as a reader is told what was lost. */
function rangeText (from: Uint8Array | undefined, to: Uint8Array | undefined, format: ByteFormat): string {
  const k = (ikey: Uint8Array): string => userKeyText(ikey, format)
  if (from === undefined && to === undefined) return 'all its entries'
  if (from === undefined) return `the entries with keys up to ${k(to!)}`
  if (to === undefined) return `the entries with keys after ${k(from)}`
  return `the entries with keys after ${k(from)} up to ${k(to)}`
}

function checkTable (t: TableToCheck, format: ByteFormat, problems: Problem[], counts: Counts, progress: Progress): void {
  const name = t.path ?? `${String(t.number).padStart(6, '0')}.ldb`
  const whole = t.meta === undefined ? 'every entry of the table' : `every entry of the table (keys ${userKeyText(t.meta.smallest, format)} to ${userKeyText(t.meta.largest, format)})`
  if (t.path === undefined) {
    problems.push({ file: name, reason: 'missing: the MANIFEST names this table but there is no such file (.ldb or .sst)', lost: whole })
    return
  }
  const start = progress.done
  let table: TableInspector
  try {
    table = TableInspector.open(t.path)
  } catch (err) {
    problems.push({ file: t.path, reason: errorMessage(err), lost: `${whole}: its footer or index cannot be read` })
    progress.update(start + fileSize(t.path))
    return
  }
  try {
    counts.tables++
    counts.tableBytes += table.fileSize
    if (t.meta !== undefined && table.fileSize !== t.meta.fileSize) {
      problems.push({ file: t.path, reason: `size ${table.fileSize} bytes, but the MANIFEST says ${t.meta.fileSize}`, lost: `${whole}: a database will not open a table of the wrong size` })
    }
    if (table.metaError !== undefined) problems.push({ file: t.path, reason: table.metaError, lost: 'the metaindex (and so the filter): a database refuses the table until it is repaired' })
    if (table.filterError !== undefined) problems.push({ file: t.path, reason: table.filterError, lost: 'the bloom filter: a database refuses the table until it is repaired' })
    if (table.indexError !== undefined) {
      const last = table.index[table.index.length - 1]
      problems.push({ file: t.path, offset: table.footer.indexHandle.offset, reason: table.indexError, lost: `the index after its ${table.index.length} readable entries: ${rangeText(last?.key, t.meta?.largest, format)}` })
    }
    const it = new BlockIterator(compareInternalKeys, undefined, 0)
    let lastKey: Uint8Array | undefined
    for (const [i, e] of table.index.entries()) {
      const previous = i === 0 ? undefined : table.index[i - 1].key
      counts.blocks++
      try {
        it.reset(table.dataBlock(e))
        for (it.seekToFirst(); it.valid(); it.next()) {
          const key = it.keyBuf.slice(0, it.keyLen)
          const problem = entryProblem(key, lastKey, e.key, t.meta)
          if (problem !== undefined) {
            problems.push({ file: t.path, offset: e.offset, end: e.offset + e.size, reason: `${problem} in the block at offset ${e.offset}`, lost: `the entry with key ${userKeyText(key, format)} is not where a read looks for it` })
          }
          lastKey = key
          counts.entries++
        }
      } catch (err) {
        problems.push({ file: t.path, offset: e.offset, end: e.offset + e.size, reason: errorMessage(err), lost: `a block of ${e.size} bytes: ${rangeText(previous, e.key, format)}` })
      }
      progress.update(start + e.offset + e.size)
    }
    progress.update(start + table.fileSize)
  } finally {
    table.close()
  }
}

/** Why an entry of a readable block is wrong, or undefined: parse, order, the index's bound, the MANIFEST's range. */
function entryProblem (key: Uint8Array, lastKey: Uint8Array | undefined, indexKey: Uint8Array, meta: FileMetaData | undefined): string | undefined {
  const parts = splitInternalKey(key)
  if (parts === undefined) return `a key of ${key.length} bytes, shorter than its tag`
  if (parts.type !== ValueType.Value && parts.type !== ValueType.Deletion) return `an entry of unknown type ${parts.type}`
  if (typeof parts.sequence !== 'number') return `a sequence number beyond 2^53 (${parts.sequence})`
  if (lastKey !== undefined && compareInternalKeys(lastKey, 0, lastKey.length, key, 0, key.length) >= 0) return 'a key out of order'
  if (compareInternalKeys(key, 0, key.length, indexKey, 0, indexKey.length) > 0) return 'a key beyond its index entry'
  if (meta !== undefined && (compareInternalKeys(key, 0, key.length, meta.smallest, 0, meta.smallest.length) < 0 ||
    compareInternalKeys(key, 0, key.length, meta.largest, 0, meta.largest.length) > 0)) return 'a key outside the range the MANIFEST records for the table'
  return undefined
}

function checkLog (file: string, problems: Problem[], notes: string[], counts: Counts, progress: Progress): void {
  let data: Buffer
  try {
    data = readWholeFile(file)
  } catch (err) {
    if (!fs.existsSync(file)) {
      notes.push(`${path.basename(file)}: deleted by the database's writer during the check`)
      return
    }
    problems.push({ file, reason: errorMessage(err), lost: 'every write in the log' })
    return
  }
  const start = progress.done
  counts.logs++
  counts.logBytes += data.length
  let lastSequence = -1
  for (const item of walkLog(data, file)) {
    if (item.kind === 'torn') {
      notes.push(`${file}: torn tail at offset ${item.offset} (${item.end - item.offset} bytes of a write a crash cut short; an open drops it)`)
      continue
    }
    if (item.kind === 'damage') {
      problems.push({ file, offset: item.offset, end: item.end, reason: item.reason, lost: `bytes ${item.offset} to ${item.end}: the writes recorded there` })
      progress.update(start + item.end)
      continue
    }
    counts.records++
    const what = `${file} record at offset ${item.offset}`
    try {
      const batch = new BatchReader(item.data, 0, item.data.length, what)
      let n = 0
      while (batch.next()) n++
      if (n > 0 && batch.sequence <= lastSequence) throw new Error(`batch at sequence ${batch.sequence} follows one that ended at ${lastSequence} in ${what}`)
      if (n > 0) lastSequence = batch.sequence + n - 1
      counts.logEntries += n
    } catch (err) {
      problems.push({ file, offset: item.offset, end: item.offset + item.data.length, reason: errorMessage(err), lost: 'the batch (every write of it) recorded there' })
    }
    progress.update(start + item.offset + item.data.length)
  }
  progress.update(start + data.length)
}
