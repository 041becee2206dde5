// Database properties (LevelDB DBImpl::GetProperty), in LevelDB's formats so that tools written
// against classic-level's getProperty read them unchanged, plus rough-level's own counters.
//   leveldb.num-files-at-level<N>     files at level N
//   leveldb.stats                     a table of files and sizes per level
//   leveldb.sstables                  every table of every level (Version::DebugString)
//   leveldb.approximate-memory-usage  memtables plus the block cache
//   rough-level.data-block-reads      data blocks read from disk by point reads and iterators
//   rough-level.block-cache-hits      data blocks served from the block cache
//   rough-level.filter-rejects        table lookups the bloom filter answered without a block read
//   rough-level.open-retries          times a read-only open started again because a writer deleted a
//                                     file it needed (engine/db/read-only.ts); 0 for a writer
//   rough-level.refresh-retries       the same for the refreshes since (Db.refresh); 0 for a writer
//   rough-level.recovery-skipped      what a lenient open (paranoidChecks false) skipped in the logs: a JSON
//                                     array of { file, offset, bytes, reason }, '[]' when nothing
import { tagSequence, tagType } from '../internal-key'
import type { TableCacheStats } from '../table/table-cache'
import type { Version } from '../version/version'
import { NUM_LEVELS } from '../version/version-edit'
import type { SkippedRecord } from './recovery'

export interface PropertySource {
  version: Version
  memoryUsage: number
  blockCacheUsage: number
  tableStats: TableCacheStats
  openRetries?: number
  refreshRetries?: number
  recoverySkipped?: readonly SkippedRecord[]
}

/** The property's value, or undefined for a name LevelDB would not recognise. */
export function getProperty (name: string, src: PropertySource): string | undefined {
  const files = src.version.files
  const levelMatch = /^leveldb\.num-files-at-level(\d+)$/.exec(name)
  if (levelMatch !== null) {
    const level = Number(levelMatch[1])
    return level < NUM_LEVELS ? String(files[level].length) : undefined
  }
  switch (name) {
    case 'leveldb.stats': {
      const lines = [
        '                               Compactions',
        'Level  Files Size(MB) Time(sec) Read(MB) Write(MB)',
        '--------------------------------------------------'
      ]
      files.forEach((level, n) => {
        if (level.length === 0) return
        const mb = level.reduce((sum, f) => sum + f.fileSize, 0) / 1048576
        lines.push(`${pad(n, 3)} ${pad(level.length, 8)} ${pad(mb.toFixed(0), 8)} ${pad(0, 9)} ${pad(0, 8)} ${pad(0, 9)}`)
      })
      return lines.join('\n') + '\n'
    }
    case 'leveldb.sstables': {
      let out = ''
      files.forEach((level, n) => {
        out += `--- level ${n} ---\n`
        for (const f of level) out += ` ${f.number}:${f.fileSize}[${debugKey(f.smallest)} .. ${debugKey(f.largest)}]\n`
      })
      return out
    }
    case 'leveldb.approximate-memory-usage':
      return String(src.memoryUsage + src.blockCacheUsage)
    case 'rough-level.data-block-reads':
      return String(src.tableStats.dataBlockReads)
    case 'rough-level.block-cache-hits':
      return String(src.tableStats.blockCacheHits)
    case 'rough-level.filter-rejects':
      return String(src.tableStats.filterRejects)
    case 'rough-level.open-retries':
      return String(src.openRetries ?? 0)
    case 'rough-level.refresh-retries':
      return String(src.refreshRetries ?? 0)
    case 'rough-level.recovery-skipped':
      return JSON.stringify(src.recoverySkipped ?? [])
    default:
      return undefined
  }
}

function pad (v: number | string, width: number): string {
  return String(v).padStart(width)
}

/** ParsedInternalKey::DebugString: 'escaped user key' @ sequence : type. */
function debugKey (ikey: Uint8Array): string {
  const n = ikey.length - 8
  let user = ''
  for (let i = 0; i < n; i++) {
    const c = ikey[i]
    user += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`
  }
  let sequence: string
  try {
    sequence = String(tagSequence(ikey, ikey.length))
  } catch {
    sequence = '(beyond 2^53)'
  }
  return `'${user}' @ ${sequence} : ${tagType(ikey, ikey.length)}`
}
