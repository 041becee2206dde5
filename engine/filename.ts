// Names of the files in a database directory (LevelDB db/filename.cc). Logs, tables, manifests and
// temp files draw numbers from one counter; numbers print zero-padded to at least six digits.
import path = require('path')  // Not 'node:', which webpack's `browser` field swap misses

export const enum FileType {
  Log,
  DbLock,
  Table,
  Descriptor,
  Current,
  Temp,
  InfoLog
}

function numbered (dir: string, n: number, suffix: string): string {
  return path.join(dir, String(n).padStart(6, '0') + suffix)
}

export const logFileName = (dir: string, n: number): string => numbered(dir, n, '.log')
export const tableFileName = (dir: string, n: number): string => numbered(dir, n, '.ldb')
/** The pre-1.14 table name, read as a fallback. */
export const sstTableFileName = (dir: string, n: number): string => numbered(dir, n, '.sst')
export const tempFileName = (dir: string, n: number): string => numbered(dir, n, '.dbtmp')
export const descriptorFileName = (dir: string, n: number): string =>
  path.join(dir, 'MANIFEST-' + String(n).padStart(6, '0'))
export const currentFileName = (dir: string): string => path.join(dir, 'CURRENT')
export const lockFileName = (dir: string): string => path.join(dir, 'LOCK')
/** The info log (engine/info-log.ts), and the previous open's. */
export const infoLogFileName = (dir: string): string => path.join(dir, 'LOG')
export const oldInfoLogFileName = (dir: string): string => path.join(dir, 'LOG.old')

export interface ParsedFileName {
  type: FileType
  number: number
}

/**
 * Classifies a file name as LevelDB's ParseFileName does; undefined for names LevelDB would not
 * recognise (those are never touched). Numbers beyond 2^53 are not recognised either.
 */
export function parseFileName (name: string): ParsedFileName | undefined {
  if (name === 'CURRENT') return { type: FileType.Current, number: 0 }
  if (name === 'LOCK') return { type: FileType.DbLock, number: 0 }
  if (name === 'LOG' || name === 'LOG.old') return { type: FileType.InfoLog, number: 0 }
  if (name.startsWith('MANIFEST-')) {
    const n = parseNumber(name.slice(9))
    return n === undefined ? undefined : { type: FileType.Descriptor, number: n }
  }
  const m = /^(\d+)\.(log|ldb|sst|dbtmp)$/.exec(name)
  if (m === null) return undefined
  const n = parseNumber(m[1])
  if (n === undefined) return undefined
  const type = m[2] === 'log' ? FileType.Log : m[2] === 'dbtmp' ? FileType.Temp : FileType.Table
  return { type, number: n }
}

function parseNumber (digits: string): number | undefined {
  if (!/^\d+$/.test(digits)) return undefined
  const n = Number(digits)
  return Number.isSafeInteger(n) ? n : undefined
}
