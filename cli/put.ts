// rough-level put <dir> <key> <value> and rough-level del <dir> <key>: one durable write each (synced
// before the command returns). put creates the database if there is none.
import { parseBytes } from './byte-format'
import { type Command, FORMAT_OPTIONS, type ParsedArgs } from './command'
import { EXIT_OK } from './errors'
import { openDatabase } from './open-db'

export const put: Command = {
  name: 'put',
  summary: 'Set a key to a value (durably; creates the database if there is none).',
  args: '<dir> <key> <value>',
  options: { ...FORMAT_OPTIONS },
  details: ['Opens the database (it must not be open in another process); the write is synced before the command returns.'],
  examples: ['rough-level put ./db greeting hello', 'rough-level put ./db 0001 ff00 --format hex'],
  async run (args: ParsedArgs): Promise<number> {
    const [dir, keyText, valueText] = args.positionals
    const key = parseBytes(keyText, args.byteFormat('key'), 'the key')
    const value = parseBytes(valueText, args.byteFormat('value'), 'the value')
    const db = await openDatabase(dir, 'put', true)
    try {
      await db.put(key, value, { sync: true })
    } finally {
      await db.close()
    }
    return EXIT_OK
  }
}
