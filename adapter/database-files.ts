// A database as LevelDB's files, to carry out of the host and in: exportDatabase reads a consistent set (a
// checkpoint of the database into a fresh directory, read out, then removed), and importDatabase writes such
// a set into a new directory. In a browser's worker this is how a database leaves OPFS for Node,
// classic-level or the command-line tool, and comes back; in Node it works on the disk the same way.
import path = require('path')  // Not 'node:', which webpack's `browser` field swap misses
import { invalidArgument } from '../engine/errors'
import { defaultFileSystem } from '../engine/fs/default-file-system'
import { descriptorFileName, FileType, parseFileName } from '../engine/filename'
import { setCurrentFile } from '../engine/version/current-file'
import { RoughLevel } from '../index'

/** One file of a database directory: its name in the directory, and its bytes. */
export interface DatabaseFile {
  name: string
  bytes: Uint8Array
}

/**
 * The files of a database, as of the call: CURRENT, one MANIFEST and the tables (what the memtables hold
 * among them as a table), with no log to replay. `source` is an open RoughLevel (writes may go on during the
 * export), or the location of a closed one, which is opened for the export (it must exist) and closed again.
 */
export async function exportDatabase<K, V> (source: RoughLevel<K, V> | string): Promise<DatabaseFile[]> {
  const db = typeof source === 'string' ? new RoughLevel(source, { createIfMissing: false }) : source
  if (typeof source === 'string') await db.open()
  const fs = defaultFileSystem()
  const dir = `${db.location}.export-${Date.now()}-${Math.random().toString(36).slice(2)}`
  try {
    await db.checkpoint(dir)
    return fs.readdir(dir).sort().map((name) => ({ name, bytes: fs.readFile(path.join(dir, name)) }))
  } finally {
    try {
      await RoughLevel.destroy(dir)
    } finally {
      if (typeof source === 'string') await db.close()
    }
  }
}

/**
 * Writes a database's files (exportDatabase's, or a LevelDB directory's read elsewhere) into `location`,
 * which must not exist or be empty; then it opens as a database there. Every file is synced, CURRENT last
 * (written anew, naming the MANIFEST it named), so that a crash in between leaves no database, not half of
 * one. Refuses, writing nothing, a set without CURRENT or the MANIFEST it names, and any name LevelDB would
 * not write there (LEVEL_INVALID_ARGUMENT). LOCK and temporary files are left out.
 */
export async function importDatabase (location: string, files: readonly DatabaseFile[]): Promise<void> {
  const fs = defaultFileSystem()
  const names = new Set<string>()
  for (const file of files) {
    if (parseFileName(file.name) === undefined) throw invalidArgument(`not a LevelDB file name: ${JSON.stringify(file.name)}`)
    if (names.has(file.name)) throw invalidArgument(`${file.name} is given twice`)
    names.add(file.name)
  }
  const current = files.find((file) => file.name === 'CURRENT')
  if (current === undefined) throw invalidArgument('no CURRENT among the files')
  const named = /^(MANIFEST-(\d+))\n$/.exec(new TextDecoder().decode(current.bytes))
  const manifestNumber = Number(named?.[2])
  // CURRENT is written anew, as LevelDB names a MANIFEST: it must be the same name.
  if (named === null || !names.has(named[1]) || path.basename(descriptorFileName(location, manifestNumber)) !== named[1]) {
    throw invalidArgument('CURRENT does not name a MANIFEST among the files')
  }
  if (fs.exists(location) && fs.readdir(location).length > 0) {
    throw invalidArgument(`${location} is not empty: import into a new directory`)
  }
  fs.mkdir(location)
  for (const file of files) {
    const type = parseFileName(file.name)?.type
    if (type === FileType.Current || type === FileType.DbLock || type === FileType.Temp) continue
    const out = fs.openWritable(path.join(location, file.name))
    try {
      out.append(file.bytes, 0, file.bytes.byteLength)
      await out.syncAsync()
    } finally {
      out.close()
    }
  }
  await fs.syncDirAsync(location)
  await setCurrentFile(fs, location, manifestNumber)
}
