// engine/version/level-iterator: the files of one level, walked as one sorted stream in both
// directions with seeks, against a model array of every entry; tables open only when reached.
import fs = require('node:fs')
import test from 'tape'
import { compareInternalKeys, MAX_SEQUENCE, ValueType } from '../../engine/internal-key'
import { findFile, LevelIterator } from '../../engine/version/level-iterator'
import { TableCache } from '../../engine/table/table-cache'
import { tableFileName } from '../../engine/filename'
import type { FileMetaData } from '../../engine/version/version-edit'
import { compareEntries, CountingFileSystem, type Entry, ikey, removeDir, tempDir, writeTable } from './helpers/table-files'
import { Random } from './helpers/random'

interface Level {
  dir: string
  fs: CountingFileSystem
  files: FileMetaData[]
  model: Entry[]
}

/**
 * A level of `fileCount` files over keys with several versions each (deletions among them), split at
 * random points, sometimes between two versions of one user key (as compaction outputs may be).
 */
function buildLevel (rnd: Random, label: string, fileCount: number): Level {
  const dir = tempDir(label)
  const model: Entry[] = []
  let seq = 1
  for (let k = 0; k < fileCount * 40; k++) {
    const user = `key${String(k * 3).padStart(5, '0')}`
    const versions = rnd.range(1, 3)
    for (let v = 0; v < versions; v++) {
      const type = rnd.chance(0.2) ? ValueType.Deletion : ValueType.Value
      model.push([ikey(user, seq++, type), type === ValueType.Deletion ? Buffer.alloc(0) : rnd.bytes(rnd.range(0, 40))])
    }
  }
  model.sort(compareEntries)
  const files: FileMetaData[] = []
  let start = 0
  for (let n = 0; n < fileCount; n++) {
    const end = n === fileCount - 1 ? model.length : start + Math.floor((model.length - start) / (fileCount - n)) + rnd.range(-5, 5)
    files.push(writeTable(dir, 10 + n, model.slice(start, end), { compression: n % 2 === 0 ? 'none' : 'snappy' }))
    start = end
  }
  return { dir, fs: new CountingFileSystem(), files, model }
}

const keyOf = (it: LevelIterator): Buffer => Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen))
const valueOf = (it: LevelIterator): Buffer => Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))

