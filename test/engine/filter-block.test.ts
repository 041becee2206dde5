// LevelDB table/filter_block_test.cc, with its TestHashFilter (an exact "filter" of fixed32 hashes, so
// that the expectations are not subject to bloom false positives), plus the bloom policy end to end.
import test from 'tape'
import { hash } from '../../engine/util/hash'
import { BloomFilterPolicy } from '../../engine/table/bloom'
import { FilterBlockBuilder, FilterBlockReader } from '../../engine/table/filter-block'
import type { FilterPolicy } from '../../engine/table/filter-policy'
import { getFixed32, putFixed32 } from '../../engine/util/coding'

class TestHashFilter implements FilterPolicy {
  readonly name = 'TestHashFilter'
  keyHash (key: Uint8Array, off: number, len: number): number { return hash(key, off, len, 1) }
  filterSize (n: number): number { return 4 * n }
  createFilterFromHashes (hashes: Uint32Array, n: number, dst: Uint8Array, off: number): number {
    for (let i = 0; i < n; i++) off = putFixed32(dst, off, hashes[i])
    return off
  }

  hashMayMatch (h: number, filter: Uint8Array, fOff: number, fLen: number): boolean {
    for (let i = 0; i + 4 <= fLen; i += 4) if (getFixed32(filter, fOff + i) === h) return true
    return false
  }
}

const policy = new TestHashFilter()
const add = (b: FilterBlockBuilder, s: string): void => { const k = Buffer.from(s); b.addKey(k, 0, k.length) }
const may = (r: FilterBlockReader, offset: number, s: string): boolean => { const k = Buffer.from(s); return r.keyMayMatch(offset, k, 0, k.length) }

test('EmptyBuilder: "\\x00\\x00\\x00\\x00\\x0b", and it matches everything', (t) => {
  const block = new FilterBlockBuilder(policy).finish()
  t.is(Buffer.from(block).toString('hex'), '000000000b')
  const reader = new FilterBlockReader(policy, block)
  t.ok(may(reader, 0, 'foo'))
  t.ok(may(reader, 100000, 'foo'))
  t.end()
})

test('SingleChunk', (t) => {
  const b = new FilterBlockBuilder(policy)
  b.startBlock(100); add(b, 'foo'); add(b, 'bar'); add(b, 'box')
  b.startBlock(200); add(b, 'box')
  b.startBlock(300); add(b, 'hello')
  const reader = new FilterBlockReader(policy, b.finish())
  for (const k of ['foo', 'bar', 'box', 'hello', 'foo']) t.ok(may(reader, 100, k), `${k} may match`)
  t.notOk(may(reader, 100, 'missing'))
  t.notOk(may(reader, 100, 'other'))
  t.end()
})

test('MultiChunk', (t) => {
  const b = new FilterBlockBuilder(policy)
  b.startBlock(0); add(b, 'foo')
  b.startBlock(2000); add(b, 'bar')
  b.startBlock(3100); add(b, 'box')
  b.startBlock(9000); add(b, 'box'); add(b, 'hello')
  const reader = new FilterBlockReader(policy, b.finish())
  t.is(reader.count, 5, 'filters for regions 0..4')

  t.ok(may(reader, 0, 'foo')); t.ok(may(reader, 2000, 'bar'))
  t.notOk(may(reader, 0, 'box')); t.notOk(may(reader, 0, 'hello'))

  t.ok(may(reader, 3100, 'box'))
  t.notOk(may(reader, 3100, 'foo')); t.notOk(may(reader, 3100, 'bar')); t.notOk(may(reader, 3100, 'hello'))

  for (const k of ['foo', 'bar', 'box', 'hello']) t.notOk(may(reader, 4100, k), `empty filter: ${k} does not match`)

  t.ok(may(reader, 9000, 'box')); t.ok(may(reader, 9000, 'hello'))
  t.notOk(may(reader, 9000, 'foo')); t.notOk(may(reader, 9000, 'bar'))

  t.ok(may(reader, 5 * 2048, 'anything'), 'a block past the last filter matches')
  t.end()
})

test('malformed filter blocks disable the filter instead of failing lookups', (t) => {
  for (const bytes of ['', '0b', '0000000b', 'ff0000000b', '00ffffffff0b']) {
    const reader = new FilterBlockReader(policy, Buffer.from(bytes, 'hex'))
    t.ok(may(reader, 0, 'foo'), `"${bytes}" matches everything`)
  }
  // An offset past array_start: treated as a possible match (LevelDB: errors are potential matches).
  const block = Buffer.from(new FilterBlockBuilder(policy).finish())
  const b = new FilterBlockBuilder(policy)
  b.startBlock(0); add(b, 'foo')
  const good = Buffer.from(b.finish())
  const arrayStart = getFixed32(good, good.length - 5)
  putFixed32(good, arrayStart, 1000)
  t.ok(may(new FilterBlockReader(policy, good), 0, 'zzz'), 'offset beyond the filters: match')
  t.is(block.length, 5)
  t.end()
})

test('bloom filter block: every added key matches its own block region, in a 2 KiB layout', (t) => {
  const bloom = new BloomFilterPolicy(10)
  const b = new FilterBlockBuilder(bloom)
  b.startBlock(0)
  const blocks: Array<[number, string[]]> = []
  let offset = 0
  for (let blk = 0; blk < 50; blk++) {
    const keys: string[] = []
    for (let i = 0; i < 20; i++) { const k = `b${blk}-k${i}`; keys.push(k); add(b, k) }
    blocks.push([offset, keys])
    offset += 700 + (blk % 7) * 500
    b.startBlock(offset)
  }
  const reader = new FilterBlockReader(bloom, b.finish())
  let misses = 0
  for (const [off, keys] of blocks) for (const k of keys) if (!may(reader, off, k)) misses++
  t.is(misses, 0, 'no false negatives')
  t.end()
})
