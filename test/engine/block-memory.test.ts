// Block memory, and Blocks, are reused once released (engine/table/block-memory.ts, Block.take), and released
// only when their last reference goes (engine/table/block.ts): the block cache's and each iterator's. Reads
// are checked against the entries the table was built from; npm test's runner poisons released memory
// (POISON_ENV), so a block read after its release fails here even before its memory is used again.
import test from 'tape'
import type { RandomAccessFile } from '../../engine/fs/file-system'
import { compareInternalKeys, putTag, TAG_BYTES, ValueType } from '../../engine/internal-key'
import { Block, BlockIterator } from '../../engine/table/block'
import { newBlockCache } from '../../engine/table/block-cache'
import { blockMemory, blockMemoryStats, POISON_ENV, releaseBlockMemory } from '../../engine/table/block-memory'
import { Table, TableEntry } from '../../engine/table/table'
import { TableBuilder } from '../../engine/table/table-builder'
import { LruCache } from '../../engine/util/lru-cache'
import { MemoryWritableFile } from './helpers/memory-file'
import { Random } from './helpers/random'

const ENTRIES = 6000

function userKey (i: number): Buffer {
  return Buffer.from(String(i).padStart(16, '0'), 'latin1')
}

function ikey (i: number): Buffer {
  const b = Buffer.alloc(16 + TAG_BYTES)
  userKey(i).copy(b)
  putTag(b, 16, 1, ValueType.Value)
  return b
}

/** 100 bytes, different for every entry, that snappy cannot shrink to nothing. */
function value (i: number): Buffer {
  const v = Buffer.alloc(100)
  let s = (i + 1) * 2654435761 >>> 0
  for (let j = 0; j < 100; j++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; v[j] = s >>> 24 }
  return v
}

/** A table of ENTRIES entries in 4 KiB blocks (about 150 of them), in memory. */
function buildTable (): RandomAccessFile {
  const file = new MemoryWritableFile('000009.ldb')
  const builder = new TableBuilder({ blockSize: 4096, blockRestartInterval: 16, compression: 'snappy', bloomBitsPerKey: 10 }, file)
  for (let i = 0; i < ENTRIES; i++) {
    const k = ikey(i)
    const v = value(i)
    builder.add(k, 0, k.length, v, 0, v.length)
  }
  builder.finish()
  return { path: file.path, read: (b, o, l, p) => file.read(b, o, l, p), size: () => file.length, close: () => {} }
}

const table = buildTable()

function openTable (cacheBytes: number, cacheId: number): Table {
  return Table.open(table, table.size(), table.path, { blockCache: newBlockCache(cacheBytes), cacheId })
}

/** Whether the entry `out` holds is entry i, value and all. */
function isEntry (out: TableEntry, i: number): boolean {
  const k = ikey(i)
  return compareInternalKeys(out.keyBuf, 0, out.keyLen, k, 0, k.length) === 0 &&
    Buffer.from(out.valueBuf.subarray(out.valueOff, out.valueOff + out.valueLen)).equals(value(i))
}

test('block memory: the runner poisons released blocks, so these tests see a read after release', (t) => {
  t.is(process.env[POISON_ENV], '1', `${POISON_ENV}=1 (set by test/run.ts)`)
  t.end()
})

test('block memory: buffers released are handed out again, not made anew', (t) => {
  const taken: Uint8Array[] = []
  for (let i = 0; i < 100; i++) taken.push(blockMemory(3700 + i)) // 3,700-3,799 bytes: the 4,096-byte class
  t.ok(taken.every((b) => b.length === 4096 && b.byteOffset === 0 && b.buffer.byteLength === 4096), 'each a buffer of its own, its size rounded up to its class')
  const before = blockMemoryStats().buffersCreated
  for (const b of taken) releaseBlockMemory(b)
  t.ok(blockMemoryStats().spareBytes >= 100 * 4096, `released: ${blockMemoryStats().spareBytes} bytes kept`)
  const again: Uint8Array[] = []
  for (let i = 0; i < 100; i++) again.push(blockMemory(3600 + i))
  t.is(blockMemoryStats().buffersCreated, before, 'none made for as many blocks of the class again')
  t.ok(again.every((b) => taken.includes(b)), 'the released buffers themselves')
  t.ok(again.every((b) => b[0] === 0xdb && b[4095] === 0xdb), 'poisoned while they were released (POISON_ENV)')
  const bigger = blockMemory(5000)
  t.ok(!taken.includes(bigger) && bigger.length === 5120, 'a larger block takes a buffer of its own class')
  for (const b of again) releaseBlockMemory(b)
  releaseBlockMemory(bigger)
  t.end()
})

