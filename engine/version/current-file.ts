// CURRENT names the MANIFEST in force (LevelDB db/filename.cc SetCurrentFile). It is switched atomically:
// the new contents go to a temp file, which is fsynced and renamed over CURRENT, and then the directory is
// fsynced so that the rename survives a crash. Used by VersionSet (a new database, every open's new
// MANIFEST) and by repair.
import path = require('node:path')
import { fromFsError } from '../errors'
import type { FileSystem } from '../fs/file-system'
import { currentFileName, descriptorFileName, tempFileName } from '../filename'

/**
 * Points CURRENT at MANIFEST-<manifestNumber>. A failure before the rename removes the temp file and
 * throws the file system's error: CURRENT is as it was. A failure of the directory fsync after the rename
 * throws LEVEL_IO_ERROR marked `committed`: CURRENT names the new MANIFEST, so nothing it names may go.
 */
export function setCurrentFile (fs: FileSystem, dir: string, manifestNumber: number): void {
  const temp = tempFileName(dir, manifestNumber)
  const contents = Buffer.from(path.basename(descriptorFileName(dir, manifestNumber)) + '\n', 'latin1')
  try {
    const file = fs.openWritable(temp)
    try {
      file.append(contents, 0, contents.length)
      file.sync()
    } finally {
      file.close()
    }
    fs.rename(temp, currentFileName(dir))
  } catch (err) {
    try { fs.unlink(temp) } catch {}
    throw err
  }
  try {
    fs.syncDir(dir)
  } catch (err) {
    const failure = fromFsError('syncing the directory after switching CURRENT', err)
    failure.committed = true
    throw failure
  }
}
