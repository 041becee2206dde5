// engine/version/version: reads through every level against a model of the writes (newest visible
// version wins; newer level-0 files shadow older ones, shallower levels deeper ones), iterators that
// never open files outside their bounds, LevelDB's placement and overlap rules, and the builder.
import fs = require('node:fs')
import test from 'tape'
import { MAX_SEQUENCE, ValueType } from '../../engine/internal-key'
import { LookupResult } from '../../engine/memtable/memtable'
import { TableCache } from '../../engine/table/table-cache'
import { tableFileName } from '../../engine/filename'
import { PointRead } from '../../engine/version/point-read'
import { Version, VersionBuilder } from '../../engine/version/version'
import { NUM_LEVELS, VersionEdit, type FileMetaData } from '../../engine/version/version-edit'
import { Random } from './helpers/random'
import { compareEntries, CountingFileSystem, type Entry, fakeFile, ikey, removeDir, tempDir, writeTable } from './helpers/table-files'

interface Write { user: Buffer, seq: number, type: ValueType, value: Buffer }

interface History {
  dir: string
  fs: CountingFileSystem
  cache: TableCache
  version: Version
  writes: Write[]
  /** Files with their level, as written. */
  placed: Array<{ level: number, file: FileMetaData }>
}

const userKeyOf = (i: number): Buffer => Buffer.from(`u${String(i).padStart(4, '0')}`, 'latin1')

/**
 * Writes `writeCount` random puts and deletes over `keyCount` user keys (even-numbered keys only, so
 * odd ones are absent), then lays them out as an LSM would: the oldest sequences in the deepest level,
 * newer ones in shallower levels, the newest in level-0 files (file numbers increasing with sequence).
 * Levels >= 1 are split into disjoint files, sometimes between two versions of a user key.
 */
function buildHistory (rnd: Random, label: string, keyCount = 200, writeCount = 2400): History {
  const dir = tempDir(label)
  const writes: Write[] = []
  for (let seq = 1; seq <= writeCount; seq++) {
    const user = userKeyOf(2 * rnd.int(keyCount))
    const type = rnd.chance(0.25) ? ValueType.Deletion : ValueType.Value
    writes.push({ user, seq, type, value: type === ValueType.Deletion ? Buffer.alloc(0) : rnd.bytes(rnd.range(0, 30)) })
  }
  // Deepest first: a random choice of levels >= 1, then level 0.
  const deep = [6, 5, 4, 3, 2, 1].filter(() => rnd.chance(0.6))
  const levels = [...deep, 0]
  const placed: History['placed'] = []
  let number = 10
  let from = 0
  for (let li = 0; li < levels.length; li++) {
    const level = levels[li]
    const to = li === levels.length - 1 ? writes.length : from + Math.floor((writes.length - from) / (levels.length - li))
    const chunk = writes.slice(from, to)
    from = to
    if (level === 0) {
      // Four files, each a consecutive sequence range.
      const per = Math.ceil(chunk.length / 4)
      for (let i = 0; i < chunk.length; i += per) {
        const entries: Entry[] = chunk.slice(i, i + per).map(w => [ikey(w.user, w.seq, w.type), w.value])
        placed.push({ level, file: writeTable(dir, number++, entries, { compression: rnd.chance(0.5) ? 'snappy' : 'none' }) })
      }
    } else {
      const entries: Entry[] = chunk.map(w => [ikey(w.user, w.seq, w.type), w.value])
      entries.sort(compareEntries)
      let start = 0
      while (start < entries.length) {
        const end = Math.min(entries.length, start + rnd.range(20, 120))
        placed.push({ level, file: writeTable(dir, number++, entries.slice(start, end), { bloomBitsPerKey: rnd.chance(0.7) ? 10 : 0 }) })
        start = end
      }
    }
  }
  const cfs = new CountingFileSystem()
  const cache = new TableCache(dir, cfs, 1000)
  const edit = new VersionEdit()
  const shuffled = [...placed]
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
  }
  for (const { level, file } of shuffled) edit.addFile(level, file)
  const version = Version.apply(new Version(cache), edit)
  return { dir, fs: cfs, cache, version, writes, placed }
}

/** The model: the newest write to `user` with sequence <= snapshot. */
function modelGet (writes: Write[], user: Buffer, snapshot: number): Write | undefined {
  let best: Write | undefined
  for (const w of writes) if (w.seq <= snapshot && w.user.equals(user) && (best === undefined || w.seq > best.seq)) best = w
  return best
}