/** The model's index of the first entry >= target. */
function lowerBound (model: Entry[], target: Buffer): number {
  let lo = 0
  let hi = model.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareInternalKeys(model[mid][0], 0, model[mid][0].length, target, 0, target.length) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

test('level iterator: a full scan forward and backward yields every entry of every file in order', (t) => {
  const level = buildLevel(new Random(1), 'li-scan', 8)
  const cache = new TableCache(level.dir, level.fs, 100)
  const it = new LevelIterator(cache, level.files, false)
  t.equal(level.fs.totalOpens(), 0, 'creating it opens nothing')

  const forward: Entry[] = []
  let maxPinned = 0
  for (it.seekToFirst(); it.valid(); it.next()) {
    forward.push([keyOf(it), valueOf(it)])
    maxPinned = Math.max(maxPinned, cache.stats.pinnedTables)
  }
  t.equal(maxPinned, 1, 'one table pinned at a time')
  t.equal(forward.length, level.model.length, `${level.model.length} entries forward`)
  t.ok(forward.every((e, i) => e[0].equals(level.model[i][0]) && e[1].equals(level.model[i][1])), 'forward matches the model')

  const backward: Entry[] = []
  for (it.seekToLast(); it.valid(); it.prev()) backward.push([keyOf(it), valueOf(it)])
  backward.reverse()
  t.ok(backward.length === level.model.length && backward.every((e, i) => e[0].equals(level.model[i][0]) && e[1].equals(level.model[i][1])), 'backward matches the model')
  t.equal(cache.stats.pinnedTables, 0, 'past either end, the iterator pins no table')
  it.close()
  cache.close()
  removeDir(level.dir)
  t.end()
})

test('level iterator: random seeks and steps in both directions agree with the model', (t) => {
  const rnd = new Random(7)
  const level = buildLevel(rnd, 'li-seek', 6)
  const { model } = level
  const cache = new TableCache(level.dir, level.fs, 2)
  const it = new LevelIterator(cache, level.files, true)
  let mismatches = 0
  for (let round = 0; round < 400; round++) {
    // Targets: existing keys, keys between entries (other numbers, other sequences), before and after all.
    const pick = rnd.int(6)
    let target: Buffer
    if (pick === 0) target = ikey('a', 1)
    else if (pick === 1) target = ikey('zzz', 1)
    else if (pick === 2) target = model[rnd.int(model.length)][0]
    else target = ikey(`key${String(rnd.int(level.files.length * 120)).padStart(5, '0')}`, rnd.chance(0.5) ? MAX_SEQUENCE : rnd.int(1000))
    let pos = lowerBound(model, target)
    it.seek(target, 0, target.length)
    for (let step = 0; step < 12; step++) {
      const expectValid = pos >= 0 && pos < model.length
      if (it.valid() !== expectValid || (expectValid && !(keyOf(it).equals(model[pos][0]) && valueOf(it).equals(model[pos][1])))) {
        mismatches++
        break
      }
      if (!expectValid) break
      if (rnd.chance(0.5)) { it.next(); pos++ } else { it.prev(); pos-- }
    }
  }
  t.equal(mismatches, 0, '400 seeks, each followed by up to 12 random steps')
  t.ok(cache.stats.pinnedTables <= 1, 'the iterator pins at most one table')
  t.ok(level.fs.openNow().length <= 3, 'the cache keeps at most capacity idle')
  it.close()
  cache.close()
  t.same(level.fs.openNow(), [], 'nothing left open')
  removeDir(level.dir)
  t.end()
})

test('level iterator: a seek opens only the file that can hold the target', (t) => {
  const level = buildLevel(new Random(3), 'li-lazy', 5)
  const cache = new TableCache(level.dir, level.fs, 100)
  const it = new LevelIterator(cache, level.files, false)
  const third = level.files[2]
  it.seek(third.smallest, 0, third.smallest.length)
  t.ok(it.valid() && keyOf(it).equals(third.smallest), 'at the third file\'s first key')
  t.same(level.fs.openNow(), ['000012.ldb'], 'only the third file was opened')
  it.prev()
  t.ok(it.valid() && keyOf(it).equals(level.files[1].largest), 'prev crosses into the second file, at its last key')
  t.same([...level.fs.opens.keys()].sort(), ['000011.ldb', '000012.ldb'])
  it.close()
  cache.close()
  removeDir(level.dir)
  t.end()
})

test('level iterator: an empty level and a single file', (t) => {
  const level = buildLevel(new Random(5), 'li-small', 1)
  const cache = new TableCache(level.dir, level.fs, 10)
  const empty = new LevelIterator(cache, [], false)
  empty.seekToFirst()
  t.notOk(empty.valid())
  empty.seekToLast()
  t.notOk(empty.valid())
  empty.seek(ikey('a', 1), 0, 9)
  t.notOk(empty.valid())
  t.equal(empty.keyLen, 0)
  empty.close()

  const one = new LevelIterator(cache, level.files, false)
  let n = 0
  for (one.seekToLast(); one.valid(); one.prev()) n++
  t.equal(n, level.model.length)
  one.close()
  one.close()
  const opens = level.fs.totalOpens()
  one.seekToFirst()
  t.notOk(one.valid(), 'after close(): invalid')
  t.equal(level.fs.totalOpens(), opens, 'and it opens nothing')
  cache.close()
  removeDir(level.dir)
  t.end()
})

test('findFile: the first file whose largest key is >= the target', (t) => {
  const files: FileMetaData[] = [
    { number: 1, fileSize: 1, smallest: ikey('a', 5), largest: ikey('c', 3) },
    { number: 2, fileSize: 1, smallest: ikey('c', 2), largest: ikey('f', 9) },
    { number: 3, fileSize: 1, smallest: ikey('h', 9), largest: ikey('k', 1) }
  ]
  const at = (user: string, seq: number): number => { const k = ikey(user, seq); return findFile(files, k, 0, k.length) }
  t.equal(at('A', 1), 0, 'before all')
  t.equal(at('c', 4), 0, 'c@4 is before c@3, the first file\'s largest')
  t.equal(at('c', 3), 0)
  t.equal(at('c', 2), 1, 'c@2 is after the first file: the second, which starts with it')
  t.equal(at('g', 1), 2, 'between files: the next one')
  t.equal(at('k', 1), 2)
  t.equal(at('k', 0), 3, 'after all')
  t.equal(findFile([], ikey('a', 1), 0, 9), 0)
  t.end()
})

test('level iterator: a missing file is LEVEL_CORRUPTION thrown from the move that reaches it', (t) => {
  const level = buildLevel(new Random(9), 'li-missing', 3)
  fs.unlinkSync(tableFileName(level.dir, level.files[1].number))
  const cache = new TableCache(level.dir, level.fs, 10)
  const it = new LevelIterator(cache, level.files, false)
  it.seekToFirst()
  let n = 0
  t.throws(() => { for (; it.valid(); it.next()) n++ }, (err: any) => err.code === 'LEVEL_CORRUPTION' && err.message.includes('000011.ldb'))
  t.ok(n > 0, `the first file was read (${n} entries) before the error`)
  t.notOk(it.valid(), 'then the iterator is invalid')
  t.throws(() => { for (it.seekToLast(); it.valid(); it.prev()); }, /missing file/, 'a scan from the end also meets it')
  it.close()
  t.equal(cache.stats.pinnedTables, 0)
  cache.close()
  removeDir(level.dir)
  t.end()
})
