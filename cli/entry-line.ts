// One entry as one line of output (scan, export, get) and back (import):
//   text    key TAB value (or one of them), each in its format: the formats never write a raw tab or
//           newline, so the line splits unambiguously;
//   NDJSON  {"key": ..., "keyEncoding": ..., "value": ..., "valueEncoding": ...} (see byte-format.ts);
//           import also takes "type": "del" lines, which delete the key.
import { type ByteFormat, formatBytes, fromJsonField, jsonField } from './byte-format'
import { levelError } from './errors'

export interface LineFormat {
  key: ByteFormat
  value: ByteFormat
  json: boolean
}

/** The line for an entry; a part left undefined is left out. */
export function entryLine (key: Uint8Array | undefined, value: Uint8Array | undefined, f: LineFormat): string {
  if (!f.json) {
    if (key === undefined) return formatBytes(value!, f.value)
    return value === undefined ? formatBytes(key, f.key) : `${formatBytes(key, f.key)}\t${formatBytes(value, f.value)}`
  }
  const o: Record<string, unknown> = {}
  if (key !== undefined) {
    const k = jsonField(key, f.key)
    o.key = k.value
    o.keyEncoding = k.encoding
  }
  if (value !== undefined) {
    const v = jsonField(value, f.value)
    o.value = v.value
    o.valueEncoding = v.encoding
  }
  return JSON.stringify(o)
}

export type ImportOp = { type: 'put', key: Buffer, value: Buffer } | { type: 'del', key: Buffer }

/** Parses one NDJSON line; `lineNumber` names it in errors (LEVEL_INVALID_ARGUMENT). */
export function parseEntryLine (line: string, lineNumber: number): ImportOp {
  const where = `line ${lineNumber}`
  let o: unknown
  try {
    o = JSON.parse(line)
  } catch {
    throw levelError('LEVEL_INVALID_ARGUMENT', `${where} is not JSON`)
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw levelError('LEVEL_INVALID_ARGUMENT', `${where} is not a JSON object`)
  const entry = o as Record<string, unknown>
  if (!('key' in entry)) throw levelError('LEVEL_INVALID_ARGUMENT', `${where} has no "key"`)
  const key = fromJsonField(entry.key, entry.keyEncoding, `${where}: key`)
  const type = entry.type ?? 'put'
  if (type === 'del') return { type: 'del', key }
  if (type !== 'put') throw levelError('LEVEL_INVALID_ARGUMENT', `${where}: "type" must be "put" or "del"`)
  if (!('value' in entry)) throw levelError('LEVEL_INVALID_ARGUMENT', `${where} has no "value"`)
  return { type: 'put', key, value: fromJsonField(entry.value, entry.valueEncoding, `${where}: value`) }
}
