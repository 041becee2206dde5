// The worker side of opfs-file-system.test.ts: scripted steps on an OpfsFileSystem, each posting what it
// saw ({ type: 'step', name, value }), then { type: 'done' }. Told { step: 'write' | 'forge' | 'reopen' }.
import { OpfsFileSystem } from '../../engine/fs/opfs-file-system'
import { installGlobals } from '../../engine/browser/globals'
import { decodeUtf8 } from '../../engine/util/bytes'
import { crc32c } from '../../engine/util/crc32c'
import { catchEverything, reportError, scope } from './worker-scope'

catchEverything()
installGlobals()

const POOL = 'fs-test'
const text = new TextEncoder()

function see (name: string, value: unknown): void {
  scope.postMessage({ type: 'step', name, value })
}

function write (fs: OpfsFileSystem, path: string, data: string): void {
  const file = fs.openWritable(path)
  const bytes = text.encode(data)
  file.append(bytes, 0, bytes.length)
  file.sync()
  file.close()
}

function contents (fs: OpfsFileSystem, dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of fs.readdir(dir)) {
    // A directory reads as '' (readFile fails on it as on a missing file).
    try {
      out[name] = decodeUtf8(fs.readFile(`${dir}/${name}`))
    } catch {
      out[name] = ''
    }
  }
  return out
}

/** POSIX-like behaviour within one session. */
async function session1 (): Promise<void> {
  const fs = await OpfsFileSystem.open({ pool: POOL })
  fs.mkdir('/d/e')
  write(fs, '/d/a', 'first')
  write(fs, '/d/b', 'second')
  write(fs, '/d/e/f', 'nested')
  fs.rename('/d/a', '/d/b')
  see('after rename over b', contents(fs, '/d'))
  const reader = fs.openRandomAccess('/d/b')
  fs.unlink('/d/b')
  // The unlinked file's slot must not be reused while it is open: take many free slots (a slot freed
  // at unlink would be the first taken: the free list is a stack).
  await fs.ready()
  for (let i = 0; i < 30; i++) write(fs, `/d/filler${i}`, `filler ${i}`)
  const buf = new Uint8Array(16)
  const n = reader.read(buf, 0, 16, 0)
  see('an unlinked file still open reads its bytes', new TextDecoder().decode(buf.subarray(0, n)))
  reader.close()
  for (let i = 0; i < 30; i++) fs.unlink(`/d/filler${i}`)
  see('exists', [fs.exists('/d'), fs.exists('/d/b'), fs.exists('/d/e'), fs.exists('/d/e/f'), fs.exists('/nothing')])
  let code: unknown
  try {
    fs.readFile('/d/b')
  } catch (err) {
    code = (err as { code?: unknown }).code
  }
  see('a missing file', code)
  write(fs, '/d/g', 'kept')
  write(fs, '/d/h', 'replaced')
  write(fs, '/d/h', 'truncated and rewritten')
  see('before close', { d: contents(fs, '/d'), e: contents(fs, '/d/e'), root: fs.readdir('/') })
  fs.close()
}

/**
 * A rename cut short: a second slot naming an existing file, as if the rename's header had been written
 * and the crash came before the replaced slot's was cleared. Written through OPFS directly, from the header
 * format documented in opfs-file-system.ts (magic 'RLS1', sequence, length, crc32c, path).
 */
async function forge (): Promise<void> {
  const storage = (globalThis as unknown as { navigator: { storage: { getDirectory (): Promise<ForgeDir> } } }).navigator.storage
  const dir = await (await storage.getDirectory()).getDirectoryHandle(POOL)
  const forgeSlot = async (name: string, path: string, sequence: number, data: string): Promise<void> => {
    const handle = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle()
    const pathBytes = text.encode(path)
    const header = new Uint8Array(20 + pathBytes.length)
    const view = new DataView(header.buffer)
    view.setUint32(0, 0x31534c52, true)
    view.setFloat64(4, sequence, true)
    view.setUint32(12, pathBytes.length, true)
    header.set(pathBytes, 20)
    view.setUint32(16, crc32c(pathBytes, crc32c(header.subarray(0, 16), 0)), true)
    handle.truncate(4096)
    handle.write(header, { at: 0 })
    handle.write(text.encode(data), { at: 4096 })
    handle.flush()
    handle.close()
  }
  // Older than every header the session wrote: the rename that replaced it won.
  await forgeSlot('slot-9000', '/d/g', 0.5, 'stale')
  // Newer than every header: this rename's own header was written, the replaced slot not yet cleared.
  await forgeSlot('slot-9001', '/d/h', 1e9, 'renamed in')
  see('forged', true)
}

interface ForgeDir {
  getDirectoryHandle (name: string): Promise<ForgeDir>
  getFileHandle (name: string, options: { create: boolean }): Promise<{ createSyncAccessHandle (): Promise<{
    truncate (n: number): void, write (b: Uint8Array, o: { at: number }): number, flush (): void, close (): void
  }> }>
}

async function reopen (): Promise<void> {
  const fs = await OpfsFileSystem.open({ pool: POOL })
  see('after reopen', { d: contents(fs, '/d'), e: contents(fs, '/d/e'), root: fs.readdir('/') })
  fs.close()
  // And once more: the duplicate names were settled for good by the first reopen.
  const again = await OpfsFileSystem.open({ pool: POOL })
  see('after a second reopen', contents(again, '/d'))
  again.close()
}

scope.addEventListener('message', (event) => {
  const { step } = event.data as { step: string }
  const job = step === 'write' ? session1() : step === 'forge' ? forge() : reopen()
  job.then(() => scope.postMessage({ type: 'done' }), reportError)
})
