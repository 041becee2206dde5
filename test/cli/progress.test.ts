// Long work draws a progress bar on stderr when it is a terminal and nothing when it is a pipe: run
// under a pseudo-terminal with util-linux's `script -qc`, then again with pipes.
import test from 'tape'
import { execFileSync } from 'node:child_process'
import path = require('node:path')
import { RoughLevel } from '../../index'
import { CLI, removeDir, runCli, tempDir } from './run-cli'

const BAR = /\r(verify|export|import|repair|compact) +\[[#-]{24}\] +\d+%  [\d.]+ (B|KiB|MiB) \/ [\d.]+ (B|KiB|MiB)  [\d.]+ (B|KiB|MiB)\/s  \S+( left)?\x1b\[K/g

test('cli: verify, export, import, compact and repair draw a progress bar on a terminal, none on a pipe', async (t) => {
  const root = tempDir('progress')
  const dir = path.join(root, 'db')
  const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
  await db.batch(Array.from({ length: 3000 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(5, '0')}`, value: 'v'.repeat(100) })))
  // In tables: export's bar counts bytes of table data, and its read-only open leaves a log's records in
  // memory (where it counts entries instead).
  await db.compactRange('k', 'l')
  await db.close()
  const file = path.join(root, 'out.ndjson')
  const copy = path.join(root, 'copy')
  const node = (args: string): string => `${process.execPath} ${CLI} ${args}`
  const commands = [
    node(`verify ${dir}`), node(`export ${dir} --out ${file}`), node(`import ${copy} --in ${file}`), node(`compact ${copy}`), node(`repair ${copy}`)
  ]
  const tty = execFileSync('script', ['-qec', commands.join(' && '), '/dev/null'], { encoding: 'utf8' })
  const labels = [...tty.matchAll(BAR)].map((m) => m[1])
  for (const label of ['verify', 'export', 'import', 'compact', 'repair']) t.ok(labels.includes(label), `${label} draws a bar on a terminal`)
  t.ok(tty.includes('OK: no damage found') && tty.includes('imported 3000 entries'), 'and its results')

  for (const args of [['verify', dir], ['export', dir, '--out', file], ['import', path.join(root, 'copy2'), '--in', file], ['compact', copy], ['repair', copy]]) {
    const r = await runCli(args)
    t.ok(r.status === 0 && r.stderr === '' && !r.stdout.includes('\r'), `${args[0]} on a pipe: results only`)
  }
  removeDir(root)
})