const resultName = (r: LookupResult): string => r === LookupResult.Found ? 'Found' : r === LookupResult.Deleted ? 'Deleted' : 'NotFound'

test('Version.get: the newest version visible at the snapshot wins, across L0 files and levels', (t) => {
  for (const seed of [1, 2, 3]) {
    const rnd = new Random(seed)
    const h = buildHistory(rnd, `v-get-${seed}`)
    const levelsUsed = [...new Set(h.placed.map(p => p.level))].sort().join(',')
    const byUser = new Map<string, Write[]>()
    for (const w of h.writes) {
      const k = w.user.toString('latin1')
      if (!byUser.has(k)) byUser.set(k, [])
      byUser.get(k)?.push(w)
    }
    let mismatches = 0
    let found = 0
    let deleted = 0
    let missing = 0
    const read = new PointRead()
    for (let q = 0; q < 3000; q++) {
      const user = userKeyOf(rnd.int(400))
      const snapshot = rnd.chance(0.1) ? MAX_SEQUENCE : rnd.range(0, h.writes.length + 5)
      const expected = modelGet(byUser.get(user.toString('latin1')) ?? [], user, snapshot)
      const r = h.version.get(user, 0, user.length, snapshot, read, rnd.chance(0.5))
      const want = expected === undefined ? LookupResult.NotFound : expected.type === ValueType.Value ? LookupResult.Found : LookupResult.Deleted
      let ok = r === want
      if (ok && r === LookupResult.Found && expected !== undefined) {
        ok = Buffer.from(read.entry.valueBuf.subarray(read.entry.valueOff, read.entry.valueOff + read.entry.valueLen)).equals(expected.value)
      }
      if (!ok && mismatches++ < 5) t.fail(`seed ${seed}: get(${user.toString('latin1')}, ${snapshot}) = ${resultName(r)}, model says ${resultName(want)}`)
      if (want === LookupResult.Found) found++
      else if (want === LookupResult.Deleted) deleted++
      else missing++
    }
    t.equal(mismatches, 0, `seed ${seed}, levels ${levelsUsed}, ${h.placed.length} files: 3000 gets match the model (${found} found, ${deleted} deleted, ${missing} absent)`)
    h.cache.close()
    removeDir(h.dir)
  }
  t.end()
})

test('Version.get: a newer L0 file shadows an older one, L0 shadows L1, L1 shadows L2', (t) => {
  const dir = tempDir('v-shadow')
  const cache = new TableCache(dir, new CountingFileSystem(), 100)
  const edit = new VersionEdit()
  edit.addFile(2, writeTable(dir, 1, [[ikey('a', 1), Buffer.from('L2')], [ikey('b', 2), Buffer.from('L2')], [ikey('c', 3), Buffer.from('L2')]]))
  edit.addFile(1, writeTable(dir, 2, [[ikey('a', 4), Buffer.from('L1')], [ikey('b', 5, ValueType.Deletion), Buffer.alloc(0)]]))
  edit.addFile(0, writeTable(dir, 3, [[ikey('a', 6), Buffer.from('L0 old')], [ikey('c', 7, ValueType.Deletion), Buffer.alloc(0)]]))
  edit.addFile(0, writeTable(dir, 4, [[ikey('a', 8), Buffer.from('L0 new')], [ikey('b', 9), Buffer.from('L0 new')]]))
  const v = Version.apply(new Version(cache), edit)
  const get = (user: string, s: number): string => {
    const k = Buffer.from(user)
    const read = new PointRead()
    const r = v.get(k, 0, k.length, s, read)
    return r === LookupResult.Found ? Buffer.from(read.entry.valueBuf.subarray(read.entry.valueOff, read.entry.valueOff + read.entry.valueLen)).toString() : resultName(r)
  }
  t.same([get('a', 100), get('a', 7), get('a', 5), get('a', 3), get('a', 0)], ['L0 new', 'L0 old', 'L1', 'L2', 'NotFound'])
  t.same([get('b', 100), get('b', 8), get('b', 4), get('b', 1)], ['L0 new', 'Deleted', 'L2', 'NotFound'])
  t.same([get('c', 100), get('c', 6)], ['Deleted', 'L2'])
  t.equal(get('d', 100), 'NotFound')
  cache.close()
  removeDir(dir)
  t.end()
})

