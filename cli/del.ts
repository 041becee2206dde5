// rough-level del <dir> <key>: deletes a key, durably (a key that is not there is not an error, as in Level).
import { parseBytes } from './byte-format'
import { type Command, FORMAT_OPTIONS, type ParsedArgs } from './command'
import { EXIT_OK } from './errors'
import { openDatabase } from './open-db'

export const del: Command = {
  name: 'del',
  summary: 'Delete a key (durably; deleting a missing key is not an error).',
  args: '<dir> <key>',
  options: { 'key-format': FORMAT_OPTIONS['key-format'], format: FORMAT_OPTIONS.format },
  details: ['Opens the database (it must not be open in another process); the delete is synced before the command returns.'],
  examples: ['rough-level del ./db greeting', 'rough-level del ./db 00ff --format hex'],
  async run (args: ParsedArgs): Promise<number> {
    const [dir, keyText] = args.positionals
    const key = parseBytes(keyText, args.byteFormat('key'), 'the key')
    const db = await openDatabase(dir, 'del', false)
    try {
      await db.del(key, { sync: true })
    } finally {
      await db.close()
    }
    return EXIT_OK
  }
}
