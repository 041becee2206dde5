// OpfsFileSystem in a worker of headless Chromium, against what a POSIX file system does (test/browser/
// opfs-worker.ts runs the steps): rename over a file, unlink of an open file, nested directories,
// truncation; the files and their bytes after the pool is closed and reopened by another worker; and a
// rename cut short (two slots naming one file, forged from the documented header format) settled by the
// higher sequence.
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')
import { bundleWorker, CHROMIUM, INSTALL_HINT, openSession, type WorkerMessage } from './harness'

test('OpfsFileSystem: POSIX-like files, durable names, a rename cut short', async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const script = await bundleWorker(path.join(__dirname, 'opfs-worker.js'))
  const seen = new Map<string, unknown>()
  const errors: string[] = []
  let done = (): void => {}
  const session = await openSession(script, (message: WorkerMessage) => {
    if (message.type === 'step') seen.set(String(message.name), message.value)
    if (message.type === 'error') errors.push(String(message.message))
    if (message.type === 'done' || message.type === 'error') done()
  }, { onDisk: true })
  const run = async (step: string): Promise<void> => {
    const finished = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`step ${step} timed out`)), 30_000)
      done = () => { clearTimeout(timer); resolve() }
    })
    await session.startWorker(step)
    await session.postToWorker(step, { step })
    await finished
    await session.terminateWorker(step)
  }
  try {
    await run('write')
    await run('forge')
    await run('reopen')
    t.same(errors, [], 'no error in the workers')
    t.same(seen.get('after rename over b'), { b: 'first', e: '' }, 'a rename replaces its destination; the source name is gone')
    t.equal(seen.get('an unlinked file still open reads its bytes'), 'first', 'an unlinked file still open keeps its bytes')
    t.same(seen.get('exists'), [true, false, true, true, false], 'exists: directories (made, implied) and files')
    t.equal(seen.get('a missing file'), 'ENOENT', 'a missing file is ENOENT')
    const files = { d: { e: '', g: 'kept', h: 'truncated and rewritten' }, e: { f: 'nested' }, root: ['d'] }
    t.same(seen.get('before close'), files, 'the files before close')
    t.same(seen.get('after reopen'), { ...files, d: { ...files.d, h: 'renamed in' } },
      'after reopen in another worker: every file; of two slots naming one file, the higher sequence')
    t.same(seen.get('after a second reopen'), { e: '', g: 'kept', h: 'renamed in' }, 'the same after a second reopen')
  } catch (err) {
    t.error(err)
  } finally {
    await session.close()
  }
})