test('Version.get: an unreadable table fails the read; it is never skipped for an older version', (t) => {
  const dir = tempDir('v-damaged')
  const cache = new TableCache(dir, new CountingFileSystem(), 100)
  const edit = new VersionEdit()
  edit.addFile(1, writeTable(dir, 1, [[ikey('a', 1), Buffer.from('old')]]))
  edit.addFile(0, writeTable(dir, 2, [[ikey('a', 2), Buffer.from('new value here')]], { bloomBitsPerKey: 0 }))
  edit.addFile(0, writeTable(dir, 3, [[ikey('b', 3, 7), Buffer.from('bad type')]]))
  const v = Version.apply(new Version(cache), edit)
  const bytes = fs.readFileSync(tableFileName(dir, 2))
  bytes[3] ^= 0xff // inside the only data block
  fs.writeFileSync(tableFileName(dir, 2), bytes)
  const a = Buffer.from('a')
  t.throws(() => v.get(a, 0, 1, 100, new PointRead()), (err: any) => err.code === 'LEVEL_CORRUPTION' && err.message.includes('000002.ldb'), 'damaged block: LEVEL_CORRUPTION naming the file')
  const b = Buffer.from('b')
  t.throws(() => v.get(b, 0, 1, 100, new PointRead()), (err: any) => err.code === 'LEVEL_CORRUPTION' && err.message.includes('000003.ldb'), 'entry of type 7: LEVEL_CORRUPTION naming the file')

  fs.unlinkSync(tableFileName(dir, 1))
  const onlyL1 = new Version(cache, [[], v.files[1]])
  t.throws(() => onlyL1.get(a, 0, 1, 100, new PointRead()), (err: any) => err.code === 'LEVEL_CORRUPTION' && /missing file .*000001\.ldb/.test(err.message), 'a missing table that must be consulted: LEVEL_CORRUPTION')
  const zz = Buffer.from('zz')
  t.equal(onlyL1.get(zz, 0, 2, 100, new PointRead()), LookupResult.NotFound, 'a key outside its range never opens it')
  cache.close()
  removeDir(dir)
  t.end()
})

/** Drains every iterator of version.iterators(); returns the entries (sorted) and closes them. */
function scan (v: Version, lower?: Buffer, upper?: Buffer): Entry[] {
  const out: Entry[] = []
  for (const it of v.iterators(false, lower, upper)) {
    for (it.seekToFirst(); it.valid(); it.next()) {
      out.push([Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)), Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))])
    }
    it.close()
  }
  return out.sort(compareEntries)
}

const userOf = (k: Uint8Array): Buffer => Buffer.from(k.subarray(0, k.length - 8))
const inBounds = (user: Buffer, lower?: Buffer, upper?: Buffer): boolean =>
  (lower === undefined || Buffer.compare(user, lower) >= 0) && (upper === undefined || Buffer.compare(user, upper) <= 0)

