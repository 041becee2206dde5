// The bytes a log (a WAL or a MANIFEST) gained since a follower last read it (engine/db/read-only.ts): read
// by position from where the last whole record ended, into a buffer indexed by file offset, since the log
// reader's block arithmetic (engine/log/reader.ts) works on file offsets. Bytes before `from` are never read
// and the buffer holds garbage there: a LogReader given `from` as its start never looks at them.
import type { FileSystem } from '../fs/file-system'
import { allocUnsafe } from '../util/bytes'

/**
 * The file at `path` read from `from` to its end, or undefined when its size is still `sizeRead` (nothing
 * appended). File system errors are thrown as they come (ENOENT: the writer deleted it). The bytes go into
 * `buffer(size)` (at least `size` bytes; only those from `from` on are written) when given, else a new buffer.
 */
export function readTailBytes (fs: FileSystem, path: string, from: number, sizeRead: number, buffer?: (size: number) => Uint8Array): Uint8Array | undefined {
  const file = fs.openRandomAccess(path)
  try {
    const size = file.size()
    if (size === sizeRead) return undefined
    const data = buffer?.(size) ?? allocUnsafe(size)
    let at = from
    while (at < size) {
      const n = file.read(data, at, size - at, at)
      if (n <= 0) break
      at += n
    }
    return data.subarray(0, at)
  } finally {
    file.close()
  }
}
