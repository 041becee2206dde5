#!/usr/bin/env node
// rough-level's command-line tool: look inside, check and mend a LevelDB directory (rough-level's own,
// classic-level's, Chromium's Local Storage, goleveldb's, a backup) wherever Node runs.
//   rough-level <command> [arguments] [options]     rough-level --help     rough-level <command> --help
// Results go to stdout; errors are one line on stderr with the Level error code; progress bars are drawn
// on stderr only when it is a terminal.
import { COMMANDS } from './commands'
import { commandHelp, parseCommandLine } from './command'
import { errorLine, EXIT_OK, EXIT_USAGE, exitStatus, UsageError } from './errors'
import { Output } from './output'

function overview (): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length))
  const lines = [
    'rough-level: look inside, check and mend a LevelDB database directory',
    '',
    'Usage: rough-level <command> [arguments] [options]',
    '',
    'Commands:'
  ]
  for (const c of COMMANDS) {
    lines.push(`  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`)
    lines.push(`  ${''.padEnd(width)}  e.g. ${c.examples[0]}`)
  }
  lines.push(
    '',
    'Keys and values print as utf8 text with \\xNN for other bytes unless --format says otherwise.',
    'info, dump and verify read the files, and get, scan and export open the database read-only: none',
    'takes the lock or changes a file, so they work on a database open elsewhere. The writing commands',
    'need it closed. `rough-level <command> --help` tells more.'
  )
  return lines.join('\n') + '\n'
}

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const command = COMMANDS.find((c) => c.name === rest[0])
    process.stdout.write(command === undefined ? overview() : commandHelp(command))
    return name === undefined ? EXIT_USAGE : EXIT_OK
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${(require('../../package.json') as { version: string }).version}\n`)
    return EXIT_OK
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (command === undefined) {
    process.stderr.write(errorLine('', new UsageError(`unknown command ${JSON.stringify(name)}`)) + '\n')
    return EXIT_USAGE
  }
  const out = new Output(process.stdout)
  try {
    const args = parseCommandLine(command, rest)
    if (args.flag('help')) {
      process.stdout.write(commandHelp(command))
      return EXIT_OK
    }
    const status = await command.run(args, out)
    await out.end()
    return status
  } catch (err) {
    await out.end().catch(() => {})
    process.stderr.write(errorLine(command.name, err) + '\n')
    if (process.env.ROUGH_LEVEL_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`)
    return exitStatus(err)
  }
}

main(process.argv.slice(2)).then((status) => { process.exitCode = status }, (err: unknown) => {
  process.stderr.write(errorLine('', err) + '\n')
  process.exitCode = 1
})
