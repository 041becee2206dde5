import test from 'tape'
import { putTag, ValueType, compareInternalKeys, compareBytes } from '../../engine/internal-key'
import {
  internalShortestSeparator, internalShortSuccessor, shortestSeparator, shortSuccessor
} from '../../engine/key-shortening'

const enc = (s: string): Buffer => Buffer.from(s, 'latin1')
const str = (b: Uint8Array, n: number): string => Buffer.from(b.subarray(0, n)).toString('latin1')

function sep (start: string, limit: string): string {
  const s = enc(start)
  const l = enc(limit)
  return str(s, shortestSeparator(s, 0, s.length, l, 0, l.length))
}

function succ (key: string): string {
  const k = enc(key)
  return str(k, shortSuccessor(k, 0, k.length))
}

function ikey (user: string, seq: number, type = ValueType.Value): Buffer {
  const b = Buffer.alloc(user.length + 8)
  b.write(user, 'latin1')
  putTag(b, user.length, seq, type)
  return b
}

const MAX_TAG = '01ffffffffffffff'

test('bytewise separator follows the reference examples (start[i] + 1 < limit[i], strictly)', (t) => {
  t.is(sep('the quick brown fox', 'the who'), 'the r')
  t.is(sep('abc', 'abd'), 'abc', 'adjacent bytes: unchanged')
  t.is(sep('abc1', 'abe'), 'abd')
  t.is(sep('ab', 'abc'), 'ab', 'prefix: unchanged')
  t.is(sep('abc', 'ab'), 'abc', 'limit a prefix of start: unchanged')
  t.is(sep('a\xff\x01', 'b'), 'a\xff\x01', 'a + 1 is not < b: unchanged')
  t.is(sep('\xff\x00', '\xff\x05'), '\xff\x01')
  t.is(sep('abc', 'abe'), 'abd', 'same length when the last byte differs (bytewise level)')
  t.end()
})

test('bytewise successor increments the first non-0xff byte and cuts after it', (t) => {
  t.is(succ('foo'), 'g')
  t.is(succ('\xff\xffa\xff'), '\xff\xffb')
  t.is(succ('\xff\xff'), '\xff\xff', 'all 0xff: unchanged')
  t.is(succ(''), '', 'empty: unchanged')
  t.end()
})

test('internal separator adds the max tag only when the user key got shorter', (t) => {
  const start = ikey('the quick brown fox', 100)
  const limit = ikey('the who', 200)
  const n = internalShortestSeparator(start, 0, start.length, limit, 0, limit.length)
  t.is(str(start, n - 8), 'the r', 'user key shortened')
  t.is(Buffer.from(start.subarray(n - 8, n)).toString('hex'), MAX_TAG, 'tag (2^56 - 1, Value)')
  t.ok(compareInternalKeys(ikey('the quick brown fox', 100), 0, start.length, start, 0, n) < 0, 'start < separator')
  t.ok(compareInternalKeys(start, 0, n, limit, 0, limit.length) < 0, 'separator < limit')

  const cases: Array<[Buffer, Buffer]> = [
    [ikey('abc', 5), ikey('abe', 7)], // cut would not be shorter
    [ikey('abc', 5), ikey('abd', 7)], // adjacent
    [ikey('foo', 100), ikey('foo', 99)], // same user key
    [ikey('ab', 5), ikey('abc', 1)] // prefix
  ]
  for (const [s, l] of cases) {
    const before = Buffer.from(s)
    const len = internalShortestSeparator(s, 0, s.length, l, 0, l.length)
    t.is(len, s.length, `unchanged length for ${before.toString('hex')}`)
    t.ok(compareBytes(s, 0, len, before, 0, before.length) === 0, 'bytes unchanged, tag included')
  }
  t.end()
})

test('internal successor: "foo" becomes "g" with the max tag; all-0xff stays', (t) => {
  const k = ikey('foo', 1)
  const n = internalShortSuccessor(k, 0, k.length)
  t.is(Buffer.from(k.subarray(0, n)).toString('hex'), '67' + MAX_TAG)
  const f = ikey('\xff\xff', 9)
  const before = Buffer.from(f)
  t.is(internalShortSuccessor(f, 0, f.length), f.length)
  t.ok(before.equals(f), 'unchanged')
  const g = ikey('a', 9) // successor "b" is not shorter than "a": keep the whole key
  t.is(internalShortSuccessor(g, 0, g.length), g.length)
  t.ok(ikey('a', 9).equals(g), 'one-byte key unchanged')
  t.end()
})

test('separators stay within [start, limit) for random key pairs', (t) => {
  let seed = 12345
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n }
  let bad = 0
  for (let i = 0; i < 3000; i++) {
    const a = Buffer.from(Array.from({ length: rnd(6) }, () => [0, 1, 0x61, 0xfe, 0xff][rnd(5)]))
    const b = Buffer.from(Array.from({ length: rnd(6) }, () => [0, 1, 0x61, 0xfe, 0xff][rnd(5)]))
    let s = Buffer.concat([a, Buffer.alloc(8)])
    let l = Buffer.concat([b, Buffer.alloc(8)])
    putTag(s, a.length, rnd(1000), ValueType.Value)
    putTag(l, b.length, rnd(1000), ValueType.Value)
    if (compareInternalKeys(s, 0, s.length, l, 0, l.length) >= 0) [s, l] = [l, s]
    if (compareInternalKeys(s, 0, s.length, l, 0, l.length) === 0) continue
    const orig = Buffer.from(s)
    const n = internalShortestSeparator(s, 0, s.length, l, 0, l.length)
    if (compareInternalKeys(orig, 0, orig.length, s, 0, n) > 0 || compareInternalKeys(s, 0, n, l, 0, l.length) >= 0) bad++
    const succ = Buffer.from(orig)
    const n2 = internalShortSuccessor(succ, 0, succ.length)
    if (compareInternalKeys(orig, 0, orig.length, succ, 0, n2) > 0 || n2 > orig.length) bad++
  }
  t.is(bad, 0, 'no separator outside its range')
  t.end()
})
