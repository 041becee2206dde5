// The key range options of scan, export and compact: --gt/--gte/--lt/--lte (Level's names) or --prefix,
// each read in the key format.
import type { ByteFormat } from './byte-format'
import { parseBytes } from './byte-format'
import type { OptionSpec, ParsedArgs } from './command'
import { UsageError } from './errors'

export interface KeyRange {
  gt?: Buffer
  gte?: Buffer
  lt?: Buffer
  lte?: Buffer
}

export const RANGE_OPTIONS: Record<string, OptionSpec> = {
  gt: { type: 'string', value: 'key', description: 'keys greater than key' },
  gte: { type: 'string', value: 'key', description: 'keys greater than or equal to key' },
  lt: { type: 'string', value: 'key', description: 'keys less than key' },
  lte: { type: 'string', value: 'key', description: 'keys less than or equal to key' },
  prefix: { type: 'string', value: 'bytes', description: 'keys that start with these bytes (not with --gt/--gte/--lt/--lte)' }
}

export function keyRange (args: ParsedArgs, format: ByteFormat): KeyRange {
  const range: KeyRange = {}
  for (const bound of ['gt', 'gte', 'lt', 'lte'] as const) {
    const v = args.string(bound)
    if (v !== undefined) range[bound] = parseBytes(v, format, `--${bound}`)
  }
  const prefix = args.string('prefix')
  if (prefix === undefined) return range
  if (Object.keys(range).length > 0) throw new UsageError('--prefix cannot be combined with --gt, --gte, --lt or --lte')
  const gte = parseBytes(prefix, format, '--prefix')
  const lt = prefixEnd(gte)
  return lt === undefined ? { gte } : { gte, lt }
}

/** The smallest key above every key that starts with prefix, or undefined when there is none (all 0xff). */
function prefixEnd (prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1))
      end[i]++
      return end
    }
  }
  return undefined
}