test('Version.iterators: every entry once; with bounds, files outside them are never opened', (t) => {
  const rnd = new Random(11)
  const h = buildHistory(rnd, 'v-iter')
  const all: Entry[] = h.writes.map(w => [ikey(w.user, w.seq, w.type), w.value])
  all.sort(compareEntries)
  const full = scan(h.version)
  t.ok(full.length === all.length && full.every((e, i) => e[0].equals(all[i][0]) && e[1].equals(all[i][1])), `unbounded: all ${all.length} entries`)
  t.equal(h.version.iterators(false).length, h.version.numFiles(0) + [1, 2, 3, 4, 5, 6].filter(l => h.version.numFiles(l) > 0).length,
    'one iterator per L0 file and per non-empty deeper level')
  h.cache.close()

  let bad = 0
  for (let round = 0; round < 25; round++) {
    const a = rnd.int(420)
    const b = a + rnd.int(60)
    const lower = rnd.chance(0.15) ? undefined : userKeyOf(a)
    const upper = rnd.chance(0.15) ? undefined : userKeyOf(b)
    const cfs = new CountingFileSystem()
    const cache = new TableCache(h.dir, cfs, 1000)
    const v = new Version(cache, h.version.files)
    const got = scan(v, lower, upper).filter(e => inBounds(userOf(e[0]), lower, upper))
    const want = all.filter(e => inBounds(userOf(e[0]), lower, upper))
    const same = got.length === want.length && got.every((e, i) => e[0].equals(want[i][0]) && e[1].equals(want[i][1]))
    const overlapping = h.placed
      .filter(p => !(lower !== undefined && Buffer.compare(userOf(p.file.largest), lower) < 0) && !(upper !== undefined && Buffer.compare(userOf(p.file.smallest), upper) > 0))
      .map(p => tableFileName('', p.file.number).replace(/^\//, '')).sort()
    const opened = [...cfs.opens.keys()].sort()
    if (!same || opened.join() !== overlapping.join()) {
      if (bad++ < 3) t.fail(`bounds [${lower?.toString()}, ${upper?.toString()}]: entries ${same ? 'ok' : 'differ'}, opened ${opened.length} files, ${overlapping.length} overlap`)
    }
    cache.close()
  }
  t.equal(bad, 0, '25 bounded scans: the entries in bounds, and exactly the files overlapping the bounds opened')
  removeDir(h.dir)
  t.end()
})

test('Version.approximateOffsetOf: whole files before the key plus the offset within the files holding it', (t) => {
  const h = buildHistory(new Random(21), 'v-approx')
  const total = h.placed.reduce((s, p) => s + p.file.fileSize, 0)
  t.equal(h.version.approximateOffsetOf(ikey('a', MAX_SEQUENCE)), 0, 'before every key: 0')
  t.equal(h.version.approximateOffsetOf(ikey('zzz', 0)), total, 'after every key: the total size')
  let last = -1
  let monotone = true
  for (let i = 0; i < 420; i += 7) {
    const off = h.version.approximateOffsetOf(ikey(userKeyOf(i), MAX_SEQUENCE))
    if (off < last) monotone = false
    last = off
  }
  t.ok(monotone && last > 0 && last <= total, `non-decreasing in the key, within [0, ${total}]`)
  // One file alone: the offset is the table's own.
  const deep = h.placed.find(p => p.level > 0)
  if (deep !== undefined) {
    const v = new Version(h.cache, [[], [deep.file]])
    const mid = ikey(userOf(deep.file.largest), MAX_SEQUENCE)
    const off = v.approximateOffsetOf(mid)
    t.ok(off >= 0 && off < deep.file.fileSize, `inside a file: ${off} of ${deep.file.fileSize}`)
  }
  h.cache.close()
  removeDir(h.dir)
  t.end()
})

// Placement and overlap work on metadata only: no table is opened.
const noTables = new TableCache('/nonexistent', new CountingFileSystem(), 10)
const u = (s: string): Buffer => Buffer.from(s, 'latin1')
const MB = 1024 * 1024

function versionOf (levels: FileMetaData[][]): Version {
  const edit = new VersionEdit()
  levels.forEach((files, level) => { for (const f of files) edit.addFile(level, f) })
  return Version.apply(new Version(noTables), edit)
}

test('Version.pickLevelForMemTableOutput: LevelDB\'s placement of a flushed memtable', (t) => {
  const max = 2 * MB
  const pick = (levels: FileMetaData[][], a: string, b: string): number => versionOf(levels).pickLevelForMemTableOutput(u(a), u(b), max)
  t.equal(pick([], 'a', 'c'), 2, 'empty: as deep as kMaxMemCompactLevel')
  t.equal(pick([[fakeFile(1, 'b', 'd')]], 'a', 'c'), 0, 'overlaps L0: L0')
  t.equal(pick([[fakeFile(1, 'x', 'z')], [fakeFile(2, 'c', 'e')]], 'a', 'c'), 0, 'overlaps L1 (touching at c): L0')
  t.equal(pick([[], [fakeFile(2, 'd', 'e')], [fakeFile(3, 'a', 'a')]], 'a', 'c'), 1, 'overlaps L2 only: L1')
  t.equal(pick([[], [], [], [fakeFile(3, 'a', 'z', 20 * MB + 1)]], 'a', 'c'), 1, 'L3 overlap over 10 x maxFileSize: stops at L1')
  t.equal(pick([[], [], [], [fakeFile(3, 'a', 'z', 20 * MB)]], 'a', 'c'), 2, 'exactly 10 x maxFileSize is allowed')
  t.equal(pick([[], [], [fakeFile(3, 'b', 'b', 15 * MB), fakeFile(4, 'c', 'z', 6 * MB)]], 'a', 'c'), 0,
    'L2 overlap summed over files (21 MiB) over the limit: stays at L0')
  t.equal(pick([[], [], [fakeFile(3, 'd', 'z', 30 * MB)]], 'a', 'c'), 2, 'files outside the range count for nothing')
  t.equal(pick([[], [fakeFile(2, 'x', 'z')], [], [fakeFile(3, 'a', 'c', 30 * MB)]], 'a', 'c'), 1, 'L1 elsewhere, L3 too heavy: L1')
  t.end()
})

test('Version.overlapInLevel and getOverlappingInputs against brute force (L0 range growth included)', (t) => {
  const rnd = new Random(31)
  const letters = 'abcdefghijklmnopqrstuvwxyz'
  let bad = 0
  for (let round = 0; round < 300; round++) {
    // L0: random overlapping ranges. L1: disjoint ranges.
    const l0: FileMetaData[] = []
    for (let i = 0; i < rnd.range(0, 6); i++) {
      const a = rnd.int(26)
      const b = Math.min(25, a + rnd.int(6))
      l0.push(fakeFile(100 + i, letters[a], letters[b]))
    }
    const l1: FileMetaData[] = []
    for (let a = rnd.int(3); a < 26; a += rnd.range(1, 5)) {
      const b = Math.min(25, a + rnd.int(3))
      l1.push(fakeFile(200 + a, letters[a], letters[b]))
      a = b
    }
    const v = versionOf([l0, l1])
    const lo = rnd.chance(0.1) ? undefined : letters[rnd.int(26)]
    const hi = rnd.chance(0.1) ? undefined : letters[Math.min(25, (lo === undefined ? 0 : letters.indexOf(lo)) + rnd.int(5))]
    for (const [level, files] of [[0, l0], [1, l1]] as Array<[number, FileMetaData[]]>) {
      const overlaps = (f: FileMetaData, a?: string, b?: string): boolean =>
        !(a !== undefined && Buffer.compare(userOf(f.largest), u(a)) < 0) && !(b !== undefined && Buffer.compare(userOf(f.smallest), u(b)) > 0)
      const want = files.some(f => overlaps(f, lo, hi))
      if (v.overlapInLevel(level, lo === undefined ? undefined : u(lo), hi === undefined ? undefined : u(hi)) !== want) bad++
      // Brute force: at L0, widen the range to cover every file pulled in, until it stops growing.
      let a = lo
      let b = hi
      let chosen: FileMetaData[] = []
      for (;;) {
        chosen = files.filter(f => overlaps(f, a, b))
        if (level !== 0) break
        let na = a
        let nb = b
        for (const f of chosen) {
          const s = userOf(f.smallest).toString('latin1')
          const l = userOf(f.largest).toString('latin1')
          if (na !== undefined && s < na) na = s
          if (nb !== undefined && l > nb) nb = l
        }
        if (na === a && nb === b) break
        a = na
        b = nb
      }
      const got = v.getOverlappingInputs(level, lo === undefined ? undefined : ikey(lo, MAX_SEQUENCE), hi === undefined ? undefined : ikey(hi, 0, 0))
      const key = (fs: FileMetaData[]): string => fs.map(f => f.number).sort().join()
      if (key(got) !== key(chosen)) {
        if (bad++ < 3) t.fail(`level ${level} [${lo}, ${hi}]: got ${key(got)}, want ${key(chosen)}`)
      }
    }
  }
  t.equal(bad, 0, '300 random layouts and ranges')
  const v = versionOf([[fakeFile(1, 'a', 'c'), fakeFile(2, 'b', 'e'), fakeFile(3, 'd', 'f'), fakeFile(4, 'x', 'z')]])
  t.same(v.getOverlappingInputs(0, ikey('a', MAX_SEQUENCE), ikey('a', 0)).map(f => f.number).sort(), [1, 2, 3], 'LevelDB\'s chain: [a] pulls a..c, then b..e, then d..f')
  t.end()
})

test('Version.apply: L0 newest first, L1+ by smallest key; deletions before additions; base untouched', (t) => {
  const rnd = new Random(41)
  const base = new Version(noTables)
  const edit = new VersionEdit()
  const l0 = [5, 9, 2, 7].map(n => fakeFile(n, 'a', 'z'))
  const l1 = ['m', 'c', 'x', 'f'].map((k, i) => fakeFile(20 + i, k, k))
  for (const f of [...l0, ...l1].sort(() => rnd.int(3) - 1)) edit.addFile(l0.includes(f) ? 0 : 1, f)
  const v1 = Version.apply(base, edit)
  t.same(v1.files[0].map(f => f.number), [9, 7, 5, 2], 'L0 by number, descending')
  t.same(v1.files[1].map(f => userOf(f.smallest).toString()), ['c', 'f', 'm', 'x'], 'L1 by smallest key')
  t.equal(base.numFiles(0), 0, 'the base is unchanged')
  t.equal(v1.numLevelBytes(1), 4000)

  // A trivial move and a flush in one edit: (0, 9) becomes (1, 9); 11 arrives in L0.
  const move = new VersionEdit()
  move.deleteFile(0, 9)
  move.addFile(1, fakeFile(9, 'n', 'o'))
  move.addFile(0, fakeFile(11, 'a', 'b'))
  const v2 = Version.apply(v1, move)
  t.same(v2.files[0].map(f => f.number), [11, 7, 5, 2])
  t.same(v2.files[1].map(f => f.number), [20 + 1, 20 + 3, 20, 9, 20 + 2], 'moved file merged into L1 order')
  t.equal(v2.files[3], v1.files[3], 'untouched levels are shared')
  t.same(v1.files[0].map(f => f.number), [9, 7, 5, 2], 'v1 unchanged')

  // Deleting and adding one number at one level in one edit: the addition wins.
  const readd = new VersionEdit()
  readd.addFile(0, fakeFile(5, 'a', 'z'))
  readd.deleteFile(0, 5)
  t.same(Version.apply(v2, readd).files[0].map(f => f.number), [11, 7, 5, 2], 'delete then add: present')

  // Across several edits in a builder, a later deletion removes an earlier addition.
  const builder = new VersionBuilder(base)
  const e1 = new VersionEdit()
  e1.addFile(2, fakeFile(30, 'a', 'b'))
  e1.addFile(2, fakeFile(31, 'c', 'd'))
  const e2 = new VersionEdit()
  e2.deleteFile(2, 30)
  builder.apply(e1)
  builder.apply(e2)
  t.same(builder.build().files[2].map(f => f.number), [31])
  t.end()
})

test('Version.apply: overlapping files in a level >= 1, or a file in two places, are LEVEL_CORRUPTION', (t) => {
  const base = new Version(noTables)
  const overlapping = new VersionEdit()
  overlapping.addFile(1, fakeFile(1, 'a', 'f'))
  overlapping.addFile(1, fakeFile(2, 'e', 'k'))
  t.throws(() => Version.apply(base, overlapping), (err: any) => err.code === 'LEVEL_CORRUPTION' && /level 1/.test(err.message) && /table 1 /.test(err.message) && /table 2 /.test(err.message))

  const sameKeyBoundary = new VersionEdit()
  sameKeyBoundary.addFile(1, { number: 3, fileSize: 1, smallest: ikey('a', 9), largest: ikey('c', 5) })
  sameKeyBoundary.addFile(1, { number: 4, fileSize: 1, smallest: ikey('c', 4), largest: ikey('d', 1) })
  t.same(Version.apply(base, sameKeyBoundary).files[1].map(f => f.number), [3, 4], 'one user key split across two files (different sequences) is allowed')

  const twice = new VersionEdit()
  twice.addFile(0, fakeFile(7, 'a', 'b'))
  twice.addFile(2, fakeFile(7, 'a', 'b'))
  t.throws(() => Version.apply(base, twice), (err: any) => err.code === 'LEVEL_CORRUPTION' && /table 7 appears twice/.test(err.message))

  const v = Version.apply(base, sameKeyBoundary)
  const dup = new VersionEdit()
  dup.addFile(0, fakeFile(3, 'x', 'y'))
  t.throws(() => Version.apply(v, dup), (err: any) => err.code === 'LEVEL_CORRUPTION', 'a number already live elsewhere')

  const inverted = new VersionEdit()
  inverted.addFile(1, { number: 9, fileSize: 1, smallest: ikey('k', 1), largest: ikey('b', 1) })
  t.throws(() => Version.apply(base, inverted), (err: any) => err.code === 'LEVEL_CORRUPTION' && /table 9 has its smallest key/.test(err.message), 'smallest above largest')

  const badLevel = new VersionEdit()
  badLevel.addFile(NUM_LEVELS, fakeFile(8, 'a', 'b'))
  t.throws(() => Version.apply(base, badLevel), (err: any) => err.code === 'LEVEL_CORRUPTION')
  t.end()
})

test('Version: ref() and unref() count, and the last unref() reports the version unreferenced', (t) => {
  const v = new Version(noTables, [[fakeFile(3, 'a', 'b')], [], [fakeFile(4, 'c', 'd')]])
  let released: Version | undefined
  v.onUnreferenced = (x) => { released = x }
  v.ref()
  v.ref()
  t.equal(v.refs, 2)
  v.unref()
  t.equal(released, undefined)
  v.unref()
  t.equal(released, v)
  t.throws(() => v.unref(), /without a matching ref/)
  const live = new Set<number>()
  v.addLiveFiles(live)
  t.same([...live].sort(), [3, 4])
  t.end()
})
