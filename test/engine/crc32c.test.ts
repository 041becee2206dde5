import test from 'tape'
import { crc32c, crc32cPure, mask, unmask, nativeCrc32c } from '../../engine/util/crc32c'

// Vectors from LevelDB's util/crc32c_test.cc and the reference's worked example.
const vectors: Array<[string, Uint8Array, number]> = [
  ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
  ['32 0xff bytes', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['ascending 00..1f', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ['descending 1f..00', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ['"123456789"', Buffer.from('123456789'), 0xe3069283]
]

test('crc32c matches LevelDB test vectors (native and pure)', (t) => {
  t.comment(`native binding in use: ${nativeCrc32c}`)
  for (const [name, data, expected] of vectors) {
    t.is(crc32c(data, 0), expected, `native/default: ${name}`)
    t.is(crc32cPure(data, 0), expected, `pure: ${name}`)
  }
  t.end()
})

test('crc32c extend equals crc of the concatenation', (t) => {
  const a = Buffer.from('hello ')
  const b = Buffer.from('world, a longer tail of bytes')
  const whole = crc32cPure(Buffer.concat([a, b]))
  t.is(crc32c(b, crc32c(a, 0)), whole, 'native extend')
  t.is(crc32cPure(b, crc32cPure(a)), whole, 'pure extend')
  // Lengths not a multiple of 4 exercise the pure loop's tail.
  for (let n = 0; n < 40; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff)
    t.is(crc32cPure(data), crc32c(data, 0), `length ${n}`)
  }
  t.end()
})

test('mask and unmask as LevelDB stores CRCs', (t) => {
  t.is(mask(0xe3069283), 0xc78ab0e5, 'masked example from the format reference')
  for (const crc of [0, 1, 0xffffffff, 0x12345678, 0xe3069283]) {
    t.is(unmask(mask(crc)), crc, `round trip ${crc.toString(16)}`)
    t.not(mask(crc), crc, 'mask changes the value')
  }
  t.end()
})
