// rough-level destroy <dir> --yes: LevelDB's DestroyDB through RoughLevel.destroy (only LevelDB's files
// are deleted, then the directory if nothing else is in it; an open database is refused with LEVEL_LOCKED).
import { RoughLevel } from '../index'
import { type Command, type ParsedArgs } from './command'
import { EXIT_OK, UsageError } from './errors'
import { withLockMessage } from './open-db'
import type { Output } from './output'

export const destroy: Command = {
  name: 'destroy',
  summary: 'Delete a database: every LevelDB file in the directory, then the directory if it is empty (needs --yes).',
  args: '<dir>',
  options: { yes: { type: 'boolean', short: 'y', description: 'really delete (required)' } },
  details: ['Files that are not LevelDB\'s stay, and so does the directory then. A database open elsewhere is refused (LEVEL_LOCKED).'],
  examples: ['rough-level destroy ./db --yes'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const dir = args.positionals[0]
    if (!args.flag('yes')) throw new UsageError(`destroy deletes the database in ${dir} for good: add --yes to go ahead`)
    await withLockMessage(dir, 'destroy', async () => await RoughLevel.destroy(dir))
    await out.line(`destroyed ${dir}`)
    return EXIT_OK
  }
}
