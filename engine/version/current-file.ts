// CURRENT names the MANIFEST in force (LevelDB db/filename.cc SetCurrentFile). It is switched atomically:
// the new contents go to a temp file, which is fsynced and renamed over CURRENT, and then the directory is
// fsynced so that the rename survives a crash, every fsync on the thread pool. Written by VersionSet (a new
// database, every open's new MANIFEST), repair, checkpoints and importDatabase (adapter/database-files.ts);
// read here for every reader of a MANIFEST (VersionSet, followers, the command-line tool).
import path = require('path')  // Not 'node:', which webpack's `browser` field swap misses
import { corruption, type EngineError, fromFsError, ioError, systemErrorCode } from '../errors'
import type { FileSystem, WritableFile } from '../fs/file-system'
import { currentFileName, descriptorFileName, tempFileName } from '../filename'
import { decodeUtf8, encodeUtf8 } from '../util/bytes'

/**
 * Points CURRENT at MANIFEST-<manifestNumber>, its fsyncs on the thread pool (the event loop never waits
 * for the disk). A failure before the rename removes the temp file and throws the file system's error:
 * CURRENT is as it was. A failure of the directory fsync after the rename throws LEVEL_IO_ERROR marked
 * `committed`: CURRENT names the new MANIFEST, so nothing it names may go.
 */
export async function setCurrentFile (fs: FileSystem, dir: string, manifestNumber: number): Promise<void> {
  const temp = tempFileName(dir, manifestNumber)
  try {
    const file = writeCurrentTemp(fs, dir, manifestNumber)
    try {
      await file.syncAsync()
    } finally {
      file.close()
    }
    fs.rename(temp, currentFileName(dir))
  } catch (err) {
    try { fs.unlink(temp) } catch {}
    throw err
  }
  try {
    await fs.syncDirAsync(dir)
  } catch (err) {
    throw committedSyncFailure(err)
  }
}

/**
 * CURRENT's contents, or undefined when dir has none (a follower retries then, the command-line tool says
 * the directory is no database); any other failure to read it is LEVEL_IO_ERROR.
 */
export function readCurrentFile (fs: FileSystem, dir: string): string | undefined {
  const name = currentFileName(dir)
  try {
    return decodeUtf8(fs.readFile(name))
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return undefined
    throw fromFsError(`reading ${name}`, err)
  }
}

/**
 * The path of the MANIFEST that CURRENT names: LEVEL_CORRUPTION as LevelDB's when CURRENT is bad or names no
 * file, LEVEL_IO_ERROR when there is no CURRENT or it cannot be read.
 */
export function currentManifestPath (fs: FileSystem, dir: string): string {
  const current = readCurrentFile(fs, dir)
  if (current === undefined) throw ioError(`reading ${currentFileName(dir)}: no such file`)
  if (current.length === 0 || !current.endsWith('\n')) throw corruption('CURRENT file does not end with newline')
  const manifestName = current.slice(0, -1)
  if (!/^MANIFEST-\d+$/.test(manifestName)) throw corruption(`CURRENT names ${JSON.stringify(manifestName)}, not a MANIFEST`)
  const manifestPath = `${dir}/${manifestName}`
  if (!fs.exists(manifestPath)) throw corruption('CURRENT points to a non-existent file')
  return manifestPath
}

/** The temp file holding CURRENT's new contents, written and still open (the caller syncs and closes it). */
function writeCurrentTemp (fs: FileSystem, dir: string, manifestNumber: number): WritableFile {
  const contents = encodeUtf8(path.basename(descriptorFileName(dir, manifestNumber)) + '\n')
  const file = fs.openWritable(tempFileName(dir, manifestNumber))
  try {
    file.append(contents, 0, contents.length)
  } catch (err) {
    file.close()
    throw err
  }
  return file
}

/** The directory's fsync failed after the rename: CURRENT names the new MANIFEST, so nothing it names may go. */
function committedSyncFailure (err: unknown): EngineError {
  const failure = fromFsError('syncing the directory after switching CURRENT', err)
  failure.committed = true
  return failure
}
