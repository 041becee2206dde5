// The tool's byte formats: every byte string survives each format both ways, utf8 text escapes exactly
// what is not printable UTF-8, and NDJSON fields fall back to base64 only for bytes that are not UTF-8.
import test from 'tape'
import { escapeBytes, formatBytes, fromJsonField, jsonField, parseBytes, utf8Text } from '../../cli/byte-format'
import { prng } from '../fixtures/level-child'

function randomBytes (rnd: () => number, n: number): Buffer {
  const pool = [0x00, 0x09, 0x0a, 0x5c, 0x41, 0x7f, 0x80, 0xc2, 0xa9, 0xc3, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xff]
  return Buffer.from(Array.from({ length: n }, () => rnd() < 0.5 ? pool[Math.floor(rnd() * pool.length)] : Math.floor(rnd() * 256)))
}

test('byte formats: utf8 (escaped), hex, base64 and NDJSON fields round-trip any bytes', (t) => {
  const rnd = prng(17)
  let failures = 0
  for (let i = 0; i < 3000; i++) {
    const bytes = randomBytes(rnd, Math.floor(rnd() * 12))
    for (const format of ['utf8', 'hex', 'base64'] as const) {
      try {
        const text = formatBytes(bytes, format)
        if (/[\x00-\x1f\x7f]/.test(text) || !parseBytes(text, format, 'x').equals(bytes)) failures++
      } catch {
        failures++
      }
    }
    const field = jsonField(bytes, 'utf8')
    if (!fromJsonField(JSON.parse(JSON.stringify(field.value)), field.encoding, 'x').equals(bytes)) failures++
    // base64 only when the bytes are not UTF-8 (checked by Node's own decoder).
    const valid = Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)
    if ((field.encoding === 'utf8') !== valid || (utf8Text(bytes) !== undefined) !== valid) failures++
  }
  t.is(failures, 0, 'no failures over 3000 random byte strings')
  t.end()
})

test('byte formats: the utf8 text of known bytes', (t) => {
  t.is(escapeBytes(Buffer.from([0x41, 0x5c, 0x00, 0x09, 0x0a, 0x7f])), 'A\\\\\\x00\\x09\\x0a\\x7f', 'ASCII controls, DEL and backslash escaped')
  t.is(escapeBytes(Buffer.from('é€😀', 'utf8')), 'é€😀', 'valid UTF-8 printed as is')
  t.is(escapeBytes(Buffer.from([0xc2, 0x85])), '\\xc2\\x85', 'a C1 control escaped byte by byte')
  t.is(escapeBytes(Buffer.from([0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82])), '\\xc0\\x80\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80\\xe2\\x82', 'overlong, surrogate, beyond U+10FFFF and truncated sequences escaped')
  t.same(parseBytes('a\\x00\\\\b', 'utf8', 'k'), Buffer.from([0x61, 0x00, 0x5c, 0x62]), 'escapes read back from the command line')
  t.throws(() => parseBytes('a\\n', 'utf8', 'k'), (e: any) => e.code === 'LEVEL_INVALID_ARGUMENT', 'an unknown escape is refused')
  t.throws(() => parseBytes('abc', 'hex', 'k'), (e: any) => e.code === 'LEVEL_INVALID_ARGUMENT', 'odd hex is refused')
  t.is(formatBytes(Buffer.from('{ "a" : [1, 2] }'), 'json'), '{"a":[1,2]}', 'json written compactly')
  t.throws(() => formatBytes(Buffer.from('nope'), 'json'), (e: any) => e.code === 'LEVEL_DECODE_ERROR', 'bytes that are not JSON: LEVEL_DECODE_ERROR')
  t.end()
})
