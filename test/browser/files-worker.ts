// The worker side of files.test.ts, through the package's browser entry: writes a workload into a RoughLevel
// on OPFS and exports it while open (each file posted as base64), then imports the files Node sends (a
// directory classic-level wrote) and posts every entry the imported database holds.
import { exportDatabase, importDatabase, openOpfs, RoughLevel } from '../../browser'
import { workload } from './files-workload'
import { catchEverything, reportError, scope } from './worker-scope'

catchEverything()

interface ImportMessage { files: Array<{ name: string, base64: string }> }

async function exportWritten (): Promise<void> {
  const db = new RoughLevel('/written', { writeBufferSize: 64 * 1024 })
  await db.open()
  const ops = workload(1, 6000)
  for (let i = 0; i < ops.length; i += 100) {
    await db.batch(ops.slice(i, i + 100))
  }
  const files = await exportDatabase(db)
  // Written after the export: not in it.
  await db.put('key-after-export', 'x')
  await db.close()
  for (const file of files) scope.postMessage({ type: 'file', name: file.name, base64: Buffer.from(file.bytes).toString('base64') })
  scope.postMessage({ type: 'exported', tables: files.filter((f) => f.name.endsWith('.ldb')).length })
}

async function importSent (message: ImportMessage): Promise<void> {
  await importDatabase('/imported', message.files.map((f) => ({ name: f.name, bytes: Buffer.from(f.base64, 'base64') })))
  const db = new RoughLevel('/imported', { createIfMissing: false })
  const entries = await db.iterator().all()
  await db.close()
  scope.postMessage({ type: 'entries', entries })
}

async function main (): Promise<void> {
  await openOpfs({ pool: 'files' })
  scope.addEventListener('message', (event) => { importSent(event.data as ImportMessage).catch(reportError) })
  await exportWritten()
}

main().catch(reportError)
