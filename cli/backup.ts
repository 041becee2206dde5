// rough-level backup <dir> <dest>: a consistent copy of a database in a new directory, through a read-only
// open and RoughLevel.checkpoint (engine/db/checkpoint.ts): tables hard-linked where the file system allows
// (copied otherwise), what the live logs hold written as a table, a fresh MANIFEST and CURRENT last, all
// synced. Being read-only it takes no lock and changes nothing in <dir>, so it works while another process
// (rough-level, or classic-level) has the database open and writing: the copy is its state as of the open.
import { type Command, type ParsedArgs } from './command'
import { EXIT_OK } from './errors'
import { openForReading } from './open-db'
import type { Output } from './output'
import { formatSize } from './progress'

export const backup: Command = {
  name: 'backup',
  summary: 'Write a consistent copy of a database (open elsewhere or not) to a new directory.',
  args: '<dir> <dest>',
  options: {},
  details: [
    '<dest> must not exist, or must be an empty directory. Works while another process (rough-level or',
    'classic-level) has the database open and writing: the copy holds its state as of the moment the backup',
    'opened it. Tables are hard-linked when <dest> is on the same file system (no bytes copied; later',
    'compactions and deletions in <dir> do not touch them), copied otherwise. The copy opens in rough-level,',
    'classic-level and LevelDB.'
  ],
  examples: ['rough-level backup ./db ./db-backup-2026-11-30'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const [dir, dest] = args.positionals
    const db = await openForReading(dir)
    try {
      const report = await db.checkpoint(dest)
      const memtables = report.memtableBytes > 0 ? `, the live logs as one table of ${formatSize(report.memtableBytes)}` : ''
      await out.line(`backup of ${dir} written to ${dest}: ${report.linked} tables linked, ${report.copied} copied${memtables}`)
    } finally {
      await db.close()
    }
    return EXIT_OK
  }
}
