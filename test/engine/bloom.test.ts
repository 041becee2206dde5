import test from 'tape'
import { BloomFilterPolicy, BLOOM_FILTER_NAME, bloomMayMatch } from '../../engine/table/bloom'

const key = (i: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(i)
  return b
}

function mayMatch (policy: BloomFilterPolicy, filter: Uint8Array, k: Uint8Array): boolean {
  return policy.keyMayMatch(k, 0, k.length, filter, 0, filter.length)
}

test('the filter for {"hello", "world"} at 10 bits per key is LevelDB\'s (reference §8.9)', (t) => {
  const policy = new BloomFilterPolicy(10)
  t.is(policy.name, 'leveldb.BuiltinBloomFilter2')
  t.is(BLOOM_FILTER_NAME, 'leveldb.BuiltinBloomFilter2')
  t.is(policy.k, 6, 'k = floor(10 * 0.69)')
  const filter = policy.createFilter([Buffer.from('hello'), Buffer.from('world')])
  t.is(Buffer.from(filter).toString('hex'), '114000414410401006')
  t.ok(mayMatch(policy, filter, Buffer.from('hello')))
  t.ok(mayMatch(policy, filter, Buffer.from('world')))
  t.notOk(mayMatch(policy, filter, Buffer.from('x')))
  t.notOk(mayMatch(policy, filter, Buffer.from('foo')))
  t.is(Buffer.from(policy.createFilter([Buffer.from('foo')])).toString('hex'), '204912000000000006', 'bloom of {"foo"} (reference §14.4)')
  t.end()
})

test('k is floor(0.69 * bitsPerKey) clamped to [1, 30]', (t) => {
  t.is(new BloomFilterPolicy(1).k, 1)
  t.is(new BloomFilterPolicy(2).k, 1)
  t.is(new BloomFilterPolicy(20).k, 13)
  t.is(new BloomFilterPolicy(100).k, 30)
  t.end()
})

test('an empty filter matches nothing; a short one matches nothing; k > 30 matches everything', (t) => {
  const policy = new BloomFilterPolicy(10)
  const empty = policy.createFilter([])
  t.is(empty.length, 9, '64 bits + k')
  t.notOk(mayMatch(policy, empty, Buffer.from('hello')))
  t.notOk(mayMatch(policy, empty, Buffer.from('')))
  t.notOk(policy.keyMayMatch(Buffer.from('a'), 0, 1, Uint8Array.of(6), 0, 1), 'one byte: no match')
  t.notOk(policy.keyMayMatch(Buffer.from('a'), 0, 1, new Uint8Array(0), 0, 0), 'zero bytes: no match')
  const reserved = new Uint8Array(9)
  for (const k of [31, 0x80, 0xff]) {
    reserved[8] = k
    t.ok(mayMatch(policy, reserved, Buffer.from('anything')), `k = ${k} is reserved: match`)
  }
  t.ok(bloomMayMatch(12345, Uint8Array.of(0, 0, 0), 0, 3) === true, 'k = 0 probes nothing: match')
  t.end()
})

test('no false negatives, and about 1% false positives at 10 bits per key, for filters of many lengths', (t) => {
  const policy = new BloomFilterPolicy(10)
  let mediocre = 0
  let good = 0
  const lengths: number[] = []
  for (let n = 1; n <= 10000; n = n < 10 ? n + 1 : n < 100 ? n + 10 : n < 1000 ? n + 100 : n + 1000) lengths.push(n)
  for (const n of lengths) {
    const keys: Buffer[] = []
    for (let i = 0; i < n; i++) keys.push(key(i))
    const filter = policy.createFilter(keys)
    t.ok(filter.length <= Math.ceil(n * 10 / 8) + 40 + 1, `length ${n}: filter of ${filter.length} bytes is not oversized`)
    let falseNegatives = 0
    for (let i = 0; i < n; i++) if (!mayMatch(policy, filter, keys[i])) falseNegatives++
    if (falseNegatives !== 0) t.fail(`length ${n}: ${falseNegatives} false negatives`)
    let positives = 0
    for (let i = 0; i < 10000; i++) if (mayMatch(policy, filter, key(i + 1000000000))) positives++
    const rate = positives / 10000
    t.ok(rate <= 0.02, `length ${n}: false-positive rate ${(rate * 100).toFixed(2)}% <= 2%`)
    if (rate > 0.0125) mediocre++
    else good++
  }
  t.ok(mediocre * 5 <= good, `mostly good filters (${good} good, ${mediocre} mediocre), as LevelDB's bloom_test requires`)
  t.end()
})

test('false-positive rate over 10000 keys at 10 bits per key is within 0.3%-2%', (t) => {
  const policy = new BloomFilterPolicy(10)
  const keys: Buffer[] = []
  for (let i = 0; i < 10000; i++) keys.push(Buffer.from(`user-key-${i}`))
  const filter = policy.createFilter(keys)
  t.is(filter.length, 12501, '100000 bits + k')
  let fp = 0
  const probes = 100000
  for (let i = 0; i < probes; i++) if (mayMatch(policy, filter, Buffer.from(`absent-${i}`))) fp++
  const rate = fp / probes
  t.ok(rate >= 0.003 && rate <= 0.02, `rate ${(rate * 100).toFixed(3)}%`)
  t.end()
})
