// engine/table/table-cache: tables opened by number (.ldb, then .sst), checked against the MANIFEST's
// size, kept open LRU up to capacity, never closed under an iterator that still reads them.
import fs = require('node:fs')
import test from 'tape'
import { ValueType } from '../../engine/internal-key'
import type { InternalIterator } from '../../engine/internal-iterator'
import { TableEntry } from '../../engine/table/table'
import { TableCache } from '../../engine/table/table-cache'
import { eventLoopBudget } from '../../engine/util/event-loop-budget'
import { newBlockCache } from '../../engine/table/block-cache'
import { sstTableFileName, tableFileName } from '../../engine/filename'
import type { FileMetaData } from '../../engine/version/version-edit'
import { CountingFileSystem, type Entry, ikey, removeDir, tempDir, writeTable } from './helpers/table-files'

/** Table `number` holding keys k000..k(n-1), values `v<number>-<i>` (so tables are told apart). */
function entriesFor (number: number, n = 60): Entry[] {
  const out: Entry[] = []
  for (let i = 0; i < n; i++) out.push([ikey(`k${String(i).padStart(3, '0')}`, 10 + i), Buffer.from(`v${number}-${i}`.padEnd(24, '.'))])
  return out
}

function setup (label: string, count: number): { dir: string, fs: CountingFileSystem, files: FileMetaData[] } {
  const dir = tempDir(label)
  const files: FileMetaData[] = []
  for (let n = 1; n <= count; n++) files.push(writeTable(dir, n, entriesFor(n)))
  return { dir, fs: new CountingFileSystem(), files }
}

function lookup (cache: TableCache, f: FileMetaData, user: string, fillCache = true): string | undefined {
  const out = new TableEntry()
  const k = ikey(user, 1000, ValueType.Value)
  if (!cache.get(f.number, f.fileSize, k, 0, k.length, fillCache, out)) return undefined
  if (Buffer.compare(Buffer.from(out.keyBuf.subarray(0, out.keyLen - 8)), Buffer.from(user, 'latin1')) !== 0) return undefined
  return Buffer.from(out.valueBuf.subarray(out.valueOff, out.valueOff + out.valueLen)).toString().replace(/\.+$/, '')
}

function drain (it: InternalIterator): number {
  let n = 0
  for (it.seekToFirst(); it.valid(); it.next()) n++
  return n
}

const isCode = (code: string, name: string) => (err: any): boolean => err.code === code && String(err.message).includes(name)

test('table cache: get reads the table named by the number, opening each file once', (t) => {
  const { dir, fs: cfs, files } = setup('tc-get', 3)
  const cache = new TableCache(dir, cfs, 10)
  t.equal(lookup(cache, files[0], 'k005'), 'v1-5')
  t.equal(lookup(cache, files[1], 'k005'), 'v2-5')
  t.equal(lookup(cache, files[1], 'k059'), 'v2-59')
  t.equal(lookup(cache, files[2], 'zzz'), undefined, 'past the last key: nothing')
  t.equal(cfs.totalOpens(), 3, 'three tables, three opens')
  t.equal(cache.stats.tablesOpened, 3)
  t.equal(cache.stats.openTables, 3)
  cache.close()
  t.same(cfs.openNow(), [], 'close() closes every idle table')
  removeDir(dir)
  t.end()
})

test('table cache: a table written before LevelDB 1.14 is read as NNNNNN.sst', (t) => {
  const { dir, fs: cfs, files } = setup('tc-sst', 1)
  fs.renameSync(tableFileName(dir, 1), sstTableFileName(dir, 1))
  const cache = new TableCache(dir, cfs, 10)
  t.equal(lookup(cache, files[0], 'k010'), 'v1-10')
  t.same([...cfs.opens.keys()], ['000001.sst'])
  cache.close()
  removeDir(dir)
  t.end()
})

test('table cache: a missing table is LEVEL_CORRUPTION naming the file, and the error is not cached', (t) => {
  const { dir, fs: cfs, files } = setup('tc-missing', 1)
  const moved = tableFileName(dir, 1) + '.away'
  fs.renameSync(tableFileName(dir, 1), moved)
  const cache = new TableCache(dir, cfs, 10)
  t.throws(() => lookup(cache, files[0], 'k001'), isCode('LEVEL_CORRUPTION', '000001.ldb'), 'get')
  t.throws(() => cache.iterator(1, files[0].fileSize, false), isCode('LEVEL_CORRUPTION', 'missing file'), 'iterator')
  fs.renameSync(moved, tableFileName(dir, 1))
  t.equal(lookup(cache, files[0], 'k001'), 'v1-1', 'once the file is back, it opens')
  cache.close()
  removeDir(dir)
  t.end()
})

