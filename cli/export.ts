// rough-level export <dir>: every entry (or a range) as NDJSON, to stdout or --out file: the lines import
// reads back. Keys and values that are valid UTF-8 are written as text, others as base64, each with its
// encoding field, so binary data round-trips exactly. A progress bar (on a terminal) follows the share
// of table data passed (LevelDB's approximate sizes), so it can say how long is left.
import { type Command, type ParsedArgs } from './command'
import { entryLine, type LineFormat } from './entry-line'
import { EXIT_OK } from './errors'
import { keyRange, type KeyRange, RANGE_OPTIONS } from './key-range'
import { type Database, openForReading } from './open-db'
import { Output } from './output'
import { Progress } from './progress'
import { walkEntries } from './scan'

const FORMAT: LineFormat = { key: 'utf8', value: 'utf8', json: true }
const PROGRESS_EVERY = 1000

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write every entry as NDJSON (binary-safe; the input import takes) to stdout or a file.',
  args: '<dir>',
  options: {
    out: { type: 'string', short: 'o', value: 'file', description: 'write to file instead of stdout' },
    ...RANGE_OPTIONS,
    'key-format': { type: 'string', value: 'utf8|hex|base64', description: 'format of the range options\' keys (default utf8)' }
  },
  details: [
    'Each line is {"key", "keyEncoding", "value", "valueEncoding"}: utf8 text where the bytes are valid',
    'UTF-8, base64 otherwise. Opens the database read-only: it works while another process has it',
    'open (the export is the state as of the open) and changes no file.'
  ],
  examples: ['rough-level export ./db --out backup.ndjson', 'rough-level export ./db --prefix user: | gzip > users.ndjson.gz'],
  async run (args: ParsedArgs, stdout: Output): Promise<number> {
    const dir = args.positionals[0]
    const range = keyRange(args, args.byteFormat('key'))
    const file = args.string('out')
    const out = file === undefined ? stdout : Output.toFile(file)
    const db = await openForReading(dir)
    try {
      const position = await tablePosition(db, range)
      const progress = position.total > 0 ? Progress.onStderr('export', 'bytes', position.total) : Progress.onStderr('export', 'entries')
      let n = 0
      try {
        await walkEntries(db, range, async (key, value) => {
          const pending = out.line(entryLine(key, value, FORMAT))
          if (++n % PROGRESS_EVERY === 0) progress.update(position.total > 0 ? await position.at(key) : n)
          await pending
        })
      } finally {
        progress.finish()
      }
      if (file !== undefined) {
        await out.end()
        await stdout.line(`exported ${n} entries to ${file}`)
      }
    } finally {
      await db.close()
    }
    return EXIT_OK
  }
}

/** Where a key lies in the range, in bytes of table data before it (0 when everything is in the memtable). */
async function tablePosition (db: Database, range: KeyRange): Promise<{ total: number, at: (key: Buffer) => Promise<number> }> {
  const first = range.gt ?? range.gte ?? Buffer.alloc(0)
  let last = range.lt ?? range.lte
  if (last === undefined) {
    const [key] = await db.keys({ reverse: true, limit: 1 }).all()
    last = key ?? first
  }
  const end = last
  const total = await db.approximateSize(first, end)
  return { total, at: async (key) => await db.approximateSize(first, key) }
}
