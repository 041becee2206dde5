// rough-level repair <dir>: LevelDB's RepairDB (engine/db/repair.ts, what RoughLevel.repair runs), with a
// progress bar over the bytes of logs and tables it reads, and its report printed.
import path = require('node:path')
import { repairDb, type RepairReport } from '../engine/db/repair'
import { FileType, logFileName, parseFileName, tableFileName } from '../engine/filename'
import { formatBytes } from './byte-format'
import { type Command, JSON_OPTION, type ParsedArgs } from './command'
import { fileSize, listDir } from './db-state'
import { EXIT_OK } from './errors'
import { withLockMessage } from './open-db'
import { internalKeyText } from './internal-key-text'
import type { Output } from './output'
import { formatSize, Progress } from './progress'

export const repair: Command = {
  name: 'repair',
  summary: 'Rebuild a damaged database from what can be read (LevelDB\'s RepairDB) and print what was kept and lost.',
  args: '<dir>',
  options: { ...JSON_OPTION },
  details: [
    'Logs become tables; every table is read with checksums on and a damaged one is rewritten with the',
    'entries that can be read (the original goes to <dir>/lost/); a new MANIFEST names every table.',
    'Takes the lock: the database must not be open elsewhere. Run verify first to see what is damaged.'
  ],
  examples: ['rough-level repair ./db', 'rough-level repair ./db --json'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const dir = args.positionals[0]
    // Sizes of what repair will read; tables it writes from logs are added as they are scanned.
    const sizes = new Map<string, number>()
    let total = 0
    for (const name of listDir(dir)) {
      const p = parseFileName(name)
      if (p === undefined || (p.type !== FileType.Log && p.type !== FileType.Table)) continue
      const size = fileSize(path.join(dir, name))
      sizes.set(`${p.type === FileType.Log ? 'log' : 'table'} ${p.number}`, size)
      total += size
    }
    const progress = Progress.onStderr('repair', 'bytes', total)
    let report: RepairReport
    try {
      report = await withLockMessage(dir, 'repair', async () => await repairDb(dir, undefined, ({ kind, number }) => {
        let size = sizes.get(`${kind} ${number}`)
        if (size === undefined) {
          size = fileSize(kind === 'log' ? logFileName(dir, number) : tableFileName(dir, number))
          total += size
        }
        progress.update(progress.done + size, total)
      }))
    } finally {
      progress.finish()
    }
    await out.line(args.flag('json') ? JSON.stringify(reportJson(report)) : reportText(report))
    return EXIT_OK
  }
}


const hex = (key: Uint8Array): string => formatBytes(key, 'hex')

function reportJson (r: RepairReport): Record<string, unknown> {
  return { ...r, files: r.files.map((f) => ({ number: f.number, size: f.fileSize, smallest: hex(f.smallest), largest: hex(f.largest) })), keyFormat: 'hex' }
}

function reportText (r: RepairReport): string {
  const lines = [`new MANIFEST    ${r.manifest}: ${r.files.length} tables at level 0, last sequence ${r.lastSequence}`]
  for (const log of r.logsConverted) {
    let line = `log ${log.number}: ${log.batches} batches, ${log.entries} entries` +
      (log.tables.length > 0 ? ` written to table ${log.tables.join(', ')}` : '')
    if (log.droppedRecords > 0 || log.droppedBytes > 0) line += `; dropped ${log.droppedRecords} records, ${log.droppedBytes} bytes`
    if (log.error !== undefined) line += `; could not be read: ${log.error}`
    lines.push(line)
  }
  if (r.tablesKept.length > 0) lines.push(`tables kept     ${r.tablesKept.join(', ')}`)
  for (const t of r.tablesSalvaged) {
    lines.push(`table ${t.number} salvaged: ${t.entries} entries kept (${formatSize(t.fileSize)}); dropped ${t.droppedBlocks} damaged blocks ` +
      `(${t.droppedBlockBytes} bytes) and ${t.droppedEntries} entries; the original is in lost/`)
  }
  for (const t of r.tablesArchived) lines.push(`table ${t.number} moved to lost/, nothing kept: ${t.reason}`)
  if (r.manifestsArchived.length > 0) lines.push(`old MANIFESTs   moved to lost/: ${r.manifestsArchived.join(', ')}`)
  for (const f of r.files) lines.push(`  table ${f.number}: ${formatSize(f.fileSize)}, ${internalKeyText(f.smallest, 'utf8')} .. ${internalKeyText(f.largest, 'utf8')}`)
  lines.push(r.droppedBytes === 0 && r.droppedRecords === 0
    ? 'nothing was lost'
    : `lost: ${r.droppedBytes} bytes and ${r.droppedRecords} records or entries that could not be read`)
  return lines.join('\n')
}
