// Export and import as LevelDB's files, across the browser and Node: a database written by RoughLevel on
// OPFS in a worker of headless Chromium is exported while open (exportDatabase), its files written to a
// directory here and opened with classic-level: every entry equals the model. The reverse: a directory
// classic-level wrote (tables, and a log it has not flushed) is imported into OPFS (importDatabase) and read
// there by RoughLevel: every entry equals the model.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { bundleWorker, CHROMIUM, INSTALL_HINT, openSession, type WorkerMessage } from './harness'
import { model, workload } from './files-workload'

const TIMEOUT_MS = 120_000

test('export from the browser opens in classic-level; a classic-level directory imports into the browser', async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const script = await bundleWorker(path.join(__dirname, 'files-worker.js'))
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-files-'))
  const exported: Array<{ name: string, bytes: Buffer }> = []
  const messages: WorkerMessage[] = []
  let wake = (): void => {}
  const session = await openSession(script, (message) => {
    if (message.type === 'file') exported.push({ name: String(message.name), bytes: Buffer.from(String(message.base64), 'base64') })
    else messages.push(message)
    wake()
  }, { onDisk: true })
  /** The next message of `type` (or an error), within the timeout. */
  const next = async (type: string): Promise<WorkerMessage> => {
    const deadline = Date.now() + TIMEOUT_MS
    for (;;) {
      const found = messages.find((m) => m.type === type || m.type === 'error')
      if (found !== undefined) {
        if (found.type === 'error') throw new Error(`worker: ${String(found.message)}`)
        messages.splice(messages.indexOf(found), 1)
        return found
      }
      if (Date.now() > deadline) throw new Error(`no ${type} message within ${TIMEOUT_MS / 1000} s`)
      await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 1000) })
    }
  }
  try {
    await session.startWorker('files')
    const done = await next('exported')
    const names = exported.map((f) => f.name)
    t.ok(names.includes('CURRENT') && names.some((n) => n.startsWith('MANIFEST-')), `CURRENT and a MANIFEST exported (${names.join(', ')})`)
    t.ok(Number(done.tables) >= 2, `${String(done.tables)} tables exported`)

    const exportDir = path.join(root, 'exported')
    fs.mkdirSync(exportDir)
    for (const file of exported) fs.writeFileSync(path.join(exportDir, file.name), file.bytes)
    const classic = new ClassicLevel(exportDir, { createIfMissing: false })
    const read = await classic.iterator().all()
    await classic.close()
    const expected = model(workload(1, 6000))
    t.is(read.length, expected.length, `classic-level reads ${read.length} entries, the model holds ${expected.length}`)
    t.same(read, expected, 'every entry classic-level reads equals the model (and nothing written after the export)')

    const classicDir = path.join(root, 'classic')
    const writer = new ClassicLevel(classicDir, { writeBufferSize: 64 * 1024 })
    const ops = workload(2, 6000)
    for (let i = 0; i < ops.length; i += 100) await writer.batch(ops.slice(i, i + 100))
    await writer.close()
    const written = fs.readdirSync(classicDir)
    t.ok(written.some((n) => n.endsWith('.ldb')) && written.some((n) => n.endsWith('.log')), `classic-level wrote tables and a log (${written.join(', ')})`)
    const files = written.map((name) => ({ name, base64: fs.readFileSync(path.join(classicDir, name)).toString('base64') }))
    await session.postToWorker('files', { files })
    const imported = await next('entries')
    t.same(imported.entries, model(ops), 'every entry RoughLevel reads in the browser after the import equals the model')
  } finally {
    await session.close()
    fs.rmSync(root, { recursive: true, force: true })
  }
})