test('block memory: random gets through a small block cache reuse memory and Blocks, and every value read is right', (t) => {
  const tbl = openTable(64 * 1024, 1)
  const random = new Random(7)
  const out = new TableEntry()
  // Fill the cache first: from then on each block read replaces one that leaves it.
  for (let n = 0; n < 2000; n++) { const k = ikey(random.int(ENTRIES)); tbl.get(k, 0, k.length, out) }
  const before = blockMemoryStats().buffersCreated
  const readsBefore = tbl.stats.dataBlockReads
  let wrong = 0
  const reads = 20000
  for (let n = 0; n < reads; n++) {
    const i = random.int(ENTRIES)
    const k = ikey(i)
    if (!tbl.get(k, 0, k.length, out) || !isEntry(out, i)) wrong++
  }
  const made = blockMemoryStats().buffersCreated - before
  const blockReads = tbl.stats.dataBlockReads - readsBefore
  t.is(wrong, 0, `${reads} random gets, each finding its entry's value`)
  t.ok(blockReads > reads / 2, `most gets read their block from the table (${blockReads})`)
  // Without reuse every block read is a new buffer.
  t.ok(made <= 8, `${made} buffers made for ${blockReads} blocks read`)
  tbl.close()
  t.end()
})

test('block memory: a cache smaller than a block keeps none, and the block read is still right', (t) => {
  const tbl = openTable(1024, 3)
  const out = new TableEntry()
  let wrong = 0
  for (let i = 0; i < ENTRIES; i += 61) {
    const k = ikey(i)
    if (!tbl.get(k, 0, k.length, out) || !isEntry(out, i)) wrong++
  }
  t.is(wrong, 0, 'every key read through a 1 KiB cache')
  tbl.close()
  t.end()
})

test('block memory: a block an iterator is on outlives its eviction from the cache', (t) => {
  const tbl = openTable(16 * 1024, 2)
  const random = new Random(11)
  const out = new TableEntry()
  // Scans, each stopped part-way through a block while gets evict it and read other blocks into memory.
  let wrong = 0
  let checked = 0
  for (let round = 0; round < 20; round++) {
    const it = tbl.iterator(true)
    const start = random.int(ENTRIES - 200)
    const k = ikey(start)
    it.seek(k, 0, k.length)
    for (let i = start; i < start + 200; i++) {
      if (!it.valid()) { wrong++; break }
      const want = ikey(i)
      if (compareInternalKeys(it.keyBuf, it.keyOff, it.keyLen, want, 0, want.length) !== 0 ||
        !Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen)).equals(value(i))) wrong++
      checked++
      if (i % 37 === 0) {
        for (let n = 0; n < 50; n++) {
          const j = random.int(ENTRIES)
          const g = ikey(j)
          if (!tbl.get(g, 0, g.length, out) || !isEntry(out, j)) wrong++
        }
      }
      it.next()
    }
    it.close()
  }
  t.is(wrong, 0, `${checked} entries scanned between gets that evict the scan's block, all right`)
  tbl.close()
  t.end()
})

test('block memory: the block cache drops its reference when a block leaves, however it leaves', (t) => {
  const removed: string[] = []
  const cache = new LruCache<string>(10, (v) => v.length, (v) => removed.push(v))
  cache.insert(1, 0, 'aaaa')
  cache.insert(1, 1, 'bbbb')
  cache.insert(1, 2, 'cccc') // over 10: the oldest goes
  t.same(removed, ['aaaa'], 'evicted')
  cache.insert(1, 1, 'BBBB')
  t.same(removed, ['aaaa', 'bbbb'], 'replaced')
  cache.insert(1, 3, 'x'.repeat(11))
  t.same(removed.slice(2), ['x'.repeat(11)], 'refused for its charge')
  cache.erase(1, 2)
  t.same(removed.slice(3), ['cccc'], 'erased')
  cache.insert(2, 0, 'dd')
  cache.eraseId(2)
  t.same(removed.slice(4), ['dd'], 'erased with its table')
  cache.clear()
  t.same(removed.slice(5), ['BBBB'], 'cleared')
  t.end()
})

test('block memory: a block whose last reference went cannot be used again', (t) => {
  const block = Block.take(16)
  block.data.fill(0, 0, 16)
  block.init(16, 'test.ldb', 0)
  const it = new BlockIterator(compareInternalKeys, block, 0)
  it.close()
  t.throws(() => new BlockIterator(compareInternalKeys, block, 0), /released block of test\.ldb at offset 0 is used again/, 'ref() after the last unref() throws')
  t.throws(() => block.unref(), /released block of test\.ldb at offset 0 is released again/, 'and so does a second release')
  t.end()
})
