// rough-level scan <dir>: entries in key order (or reverse), one per line, within a range or prefix.
// export is the same walk with every entry as NDJSON and a progress bar (see export.ts).
import { type Command, FORMAT_OPTIONS, JSON_OPTION, type ParsedArgs } from './command'
import { entryLine, type LineFormat } from './entry-line'
import { EXIT_OK, UsageError } from './errors'
import { keyRange, type KeyRange, RANGE_OPTIONS } from './key-range'
import { type Database, openForReading } from './open-db'
import type { Output } from './output'

const BATCH = 1000

export const scan: Command = {
  name: 'scan',
  summary: 'Print entries in key order, one per line (key TAB value, or NDJSON with --json).',
  args: '<dir>',
  options: {
    ...RANGE_OPTIONS,
    reverse: { type: 'boolean', short: 'r', description: 'largest key first' },
    limit: { type: 'string', short: 'n', value: 'count', description: 'at most count entries' },
    keys: { type: 'boolean', description: 'keys only' },
    values: { type: 'boolean', description: 'values only' },
    ...JSON_OPTION,
    ...FORMAT_OPTIONS
  },
  details: [
    'Opens the database read-only: it works while another process has it open, reads it as of the',
    'open and changes no file. Text lines are key TAB value; the formats never write a raw tab or',
    'newline. --json lines are {"key", "keyEncoding", "value", "valueEncoding"}, as export writes and',
    'import reads.'
  ],
  examples: [
    'rough-level scan ./db --prefix user: --limit 10',
    'rough-level scan ./db --gte a --lt b --reverse --json',
    'rough-level scan ./db --keys --format hex'
  ],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const dir = args.positionals[0]
    if (args.flag('keys') && args.flag('values')) throw new UsageError('--keys and --values cannot be combined (leave both out for entries)')
    const format: LineFormat = { key: args.byteFormat('key'), value: args.byteFormat('value'), json: args.flag('json') }
    const range = keyRange(args, format.key)
    const limit = args.integer('limit', -1)
    const db = await openForReading(dir)
    try {
      await walkEntries(db, { ...range, reverse: args.flag('reverse'), limit }, async (key, value) => {
        await out.line(entryLine(args.flag('values') ? undefined : key, args.flag('keys') ? undefined : value, format))
      })
    } finally {
      await db.close()
    }
    return EXIT_OK
  }
}

export interface WalkOptions extends KeyRange {
  reverse?: boolean
  limit?: number
}

/** Calls visit for every entry in range, in order, reading in batches; resolves when done. */
export async function walkEntries (db: Database, options: WalkOptions, visit: (key: Buffer, value: Buffer) => Promise<void> | undefined): Promise<void> {
  const it = db.iterator(options)
  try {
    for (;;) {
      const entries = await it.nextv(BATCH)
      if (entries.length === 0) break
      for (const [key, value] of entries) await visit(key, value)
    }
  } finally {
    await it.close()
  }
}
