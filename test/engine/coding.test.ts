import test from 'tape'
import {
  ByteReader, getFixed32, getFixed64, putFixed32, putFixed64, putVarint32, putVarint64, varintLength
} from '../../engine/util/coding'

function hex (buf: Uint8Array, n: number): string {
  return Buffer.from(buf.subarray(0, n)).toString('hex')
}

test('varints encode as the format reference shows', (t) => {
  const cases: Array<[number, string]> = [
    [0, '00'], [127, '7f'], [128, '8001'], [180, 'b401'], [300, 'ac02'], [16384, '808001'],
    [2 ** 32 - 1, 'ffffffff0f']
  ]
  const buf = new Uint8Array(16)
  for (const [v, expected] of cases) {
    t.is(hex(buf, putVarint32(buf, 0, v)), expected, `varint32 ${v}`)
    t.is(hex(buf, putVarint64(buf, 0, v)), expected, `varint64 ${v}`)
    t.is(varintLength(v), expected.length / 2, `length of ${v}`)
    const r = new ByteReader(buf, 0, expected.length / 2)
    t.is(r.varint64(), v, `decode ${v}`)
    t.is(r.pos, expected.length / 2, 'consumed every byte')
  }
  t.end()
})

test('varint64 round-trips up to 2^53 - 1 and rejects larger values', (t) => {
  const buf = new Uint8Array(16)
  for (const v of [2 ** 32, 2 ** 35 + 7, 2 ** 49 - 1, Number.MAX_SAFE_INTEGER]) {
    const n = putVarint64(buf, 0, v)
    t.is(new ByteReader(buf, 0, n).varint64(), v, `round trip ${v}`)
  }
  // 2^56 - 1 as a varint: eight 0xff groups then 0x7f... encode by hand: 7 bits per byte.
  const big = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
  t.throws(() => new ByteReader(big).varint64(), (err: any) => err.code === 'LEVEL_CORRUPTION', 'beyond 2^53 is corruption')
  t.end()
})

test('varint decoding rejects truncation and over-long input with LEVEL_CORRUPTION', (t) => {
  const isCorruption = (err: any): boolean => err.code === 'LEVEL_CORRUPTION' && /offset \d+/.test(err.message)
  t.throws(() => new ByteReader(Uint8Array.from([0x80])).varint32(), isCorruption, 'truncated varint32')
  t.throws(() => new ByteReader(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).varint32(), isCorruption, 'six-byte varint32')
  t.throws(() => new ByteReader(new Uint8Array(11).fill(0x80)).varint64(), isCorruption, 'eleven-byte varint64')
  t.throws(() => new ByteReader(Uint8Array.from([5, 1, 2])).lengthPrefixed(), isCorruption, 'length prefix past the end')
  // LevelDB accepts over-long encodings such as 80 00 for zero.
  t.is(new ByteReader(Uint8Array.from([0x80, 0x00])).varint32(), 0, 'over-long zero accepted')
  t.end()
})

test('fixed32 and fixed64 are little-endian', (t) => {
  const buf = new Uint8Array(8)
  putFixed32(buf, 0, 0x12345678)
  t.is(hex(buf, 4), '78563412', 'fixed32 bytes')
  t.is(getFixed32(buf, 0), 0x12345678, 'fixed32 read')
  putFixed64(buf, 0, 2 ** 40 + 5)
  t.is(hex(buf, 8), '0500000000010000', 'fixed64 bytes')
  t.is(getFixed64(buf, 0), 2 ** 40 + 5, 'fixed64 read')
  buf.fill(0xff)
  t.throws(() => getFixed64(buf, 0), (err: any) => err.code === 'LEVEL_CORRUPTION', 'fixed64 beyond 2^53')
  t.end()
})