test('table cache: a size that differs from the MANIFEST\'s is LEVEL_CORRUPTION naming the file; the file is closed', (t) => {
  const { dir, fs: cfs, files } = setup('tc-size', 1)
  const cache = new TableCache(dir, cfs, 10)
  t.throws(() => cache.get(1, files[0].fileSize + 1, ikey('k', 1), 0, 9, true, new TableEntry()), isCode('LEVEL_CORRUPTION', '000001.ldb'), 'larger')
  t.throws(() => cache.iterator(1, files[0].fileSize - 1, true), isCode('LEVEL_CORRUPTION', '000001.ldb'), 'smaller')
  t.same(cfs.openNow(), [], 'no descriptor left open')
  t.equal(cache.stats.openTables, 0)
  cache.close()
  removeDir(dir)
  t.end()
})

test('table cache: an unparsable table is LEVEL_CORRUPTION, an open failing otherwise is LEVEL_IO_ERROR', (t) => {
  const { dir, fs: cfs } = setup('tc-bad', 0)
  fs.writeFileSync(tableFileName(dir, 4), Buffer.alloc(100, 7))
  fs.writeFileSync(tableFileName(dir, 5), Buffer.alloc(10, 7))
  const cache = new TableCache(dir, cfs, 10)
  t.throws(() => cache.iterator(4, 100, true), isCode('LEVEL_CORRUPTION', '000004.ldb'), 'bad magic')
  t.throws(() => cache.iterator(5, 10, true), isCode('LEVEL_CORRUPTION', '000005.ldb'), 'too short')
  cfs.failOpen = (p) => p.endsWith('.ldb') ? 'EACCES' : undefined
  t.throws(() => cache.iterator(4, 100, true), isCode('LEVEL_IO_ERROR', '000004.ldb'), 'EACCES')
  t.same(cfs.openNow(), [])
  cache.close()
  removeDir(dir)
  t.end()
})

test('table cache: idle tables beyond capacity are closed least recently used first', (t) => {
  const { dir, fs: cfs, files } = setup('tc-lru', 4)
  const cache = new TableCache(dir, cfs, 2)
  lookup(cache, files[0], 'k001')
  lookup(cache, files[1], 'k001')
  lookup(cache, files[0], 'k002') // 1 is now the most recent
  lookup(cache, files[2], 'k001') // evicts 2
  t.same(cfs.openNow(), ['000001.ldb', '000003.ldb'])
  lookup(cache, files[1], 'k003') // reopens 2, evicts 1
  t.same(cfs.openNow(), ['000002.ldb', '000003.ldb'])
  t.equal(cfs.opens.get('000002.ldb'), 2, 'table 2 was opened twice')
  t.equal(cache.stats.tablesOpened, 4)
  cache.close()
  t.same(cfs.openNow(), [])
  removeDir(dir)
  t.end()
})

test('table cache: capacity 1 with two iterators: neither table is closed under its iterator', (t) => {
  const { dir, fs: cfs, files } = setup('tc-pin', 3)
  const cache = new TableCache(dir, cfs, 1)
  const a = cache.iterator(1, files[0].fileSize, false)
  const b = cache.iterator(2, files[1].fileSize, false)
  a.seekToFirst()
  b.seekToFirst()
  t.same(cfs.openNow(), ['000001.ldb', '000002.ldb'], 'both pinned tables open over capacity')
  t.equal(lookup(cache, files[2], 'k007'), 'v3-7', 'a third table still opens')
  t.same(cfs.openNow(), ['000001.ldb', '000002.ldb', '000003.ldb'], 'it stays while it is the only idle one')
  // Both iterators keep reading every block of their tables.
  let na = 1
  let nb = 1
  for (a.next(), b.next(); a.valid() || b.valid(); a.valid() && a.next(), b.valid() && b.next()) {
    if (a.valid()) na++
    if (b.valid()) nb++
  }
  t.equal(na, 60, 'iterator over table 1 saw every entry')
  t.equal(nb, 60, 'iterator over table 2 saw every entry')
  a.close()
  t.same(cfs.openNow(), ['000002.ldb'], 'table 1 idle again: the LRU trims to capacity, table 3 (least recent) and table 1 go')
  b.close()
  b.close() // idempotent: releases once
  t.same(cfs.openNow(), ['000002.ldb'], 'the last table used stays open, idle')
  t.equal(lookup(cache, files[1], 'k001'), 'v2-1')
  cache.close()
  t.same(cfs.openNow(), [])
  removeDir(dir)
  t.end()
})

test('table cache: evict() of a table an iterator reads closes it when the iterator closes', (t) => {
  const { dir, fs: cfs, files } = setup('tc-evict', 2)
  const cache = new TableCache(dir, cfs, 10)
  const it = cache.iterator(1, files[0].fileSize, true)
  it.seekToFirst()
  cache.evict(1)
  t.same(cfs.openNow(), ['000001.ldb'], 'still open under the iterator')
  t.equal(drain(it), 60, 'the iterator reads on')
  lookup(cache, files[1], 'k001')
  cache.evict(2)
  t.same(cfs.openNow(), ['000001.ldb'], 'an idle table is closed at once')
  it.close()
  t.same(cfs.openNow(), [], 'closed with its last iterator')
  t.equal(lookup(cache, files[0], 'k001'), 'v1-1', 'an evicted number opens afresh')
  t.equal(cfs.opens.get('000001.ldb'), 2)
  cache.evict(99) // unknown numbers are ignored
  cache.close()
  removeDir(dir)
  t.end()
})

