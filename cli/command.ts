// What a command is: its name, what it does, its options (parsed by node:util parseArgs, which also
// gives --help its list), an example, and run(). Each command lives in a file of its own under cli/.
import { parseArgs } from 'node:util'
import { type ByteFormat, BYTE_FORMATS, isByteFormat } from './byte-format'
import { UsageError } from './errors'
import type { Output } from './output'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** The value's placeholder in --help, for string options. */
  value?: string
  description: string
}

export interface Command {
  readonly name: string
  /** One line for the command list. */
  readonly summary: string
  /** Positional arguments, e.g. '<dir> <key>'; '?' marks optional ones as '[file]'. */
  readonly args: string
  readonly options: Readonly<Record<string, OptionSpec>>
  /** Lines of further explanation for `rough-level <command> --help`. */
  readonly details?: readonly string[]
  /** At least one example command line. */
  readonly examples: readonly string[]
  /** Runs with the parsed command line; resolves with the exit status. */
  run (args: ParsedArgs, out: Output): Promise<number>
}

export class ParsedArgs {
  readonly positionals: string[]
  readonly #values: Record<string, string | boolean | undefined>

  constructor (positionals: string[], values: Record<string, string | boolean | undefined>) {
    this.positionals = positionals
    this.#values = values
  }

  flag (name: string): boolean {
    return this.#values[name] === true
  }

  string (name: string): string | undefined {
    const v = this.#values[name]
    return typeof v === 'string' ? v : undefined
  }

  /** A non-negative integer option, or `fallback` when absent. */
  integer (name: string, fallback: number): number {
    const v = this.string(name)
    if (v === undefined) return fallback
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer, not ${JSON.stringify(v)}`)
    return Number(v)
  }

  /** The byte format for keys or values: --key-format / --value-format, else --format, else utf8. */
  byteFormat (which: 'key' | 'value'): ByteFormat {
    const v = this.string(`${which}-format`) ?? this.string('format') ?? 'utf8'
    if (!isByteFormat(v)) throw new UsageError(`unknown format ${JSON.stringify(v)}: use ${BYTE_FORMATS.join(', ')}`)
    return v
  }
}

/** Options every command takes. */
export const HELP_OPTION: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' }
}

/** The --format options of commands that print or take keys and values. */
export const FORMAT_OPTIONS: Record<string, OptionSpec> = {
  format: { type: 'string', value: 'utf8|hex|base64|json', description: 'how keys and values are written and read (default utf8: text with \\xNN for other bytes)' },
  'key-format': { type: 'string', value: 'format', description: 'format for keys only' },
  'value-format': { type: 'string', value: 'format', description: 'format for values only' }
}

export const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'write JSON (one object per line where there are many) instead of text' }
}

/** Parses argv for `command`; throws UsageError for unknown options or a wrong number of arguments. */
export function parseCommandLine (command: Command, argv: string[]): ParsedArgs {
  const options = { ...command.options, ...HELP_OPTION }
  const config: Record<string, { type: 'string' | 'boolean', short?: string }> = {}
  for (const [name, spec] of Object.entries(options)) {
    config[name] = spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short }
  }
  let parsed: { values: Record<string, string | boolean | Array<string | boolean> | undefined>, positionals: string[] }
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0] : String(err))
  }
  const values: Record<string, string | boolean | undefined> = {}
  for (const [k, v] of Object.entries(parsed.values)) values[k] = Array.isArray(v) ? v[v.length - 1] : v
  const args = new ParsedArgs(parsed.positionals, values)
  if (args.flag('help')) return args
  const names = command.args.split(' ').filter((a) => a !== '')
  const required = names.filter((a) => a.startsWith('<')).length
  if (parsed.positionals.length < required) throw new UsageError(`expects ${command.args}`)
  if (parsed.positionals.length > names.length) throw new UsageError(`expects ${command.args}, got ${parsed.positionals.length} arguments`)
  return args
}

/** `rough-level <command> --help`. */
export function commandHelp (command: Command): string {
  const lines = [`rough-level ${command.name} ${command.args}`.trimEnd(), '', command.summary]
  if (command.details !== undefined) lines.push('', ...command.details)
  const options = { ...command.options, ...HELP_OPTION }
  lines.push('', 'Options:')
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = (spec.short === undefined ? '    ' : `-${spec.short}, `) + `--${name}` + (spec.type === 'string' ? ` <${spec.value ?? 'value'}>` : '')
    return [flag, spec.description]
  })
  const width = Math.max(...rows.map(([flag]) => flag.length))
  for (const [flag, description] of rows) lines.push(`  ${flag.padEnd(width)}  ${description}`)
  lines.push('', command.examples.length > 1 ? 'Examples:' : 'Example:')
  for (const e of command.examples) lines.push(`  ${e}`)
  return lines.join('\n') + '\n'
}
