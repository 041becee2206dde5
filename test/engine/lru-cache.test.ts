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