test('table cache: close() with an iterator open closes that table when the iterator closes', (t) => {
  const { dir, fs: cfs, files } = setup('tc-close', 2)
  const cache = new TableCache(dir, cfs, 10)
  const it = cache.iterator(2, files[1].fileSize, true)
  lookup(cache, files[0], 'k001')
  cache.close()
  t.same(cfs.openNow(), ['000002.ldb'])
  t.equal(drain(it), 60)
  it.close()
  t.same(cfs.openNow(), [])
  removeDir(dir)
  t.end()
})

test('table cache: fillCache decides whether blocks read enter the block cache; each table has its own cache id', (t) => {
  const { dir, fs: cfs, files } = setup('tc-fill', 2)
  const blocks = newBlockCache(1 << 20)
  const cache = new TableCache(dir, cfs, 10, blocks)

  t.equal(lookup(cache, files[0], 'k003', false), 'v1-3')
  t.equal(blocks.size, 0, 'get with fillCache false caches nothing')
  t.equal(lookup(cache, files[0], 'k003', true), 'v1-3')
  t.equal(blocks.size, 1, 'get with fillCache true caches the block')
  const before = cache.stats
  t.equal(lookup(cache, files[0], 'k003', false), 'v1-3')
  t.equal(cache.stats.blockCacheHits, before.blockCacheHits + 1, 'a cached block is used even when not filling')
  t.equal(cache.stats.dataBlockReads, before.dataBlockReads, 'and no block is read')

  // Table 2 has blocks at the same offsets as table 1: it must not be served table 1's.
  t.equal(lookup(cache, files[1], 'k003', true), 'v2-3', 'same offset, other table, its own value')

  const it = cache.iterator(1, files[0].fileSize, false)
  const cached = blocks.size
  t.equal(drain(it), 60)
  it.close()
  t.equal(blocks.size, cached, 'an iterator with fillCache false caches nothing')
  const it2 = cache.iterator(1, files[0].fileSize, true)
  drain(it2)
  it2.close()
  t.ok(blocks.size > cached, 'with fillCache true it does')

  cache.evict(1)
  t.equal(lookup(cache, files[1], 'k003', false), 'v2-3')
  const stats = cache.stats
  t.ok(stats.dataBlockReads > 0, `data block reads summed over tables, closed ones included (${stats.dataBlockReads})`)
  t.equal(lookup(cache, files[0], 'k003', false), 'v1-3')
  t.equal(cache.stats.dataBlockReads, stats.dataBlockReads + 1, 'after evict, the reopened table reads its block from the file again')
  cache.close()
  removeDir(dir)
  t.end()
})

test('table cache: absent keys that the bloom filter rules out read no data block', (t) => {
  const { dir, fs: cfs, files } = setup('tc-bloom', 1)
  const cache = new TableCache(dir, cfs, 10)
  for (let i = 0; i < 200; i++) lookup(cache, files[0], `k${String(i).padStart(3, '0')}x`)
  const s = cache.stats
  t.ok(s.filterRejects >= 190, `filter rejected ${s.filterRejects} of 200 absent keys`)
  t.equal(s.dataBlockReads, 200 - s.filterRejects, 'only the false positives read a block')
  cache.close()
  removeDir(dir)
  t.end()
})

test('table cache: opening a table tells the event-loop budget, so that the next tick() reads the clock', async (t) => {
  const { dir, fs: cfs, files } = setup('tc-budget', 2)
  // With a block cache, so that the second get reads no block either (a block read tells the budget too).
  const cache = new TableCache(dir, cfs, 10, newBlockCache(1 << 20))
  const sliceMs = eventLoopBudget.sliceMs
  eventLoopBudget.sliceMs = 0 // any read of the clock finds the slice spent
  try {
    // tick() reads the clock once every few calls: after the read that ends this loop, the next calls skip it.
    while (!eventLoopBudget.tick()) {}
    await eventLoopBudget.turn()
    eventLoopBudget.spent()
    t.notOk(eventLoopBudget.tick(), 'a tick skips the clock')
    t.equal(lookup(cache, files[0], 'k005'), 'v1-5', 'a get that opens table 1')
    t.ok(eventLoopBudget.tick(), 'the tick after the open reads the clock')
    eventLoopBudget.spent()
    await eventLoopBudget.turn()
    eventLoopBudget.spent()
    t.equal(lookup(cache, files[0], 'k006'), 'v1-6', 'a get from the open table, its block cached')
    t.notOk(eventLoopBudget.tick(), 'the tick after a get that opened and read nothing skips the clock')
  } finally {
    eventLoopBudget.sliceMs = sliceMs
    cache.close()
    removeDir(dir)
  }
})
