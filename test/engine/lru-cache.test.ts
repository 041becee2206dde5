import test from 'tape'
import { LruCache } from '../../engine/util/lru-cache'
import { Block } from '../../engine/table/block'
import type { BlockCache } from '../../engine/table/table'

test('the LRU cache keeps the most recently used entries within its charge', (t) => {
  const cache = new LruCache<string>(10, (v) => v.length)
  cache.insert(1, 0, 'aaaa')
  cache.insert(1, 100, 'bbbb')
  t.is(cache.totalCharge, 8)
  t.is(cache.get(1, 0), 'aaaa', 'hit, and now the newest')
  cache.insert(2, 0, 'cccc') // 12 > 10: evicts the least recently used, (1, 100)
  t.is(cache.get(1, 100), undefined, 'oldest evicted')
  t.is(cache.get(1, 0), 'aaaa')
  t.is(cache.get(2, 0), 'cccc')
  t.is(cache.totalCharge, 8)
  t.is(cache.size, 2)
  t.is(cache.get(2, 100), undefined, 'same offset, other id: a miss')
  cache.insert(2, 0, 'dd')
  t.is(cache.get(2, 0), 'dd', 'replaced')
  t.is(cache.totalCharge, 6)
  cache.insert(3, 0, 'x'.repeat(11))
  t.is(cache.get(3, 0), undefined, 'larger than the capacity: not kept')
  t.is(cache.get(1, 0), 'aaaa', 'and nothing else evicted for it')
  cache.eraseId(1)
  t.is(cache.get(1, 0), undefined, 'eraseId drops a table')
  t.is(cache.totalCharge, 2)
  cache.clear()
  t.is(cache.size, 0)
  t.end()
})

test('a zero-capacity cache keeps nothing; many inserts stay within capacity', (t) => {
  const none = new LruCache<string>(0, (v) => v.length)
  none.insert(1, 0, 'a')
  t.is(none.get(1, 0), undefined)
  const cache = new LruCache<Uint8Array>(4096, (v) => v.length)
  for (let i = 0; i < 1000; i++) {
    cache.insert(i % 7, i, new Uint8Array(1 + (i % 100)))
    if (cache.totalCharge > 4096) t.fail(`over capacity after ${i}`)
  }
  let sum = 0
  for (let i = 0; i < 1000; i++) sum += cache.get(i % 7, i)?.length ?? 0
  t.is(sum, cache.totalCharge, 'charges add up to what is cached')
  t.end()
})

test('LruCache<Block> serves as a table BlockCache, charged by block size', (t) => {
  const cache: BlockCache & LruCache<Block> = new LruCache<Block>(100, (b) => b.size)
  const block = new Block(Buffer.from('0000000001000000', 'hex'))
  cache.insert(5, 4096, block)
  t.is(cache.get(5, 4096), block)
  t.is(cache.totalCharge, 8)
  t.end()
})

/**
 * Runs `ops` random operations on a cache and on a plain list model side by side: gets on `ids` x `offsets`
 * keys, inserts charged 1 to maxCharge (1% of them over the capacity), erases, table erases and clears.
 */
function followsModel (t: test.Test, ops: number, capacity: number, maxCharge: number, ids: number, offsets: number): number {
  // The model: entries oldest first, each found by a linear search. Every value is a distinct object, so
  // that a get returning another entry's value, or a value removed twice or never, shows.
  interface Entry { id: number, offset: number, value: { n: number }, charge: number }
  let seed = 0x2545f491
  const random = (): number => { // xorshift32: a full period of 2^32 - 1, unlike an LCG in doubles
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5
    return (seed >>> 0) / 4294967296
  }
  const removed = new Map<number, number>() // value n -> times onRemove saw it
  const charges = new Map<number, number>()
  const cache = new LruCache<{ n: number }>(capacity, (v) => charges.get(v.n)!, (v) => removed.set(v.n, (removed.get(v.n) ?? 0) + 1))
  let model: Entry[] = []
  let made = 0
  let wrong = 0
  let hits = 0
  let largest = 0
  // Offsets past 2^32 and 2^48 too: a table file's block offsets are not bounded by 32 bits.
  const offsetOf = (k: number): number => (k % 3 === 0 ? k * 4096 : k % 3 === 1 ? 2 ** 32 + k * 512 : 2 ** 48 + k)
  for (let op = 0; op < ops; op++) {
    const r = random()
    const id = Math.floor(random() * ids)
    const offset = offsetOf(Math.floor(random() * offsets))
    if (r < 0.45) {
      const i = model.findIndex((e) => e.id === id && e.offset === offset)
      const got = cache.get(id, offset)
      if (i < 0) {
        if (got !== undefined) wrong++
      } else {
        const [e] = model.splice(i, 1)
        model.push(e)
        if (got !== e.value) wrong++
        else hits++
      }
    } else if (r < 0.9) {
      const value = { n: made++ }
      const charge = random() < 0.01 ? capacity + 1 : 1 + Math.floor(random() * maxCharge)
      charges.set(value.n, charge)
      cache.insert(id, offset, value)
      const i = model.findIndex((e) => e.id === id && e.offset === offset)
      if (i >= 0) model.splice(i, 1)
      if (charge <= capacity) {
        let total = model.reduce((s, e) => s + e.charge, 0)
        while (total + charge > capacity) total -= model.shift()!.charge
        model.push({ id, offset, value, charge })
      }
    } else if (r < 0.997) {
      cache.erase(id, offset)
      model = model.filter((e) => !(e.id === id && e.offset === offset))
    } else if (r < 1 - 3 / ops) {
      cache.eraseId(id)
      model = model.filter((e) => e.id !== id)
    } else {
      cache.clear()
      model = []
    }
    if (cache.size !== model.length || cache.totalCharge !== model.reduce((s, e) => s + e.charge, 0)) {
      t.fail(`after op ${op}: size ${cache.size} and charge ${cache.totalCharge}, the model ${model.length} and ${model.reduce((s, e) => s + e.charge, 0)}`)
      return largest
    }
    largest = Math.max(largest, cache.size)
  }
  t.is(wrong, 0, `every get answered as the model does (${hits} hits)`)
  t.ok(hits > ops / 20, 'the workload hits the cache often enough to test recency')
  const live = new Set(model.map((e) => e.value.n))
  let badRemovals = 0
  for (let n = 0; n < made; n++) {
    const times = removed.get(n) ?? 0
    if (times !== (live.has(n) ? 0 : 1)) badRemovals++
  }
  t.is(badRemovals, 0, `onRemove saw each of ${made} values once when it left, and never one still cached`)
  return largest
}

test('the LRU cache follows a plain list model through random inserts, gets, erases, table erases and clears', (t) => {
  followsModel(t, 60_000, 30_000, 800, 8, 25) // about 75 entries of 200 keys, each table's erased often
  t.end()
})

test('...and with over a thousand small entries, past its first slots and hash (it grows)', (t) => {
  const largest = followsModel(t, 30_000, 3_000, 4, 20, 100) // about 1,200 entries of 2,000 keys
  t.ok(largest > 1_000, `it held ${largest} entries at most`)
  t.end()
})
