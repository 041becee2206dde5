// rough-level info <dir>: what the MANIFEST says (comparator, numbers, files and bytes per level, key
// range per level, LevelDB's leveldb.stats) and what the live logs add to it (their records and
// sequences). Reads the files without taking the lock, so it works on a database that is open elsewhere.
import fs = require('node:fs')
import path = require('node:path')
import { getProperty } from '../engine/db/properties'
import { compareBytes, TAG_BYTES } from '../engine/internal-key'
import { infoLogFileName, logFileName } from '../engine/filename'
import type { FileMetaData } from '../engine/version/version-edit'
import { BatchReader } from '../engine/db/write-batch'
import { formatBytes } from './byte-format'
import { type Command, FORMAT_OPTIONS, JSON_OPTION, type ParsedArgs } from './command'
import { readDbState, readWholeFile } from './db-state'
import { EXIT_OK } from './errors'
import { walkLog } from './log-walk'
import type { Output } from './output'
import { formatSize } from './progress'

interface LogSummary {
  file: string
  bytes: number
  records: number
  entries: number
  /** Sequences of the first and last entry it holds (0 when it holds none). */
  firstSequence: number
  lastSequence: number
  /** Bytes that failed a check (damage; verify says where) and where a torn tail began (-1: none). */
  damagedBytes: number
  tornAt: number
}

export const info: Command = {
  name: 'info',
  summary: 'Show a database\'s comparator, sequence, log and MANIFEST numbers, files, bytes and key range per level, and leveldb.stats.',
  args: '<dir>',
  options: {
    ...JSON_OPTION,
    tables: { type: 'boolean', description: 'also list every table of every level' },
    format: FORMAT_OPTIONS.format
  },
  details: [
    'Reads CURRENT, the MANIFEST and the live logs directly, without taking the lock and without',
    'creating or changing any file: it works while another process has the database open.'
  ],
  examples: ['rough-level info ./db', 'rough-level info ~/.config/chromium/Default/Local\\ Storage/leveldb --json'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const dir = args.positionals[0]
    const format = args.byteFormat('key')
    const state = readDbState(dir)
    const m = state.manifest
    const logs = state.liveLogs.map((n) => summarizeLog(logFileName(dir, n)))
    let lastSequence = m.lastSequence
    for (const log of logs) lastSequence = Math.max(lastSequence, log.lastSequence)
    const levels = m.version.files.map((files, level) => ({ level, files, ...keyRange(files) }))
    const stats = getProperty('leveldb.stats', {
      version: m.version, memoryUsage: 0, blockCacheUsage: 0, tableStats: { dataBlockReads: 0, blockCacheHits: 0, filterRejects: 0, tablesOpened: 0, openTables: 0, pinnedTables: 0 },
      recoverySkipped: []
    }) ?? ''
    // LevelDB's info log: what the database did (recovery, flushes, compactions, what a lenient open skipped).
    const infoLog = fs.existsSync(infoLogFileName(dir)) ? path.resolve(infoLogFileName(dir)) : undefined
    const key = (k: Uint8Array | undefined): string | undefined => k === undefined ? undefined : formatBytes(k, format)

    if (args.flag('json')) {
      await out.line(JSON.stringify({
        dir: path.resolve(dir),
        comparator: m.comparator ?? null,
        manifest: path.basename(m.manifestPath),
        manifestNumber: m.manifestNumber,
        manifestEdits: m.edits,
        logNumber: m.logNumber,
        prevLogNumber: m.prevLogNumber,
        nextFileNumber: m.nextFileNumber,
        lastSequence,
        manifestLastSequence: m.lastSequence,
        keyFormat: format,
        logs: logs.map((l) => ({ ...l, file: path.basename(l.file) })),
        levels: levels.map((l) => ({
          level: l.level,
          files: l.files.length,
          bytes: l.files.reduce((sum, f) => sum + f.fileSize, 0),
          smallest: key(l.smallest) ?? null,
          largest: key(l.largest) ?? null,
          tables: l.files.map((f) => ({ number: f.number, size: f.fileSize, smallest: key(userKey(f.smallest)), largest: key(userKey(f.largest)) }))
        })),
        stats,
        infoLog: infoLog ?? null
      }))
      return EXIT_OK
    }

    const lines = [
      `database        ${path.resolve(dir)}`,
      `comparator      ${m.comparator ?? '(not recorded)'}`,
      `MANIFEST        ${path.basename(m.manifestPath)} (${m.edits} edits${m.tornAt >= 0 ? `, torn tail at offset ${m.tornAt}` : ''})`,
      `log number      ${m.logNumber} (previous ${m.prevLogNumber})`,
      `next file       ${m.nextFileNumber}`,
      `last sequence   ${lastSequence}${lastSequence !== m.lastSequence ? ` (MANIFEST ${m.lastSequence}; the rest is in the logs)` : ''}`
    ]
    if (infoLog !== undefined) lines.push(`info log        ${infoLog}`)
    if (logs.length === 0) lines.push('logs            none live')
    for (const log of logs) {
      let line = `log             ${path.basename(log.file)}: ${formatSize(log.bytes)}, ${log.records} records, ${log.entries} entries`
      if (log.entries > 0) line += `, sequences ${log.firstSequence}..${log.lastSequence}`
      if (log.damagedBytes > 0) line += `, ${log.damagedBytes} damaged bytes (see verify)`
      if (log.tornAt >= 0) line += `, torn tail at offset ${log.tornAt}`
      lines.push(line)
    }
    lines.push('', 'level  files  bytes       key range')
    for (const l of levels) {
      if (l.files.length === 0) continue
      const bytes = l.files.reduce((sum, f) => sum + f.fileSize, 0)
      lines.push(`${String(l.level).padEnd(5)}  ${String(l.files.length).padEnd(5)}  ${formatSize(bytes).padEnd(10)}  '${key(l.smallest)}' .. '${key(l.largest)}'`)
      if (args.flag('tables')) {
        for (const f of l.files) {
          lines.push(`         ${String(f.number).padStart(6, '0')}.ldb  ${formatSize(f.fileSize).padEnd(10)}  '${key(userKey(f.smallest))}' .. '${key(userKey(f.largest))}'`)
        }
      }
    }
    if (levels.every((l) => l.files.length === 0)) lines.push('(no tables)')
    lines.push('', 'leveldb.stats', stats.trimEnd())
    await out.line(lines.join('\n'))
    return EXIT_OK
  }
}

