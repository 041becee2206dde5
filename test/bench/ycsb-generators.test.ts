// The bench's YCSB request generators against YCSB itself: key hashes computed by YCSB's own Utils.fnvhash64
// (core/src/main/java/site/ycsb/Utils.java compiled and run on these numbers), and the zipfian distributions
// against the frequencies Gray et al.'s method gives by construction to the two most popular items.
import test from 'tape'
import { distinct, mulberry32, mulberry32Double } from '../../bench/data'
import { fnvhash64, InsertCounter, keyName, ScrambledZipfian, SkewedLatest, Zipfian } from '../../bench/ycsb-generators'

const THETA = 0.99
const DRAWS = 200_000

/** zeta(n, theta) = sum over i = 1..n of 1 / i^theta, summed here independently of the generator. */
function zeta (n: number): number {
  let sum = 0
  for (let i = 1; i <= n; i++) sum += Math.pow(i, -THETA)
  return sum
}

function counts (draw: () => number, draws: number): Map<number, number> {
  const seen = new Map<number, number>()
  for (let i = 0; i < draws; i++) {
    const v = draw()
    seen.set(v, (seen.get(v) ?? 0) + 1)
  }
  return seen
}

/** Within 5% of the expected share (200,000 draws put the standard error near 1% for shares around 4%). */
function near (actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 0.05 * expected
}

test('fnvhash64 and key names match YCSB\'s Utils.fnvhash64 and CoreWorkload.buildKeyName', (t) => {
  const fromYcsb: Array<[number, string]> = [
    [0, '6284781860667377211'],
    [1, '8517097267634966620'],
    [2, '1820151046732198393'],
    [999, '2071219101098386137'],
    [123456789, '2350796791908741607'],
    [10000000000, '1201321332300452516']
  ]
  for (const [n, hash] of fromYcsb) t.is(String(fnvhash64(n)), hash, `fnvhash64(${n})`)
  t.is(keyName(0), 'user6284781860667377211', 'record 0 is YCSB\'s user6284781860667377211')
  t.end()
})

test('zipfian over 1,000 items: item 0 drawn 1/zeta(n) of the time, item 1 that over 2^theta, all in range', (t) => {
  const z = new Zipfian(mulberry32Double(7), 0, 999)
  const seen = counts(() => z.next(), DRAWS)
  const p0 = 1 / zeta(1000)
  t.ok(near((seen.get(0) ?? 0) / DRAWS, p0), `item 0: ${((seen.get(0) ?? 0) / DRAWS).toFixed(4)}, expected ${p0.toFixed(4)}`)
  const p1 = p0 / Math.pow(2, THETA)
  t.ok(near((seen.get(1) ?? 0) / DRAWS, p1), `item 1: ${((seen.get(1) ?? 0) / DRAWS).toFixed(4)}, expected ${p1.toFixed(4)}`)
  t.ok([...seen.keys()].every((k) => Number.isInteger(k) && k >= 0 && k <= 999), 'every draw an item of 0..999')
  t.ok(seen.size > 900, `the tail is drawn too (${seen.size} distinct items)`)
  t.end()
})

test('scrambled zipfian: the most popular record is where YCSB hashes item 0, with YCSB\'s share', (t) => {
  const z = new ScrambledZipfian(mulberry32Double(11), 0, 999)
  const seen = counts(() => z.next(), DRAWS)
  const top = [...seen.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))
  t.is(top[0], Number(6284781860667377211n % 1000n), 'record 211 (fnvhash64(0) mod 1000) is the most popular')
  // ScrambledZipfianGenerator draws among 10^10 + 1 items whose zeta YCSB gives as 26.46902820178302: item 0
  // has 1/26.469 of the draws, and the hash spreads the rest evenly, a thousandth of it to each record.
  const share = top[1] / DRAWS
  const expected = 1 / 26.46902820178302 + (1 - 1 / 26.46902820178302) / 1000
  t.ok(near(share, expected), `its share ${share.toFixed(4)} is ${expected.toFixed(4)}`)
  t.ok([...seen.keys()].every((k) => k >= 0 && k <= 999), 'every draw a record of 0..999')
  t.end()
})

test('latest: the newest insert is the most popular, and inserts move the popularity with them', (t) => {
  const counter = new InsertCounter(1000)
  const latest = new SkewedLatest(mulberry32Double(13), counter)
  const before = counts(() => latest.next(), DRAWS / 4)
  const top = [...before.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))
  t.is(top[0], 999, 'record 999, the last loaded, is the most popular')
  const p0 = 1 / zeta(999)
  t.ok(near(top[1] / (DRAWS / 4), p0), `its share ${(top[1] / (DRAWS / 4)).toFixed(4)} is 1/zeta(999) = ${p0.toFixed(4)}`)
  counter.acknowledge(counter.take())
  const after = counts(() => latest.next(), DRAWS / 4)
  t.ok((after.get(1000) ?? 0) > (after.get(999) ?? 0), 'after an insert, record 1000 leads')
  t.ok([...after.keys()].every((k) => k >= 0 && k <= 1000), 'never a record not yet inserted')
  t.end()
})

test('mulberry32 draws do not cycle: 1,000,000 draws among 10,000,000 keys are nearly all distinct', (t) => {
  const random = mulberry32(20241124)
  const keys = Uint32Array.from({ length: 1_000_000 }, () => Math.floor(random() * 10_000_000))
  // Expected distinct: n * (1 - (1 - 1/n)^k) = 951,626 for n = 10^7, k = 10^6.
  const d = distinct(keys)
  t.ok(Math.abs(d - 951_626) < 3000, `${d} distinct, expected about 951,626`)
  t.end()
})
