import test from 'tape'
import { hash } from '../../engine/util/hash'

const SEED = 0xbc9f1d34

test('hash matches LevelDB util/hash_test.cc (SignedUnsignedIssue), tail bytes unsigned', (t) => {
  t.is(hash(new Uint8Array(0), 0, 0, SEED), 0xbc9f1d34, 'empty input returns the seed')
  t.is(hash(Uint8Array.of(0x62), 0, 1, SEED), 0xef1345c4, 'one byte')
  t.is(hash(Uint8Array.of(0xc3, 0x97), 0, 2, SEED), 0x5b663814, 'two bytes')
  t.is(hash(Uint8Array.of(0xe2, 0x99, 0xa5), 0, 3, SEED), 0x323c078f, 'three bytes')
  t.is(hash(Uint8Array.of(0xe1, 0x80, 0xb9, 0x32), 0, 4, SEED), 0xed21633a, 'one whole word')
  const data5 = Uint8Array.of(
    0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
    0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
  )
  t.is(hash(data5, 0, 48, 0x12345678), 0xf333dabb, '48 bytes, seed 0x12345678')
  t.is(hash(Buffer.from('hello'), 0, 5, SEED), 0xf795964e, '"hello" (reference §8.9)')
  t.end()
})

test('hash reads only data[off, off + len) and returns a uint32', (t) => {
  const framed = Uint8Array.of(0xff, 0xff, 0xe2, 0x99, 0xa5, 0xff)
  t.is(hash(framed, 2, 3, SEED), 0x323c078f, 'same hash from the middle of a larger buffer')
  for (let len = 0; len < 40; len++) {
    const data = new Uint8Array(len).fill(0xff)
    const h = hash(data, 0, len, SEED)
    t.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `length ${len}: ${h} is a uint32`)
  }
  t.end()
})
