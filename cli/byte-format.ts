// How the tool writes keys and values, and reads them from its arguments and from NDJSON:
//   utf8    text; a byte that is not part of printable UTF-8 is written \xNN and a backslash \\, so any
//           bytes print losslessly on one line (LevelDB's leveldbutil escapes the same way, minus UTF-8)
//   hex     lowercase hexadecimal
//   base64  standard base64
//   json    the bytes are JSON text (Level's 'json' encoding): written compactly, read with JSON.parse
// In NDJSON lines (scan --json, export, import) each key and value is a JSON field with an encoding
// field beside it: 'utf8' (a JSON string of the text, used only when the bytes are valid UTF-8, so
// that it round-trips exactly), 'hex', 'base64' or 'json'.
import ModuleError = require('module-error')

export const BYTE_FORMATS = ['utf8', 'hex', 'base64', 'json'] as const
export type ByteFormat = typeof BYTE_FORMATS[number]

export function isByteFormat (s: string): s is ByteFormat {
  return (BYTE_FORMATS as readonly string[]).includes(s)
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The bytes as UTF-8 text, or undefined when they are not valid UTF-8. */
export function utf8Text (bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** Bytes as one line of text in `format`. Throws LEVEL_DECODE_ERROR when `json` bytes are not JSON. */
export function formatBytes (bytes: Uint8Array, format: ByteFormat): string {
  switch (format) {
    case 'utf8': return escapeBytes(bytes)
    case 'hex': return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
    case 'base64': return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64')
    case 'json': return JSON.stringify(parseJson(bytes))
  }
}

/** Text given on the command line in `format`, as bytes (the inverse of formatBytes). */
export function parseBytes (text: string, format: ByteFormat, what: string): Buffer {
  switch (format) {
    case 'utf8': return unescapeText(text, what)
    case 'hex':
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw invalidInput(`${what} is not hexadecimal: ${JSON.stringify(text)}`)
      return Buffer.from(text, 'hex')
    case 'base64':
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw invalidInput(`${what} is not base64: ${JSON.stringify(text)}`)
      return Buffer.from(text, 'base64')
    case 'json': {
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        throw invalidInput(`${what} is not JSON: ${JSON.stringify(text)}`)
      }
      return Buffer.from(JSON.stringify(value), 'utf8')
    }
  }
}

/** A key or value as an NDJSON field and its encoding. `utf8` falls back to base64 for bytes that are not UTF-8. */
export function jsonField (bytes: Uint8Array, format: ByteFormat): { value: unknown, encoding: ByteFormat } {
  if (format === 'utf8') {
    const text = utf8Text(bytes)
    return text === undefined ? { value: formatBytes(bytes, 'base64'), encoding: 'base64' } : { value: text, encoding: 'utf8' }
  }
  if (format === 'json') return { value: parseJson(bytes), encoding: 'json' }
  return { value: formatBytes(bytes, format), encoding: format }
}

/** The bytes an NDJSON field stands for (the inverse of jsonField). */
export function fromJsonField (value: unknown, encoding: unknown, what: string): Buffer {
  const format = encoding ?? 'utf8'
  if (typeof format !== 'string' || !isByteFormat(format)) throw invalidInput(`${what}: unknown encoding ${JSON.stringify(format)}`)
  if (format === 'json') return Buffer.from(JSON.stringify(value), 'utf8')
  if (typeof value !== 'string') throw invalidInput(`${what} must be a string in encoding ${format}`)
  return format === 'utf8' ? Buffer.from(value, 'utf8') : parseBytes(value, format, what)
}

function parseJson (bytes: Uint8Array): unknown {
  const text = utf8Text(bytes)
  try {
    if (text !== undefined) return JSON.parse(text)
  } catch {}
  throw new ModuleError(`not JSON: ${escapeBytes(bytes.subarray(0, 64))}${bytes.length > 64 ? '...' : ''} (use --format utf8, hex or base64)`, { code: 'LEVEL_DECODE_ERROR' })
}

function invalidInput (message: string): Error {
  return new ModuleError(message, { code: 'LEVEL_INVALID_ARGUMENT' })
}

const HEX = '0123456789abcdef'

/**
 * UTF-8 text with every byte outside printable UTF-8 written \xNN and a backslash written \\:
 * ASCII controls and DEL, C1 controls, and bytes that do not form a valid, shortest UTF-8 sequence.
 */
export function escapeBytes (bytes: Uint8Array): string {
  let out = ''
  const n = bytes.length
  for (let i = 0; i < n;) {
    const b = bytes[i]
    if (b >= 0x20 && b < 0x7f) {
      out += b === 0x5c ? '\\\\' : String.fromCharCode(b)
      i++
      continue
    }
    const cp = b >= 0xc2 ? decodeSequence(bytes, i) : -1
    if (cp >= 0xa0) {
      out += String.fromCodePoint(cp)
      i += cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
      continue
    }
    out += '\\x' + HEX[b >> 4] + HEX[b & 15]
    i++
  }
  return out
}

/** The code point of the valid, shortest UTF-8 sequence of 2 to 4 bytes at i (lead byte >= 0xc2), or -1. */
function decodeSequence (bytes: Uint8Array, i: number): number {
  const b = bytes[i]
  const len = b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0
  if (len === 0 || i + len > bytes.length) return -1
  let cp = b & (0x7f >> len)
  for (let j = 1; j < len; j++) {
    const c = bytes[i + j]
    if ((c & 0xc0) !== 0x80) return -1
    cp = (cp << 6) | (c & 0x3f)
  }
  const min = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1
  return cp
}

/** The inverse of escapeBytes: text as UTF-8, with \xNN read as a byte and \\ as a backslash. */
function unescapeText (text: string, what: string): Buffer {
  if (!text.includes('\\')) return Buffer.from(text, 'utf8')
  const parts: Buffer[] = []
  let literal = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c !== '\\') {
      literal += c
      continue
    }
    const next = text[i + 1]
    if (next === '\\') {
      literal += '\\'
      i++
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      parts.push(Buffer.from(literal, 'utf8'), Buffer.from([parseInt(text.slice(i + 2, i + 4), 16)]))
      literal = ''
      i += 3
    } else {
      throw invalidInput(`${what}: a backslash must start \\xNN or \\\\ in utf8 format (or use --format hex): ${JSON.stringify(text)}`)
    }
  }
  parts.push(Buffer.from(literal, 'utf8'))
  return Buffer.concat(parts)
}
