// A database directory as the inspection commands (info, verify) read it: CURRENT and its MANIFEST
// through the engine's readManifest, plus the files present. Takes no lock and creates nothing, so it
// works while another process has the database open. A writer may switch to a new MANIFEST (and delete
// the old one) between reading CURRENT and reading the MANIFEST: then CURRENT has changed, and the
// read starts again.
import fs = require('node:fs')
import path = require('node:path')
import { fromFsError, invalidArgument } from '../engine/errors'
import { PosixFileSystem } from '../engine/fs/posix-file-system'
import { TableCache } from '../engine/table/table-cache'
import { currentFileName, FileType, parseFileName } from '../engine/filename'
import { readCurrentFile } from '../engine/version/current-file'
import { readManifest, type ManifestState } from '../engine/version/version-set'

const ATTEMPTS = 5

export interface DbState {
  dir: string
  manifest: ManifestState
  /** Logs a recovery would replay (>= the log number, or the previous log), oldest first. */
  liveLogs: number[]
  /** Table files present, by number: the .ldb name, or .sst where there is no .ldb. */
  tableFiles: Map<number, string>
}

/** Lists dir; a missing directory is LEVEL_IO_ERROR. */
export function listDir (dir: string): string[] {
  try {
    return fs.readdirSync(dir)
  } catch (err) {
    throw fromFsError(`listing ${dir}`, err)
  }
}

/** Reads the state of the database in dir without opening it. */
export function readDbState (dir: string): DbState {
  const fileSystem = new PosixFileSystem()
  // Never used to open a table: a Version needs one to exist.
  const tableCache = new TableCache(dir, fileSystem, 1)
  listDir(dir)
  if (!fs.existsSync(currentFileName(dir))) {
    throw invalidArgument(`${dir}: not a LevelDB database (no CURRENT file${hasDbFiles(dir) ? '; `rough-level repair` can rebuild one from its tables and logs' : ''})`)
  }
  for (let attempt = 1; ; attempt++) {
    const before = readCurrent(fileSystem, dir)
    try {
      const manifest = readManifest(fileSystem, dir, tableCache)
      const names = listDir(dir)
      return { dir, manifest, liveLogs: liveLogs(names, manifest), tableFiles: tableFiles(dir, names) }
    } catch (err) {
      if (attempt < ATTEMPTS && readCurrent(fileSystem, dir) !== before) continue
      throw err
    }
  }
}

/** CURRENT's contents, '' when it cannot be read: only compared, to see whether a writer switched it. */
function readCurrent (fileSystem: PosixFileSystem, dir: string): string {
  try {
    return readCurrentFile(fileSystem, dir) ?? ''
  } catch {
    return ''
  }
}

function hasDbFiles (dir: string): boolean {
  return listDir(dir).some((name) => {
    const type = parseFileName(name)?.type
    return type === FileType.Table || type === FileType.Log
  })
}

function liveLogs (names: string[], manifest: ManifestState): number[] {
  const logs: number[] = []
  for (const name of names) {
    const p = parseFileName(name)
    if (p?.type === FileType.Log && (p.number >= manifest.logNumber || p.number === manifest.prevLogNumber)) logs.push(p.number)
  }
  return logs.sort((a, b) => a - b)
}

function tableFiles (dir: string, names: string[]): Map<number, string> {
  const files = new Map<number, string>()
  for (const name of names) {
    const p = parseFileName(name)
    if (p?.type !== FileType.Table) continue
    if (name.endsWith('.ldb') || !files.has(p.number)) files.set(p.number, path.join(dir, name))
  }
  return files
}

/** Reads a whole file; LEVEL_IO_ERROR naming it on failure. */
export function readWholeFile (file: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (err) {
    throw fromFsError(`reading ${file}`, err)
  }
}

/** A file's size in bytes, 0 when it is absent or undefined (a size for progress totals only). */
export function fileSize (file: string | undefined): number {
  if (file === undefined) return 0
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}
