// CURRENT names the MANIFEST in force (LevelDB db/filename.cc SetCurrentFile). It is switched atomically:
// the new contents go to a temp file, which is fsynced and renamed over CURRENT, and then the directory is
// fsynced so that the rename survives a crash, every fsync on the thread pool. Used by VersionSet (a new
// database, every open's new MANIFEST), repair, checkpoints and importDatabase (adapter/database-files.ts).
import path = require('path')  // Not 'node:', which webpack's `browser` field swap misses
import { type EngineError, fromFsError } from '../errors'
import type { FileSystem, WritableFile } from '../fs/file-system'
import { currentFileName, descriptorFileName, tempFileName } from '../filename'
import { encodeUtf8 } from '../util/bytes'

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