function userKey (ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, ikey.length - TAG_BYTES)
}

/** The smallest and largest user keys of a level's files (level-0 files overlap, so every file counts). */
function keyRange (files: readonly FileMetaData[]): { smallest?: Uint8Array, largest?: Uint8Array } {
  let smallest: Uint8Array | undefined
  let largest: Uint8Array | undefined
  for (const f of files) {
    const s = userKey(f.smallest)
    const l = userKey(f.largest)
    if (smallest === undefined || compareBytes(s, 0, s.length, smallest, 0, smallest.length) < 0) smallest = s
    if (largest === undefined || compareBytes(l, 0, l.length, largest, 0, largest.length) > 0) largest = l
  }
  return { smallest, largest }
}

/** What a log holds: records, entries and their sequences, read with checksums on. */
export function summarizeLog (file: string): LogSummary {
  const summary: LogSummary = { file, bytes: 0, records: 0, entries: 0, firstSequence: 0, lastSequence: 0, damagedBytes: 0, tornAt: -1 }
  let data: Buffer
  try {
    data = readWholeFile(file)
  } catch (err) {
    // A writer may have retired (deleted) the log since the directory was listed.
    if (!fs.existsSync(file)) return summary
    throw err
  }
  summary.bytes = data.length
  for (const item of walkLog(data, file)) {
    if (item.kind === 'damage') summary.damagedBytes += item.end - item.offset
    if (item.kind === 'torn') summary.tornAt = item.offset
    if (item.kind !== 'record') continue
    summary.records++
    let batch: BatchReader
    try {
      batch = new BatchReader(item.data, 0, item.data.length, file)
    } catch {
      summary.damagedBytes += item.data.length
      continue
    }
    if (batch.count === 0) continue
    if (summary.entries === 0) summary.firstSequence = batch.sequence
    summary.entries += batch.count
    summary.lastSequence = Math.max(summary.lastSequence, batch.sequence + batch.count - 1)
  }
  return summary
}

