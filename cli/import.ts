// rough-level import <dir>: NDJSON lines (as export and scan --json write them) into a database, in
// batches that are each written atomically. Creates the database if there is none. On a bad line it
// stops with one error line naming it; the batches before it stay written (and the count says how many).
import fs = require('node:fs')
import readline = require('node:readline')
import { type Command, type ParsedArgs } from './command'
import { type ImportOp, parseEntryLine } from './entry-line'
import { EXIT_OK, UsageError } from './errors'
import { openDatabase } from './open-db'
import type { Output } from './output'
import { Progress } from './progress'

export const importCommand: Command = {
  name: 'import',
  summary: 'Write NDJSON entries (as export writes them) into a database, in atomic batches.',
  args: '<dir>',
  options: {
    in: { type: 'string', short: 'i', value: 'file', description: 'read from file instead of stdin' },
    batch: { type: 'string', value: 'count', description: 'entries per atomic batch (default 1000)' }
  },
  details: [
    'Each line is {"key", "value"} with optional "keyEncoding" and "valueEncoding" (utf8, the default;',
    'hex; base64; json) and optional "type": "del" (the key is deleted). Creates the database if there',
    'is none; it must not be open in another process. Each batch is written atomically and synced.'
  ],
  examples: ['rough-level import ./db --in backup.ndjson', 'rough-level export ./old | rough-level import ./new'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const dir = args.positionals[0]
    const batchSize = Math.max(1, args.integer('batch', 1000))
    const file = args.string('in')
    if (file === undefined && process.stdin.isTTY === true) throw new UsageError('import reads NDJSON from stdin, which is a terminal here: pipe it in or give --in <file>')
    const input = file === undefined ? process.stdin : fs.createReadStream(file)
    const total = inputSize(file)
    const db = await openDatabase(dir, 'import', true)
    const progress = Progress.onStderr('import', 'bytes', total)
    let written = 0
    let deletes = 0
    let bytes = 0
    let lineNumber = 0
    let batch: ImportOp[] = []
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return
      await db.batch(batch, { sync: true })
      written += batch.length
      batch = []
      progress.update(bytes)
    }
    try {
      const lines = readline.createInterface({ input, crlfDelay: Infinity })
      try {
        for await (const line of lines) {
          lineNumber++
          bytes += Buffer.byteLength(line) + 1
          if (line.trim() === '') continue
          let op: ImportOp
          try {
            op = parseEntryLine(line, lineNumber)
          } catch (err) {
            await flush().catch(() => {})
            if (err instanceof Error) err.message += ` (the ${written} entries before it are written)`
            throw err
          }
          if (op.type === 'del') deletes++
          batch.push(op)
          if (batch.length >= batchSize) await flush()
        }
      } finally {
        lines.close()
      }
      await flush()
    } finally {
      progress.finish()
      await db.close()
    }
    await out.line(`imported ${written} entries (${written - deletes} puts, ${deletes} deletes) from ${lineNumber} lines`)
    return EXIT_OK
  }
}

/** Bytes of the input, when it is a regular file (stdin redirected from one included). */
function inputSize (file: string | undefined): number | undefined {
  try {
    const stat = file === undefined ? fs.fstatSync(0) : fs.statSync(file)
    return stat.isFile() ? stat.size : undefined
  } catch {
    return undefined
  }
}
