// rough-level get <dir> <key>: prints the value (exit 1 with LEVEL_NOT_FOUND when there is none).
import { parseBytes } from './byte-format'
import { type Command, FORMAT_OPTIONS, JSON_OPTION, type ParsedArgs } from './command'
import { entryLine } from './entry-line'
import { EXIT_OK, levelError } from './errors'
import { openForReading } from './open-db'
import type { Output } from './output'

export const get: Command = {
  name: 'get',
  summary: 'Print the value of a key.',
  args: '<dir> <key>',
  options: { ...JSON_OPTION, ...FORMAT_OPTIONS },
  details: [
    'Opens the database read-only: it works while another process has it open, and changes no file.',
    'A missing key is an error (LEVEL_NOT_FOUND, exit status 1). With --json, prints {"key",',
    '"keyEncoding", "value", "valueEncoding"}.'
  ],
  examples: ['rough-level get ./db user:42', 'rough-level get ./db 00ff10 --key-format hex --value-format json'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const [dir, keyText] = args.positionals
    const key = parseBytes(keyText, args.byteFormat('key'), 'the key')
    const format = { key: args.byteFormat('key'), value: args.byteFormat('value'), json: args.flag('json') }
    const db = await openForReading(dir)
    try {
      const value = await db.get(key)
      if (value === undefined) throw levelError('LEVEL_NOT_FOUND', `key '${keyText}' not found`)
      await out.line(format.json ? entryLine(key, value, format) : entryLine(undefined, value, format))
    } finally {
      await db.close()
    }
    return EXIT_OK
  }
}
