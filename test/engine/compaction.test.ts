// engine/compaction/compaction and run-compaction: LevelDB's picking rules (scores, compact pointer
// with wrap-around, level-0 overlap, boundary files, expansion and its limit, trivial moves, manual
// ranges) on synthetic versions; and running on real tables against a model of what must survive
// (snapshots, deletions at and above the base level), output splitting by size and by grandparent
// overlap, cleanup on failure, and reads through the new version matching the old one.
import fs = require('node:fs')
import os = require('node:os')
import test from 'tape'
import {
  addBoundaryInputs, compactionScore, compactRange, Compaction, type CompactionSpec, needsCompaction, pickCompaction
} from '../../engine/compaction/compaction'
import {
  L0_COMPACTION_TRIGGER, L0_SLOWDOWN_WRITES_TRIGGER, L0_STOP_WRITES_TRIGGER, maxBytesForLevel
} from '../../engine/compaction/constants'
import {
  applyCompaction, type CompactionOutputOptions, type CompactionResult, maxOutputFiles, runCompaction, type RunCompactionEnv,
  trivialMoveEdit
} from '../../engine/compaction/run-compaction'
import type { WritableFile } from '../../engine/fs/file-system'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { compareBytes, compareInternalKeys, MAX_SEQUENCE, ValueType } from '../../engine/internal-key'
import { LookupResult } from '../../engine/memtable/memtable'
import { TableCache } from '../../engine/table/table-cache'
import { tableFileName } from '../../engine/filename'
import { PointRead } from '../../engine/version/point-read'
import { Version } from '../../engine/version/version'
import { NUM_LEVELS, VersionEdit, type FileMetaData } from '../../engine/version/version-edit'
import { Random } from './helpers/random'
import { compareEntries, type Entry, fakeFile, ikey, removeDir, tempDir, writeTable } from './helpers/table-files'

const MiB = 1024 * 1024
const OPTS = { maxFileSize: 2 * MiB }
const nums = (files: readonly FileMetaData[]): number[] => files.map(f => f.number).sort((a, b) => a - b)
const userOf = (k: Uint8Array): string => Buffer.from(k.subarray(0, k.length - 8)).toString('latin1')

/** A metadata record with explicit (user, sequence) ends. */
function meta (number: number, small: [string, number], large: [string, number], fileSize = 1000): FileMetaData {
  return { number, fileSize, smallest: ikey(small[0], small[1]), largest: ikey(large[0], large[1]) }
}

const fakeCache = new TableCache(os.tmpdir(), new PosixFileSystem(), 10)
/** A version from per-level lists (level 0 given newest first, deeper levels sorted). */
const version = (levels: FileMetaData[][]): Version => new Version(fakeCache, levels)

// ---------------------------------------------------------------------------------------------------
// Picking

test('constants: LevelDB config values and MaxBytesForLevel', (t) => {
  t.same([L0_COMPACTION_TRIGGER, L0_SLOWDOWN_WRITES_TRIGGER, L0_STOP_WRITES_TRIGGER], [4, 8, 12])
  t.same([1, 2, 3, 5].map(maxBytesForLevel), [10485760, 104857600, 1048576000, 104857600000])
  t.end()
})

test('pickCompaction: nothing when every score is below 1; level 6 is never a source', (t) => {
  const v = version([
    [fakeFile(12, 'a', 'c'), fakeFile(11, 'b', 'd'), fakeFile(10, 'x', 'y')],
    [fakeFile(1, 'a', 'b', 9 * MiB)],
    [fakeFile(2, 'a', 'b', 99 * MiB)],
    [], [], [],
    [fakeFile(3, 'a', 'z', 1e12)]
  ])
  const s = compactionScore(v)
  t.equal(s.level, 2, 'best level: 2 (0.99 beats L1 0.9 and L0 0.75; L6 is not scored)')
  t.ok(s.score < 1)
  t.notOk(needsCompaction(v))
  t.equal(pickCompaction(v, [], OPTS), undefined, 'no compaction')
  t.end()
})

test('compactionScore: the highest score wins, the lowest level on a tie', (t) => {
  const l0 = [fakeFile(13, 'a', 'b'), fakeFile(12, 'c', 'd'), fakeFile(11, 'e', 'f'), fakeFile(10, 'g', 'h')]
  t.same(compactionScore(version([l0, [fakeFile(1, 'a', 'z', 10 * MiB)]])), { level: 0, score: 1 }, 'L0 1.0 ties L1 1.0: L0')
  t.same(compactionScore(version([l0, [fakeFile(1, 'a', 'z', 11 * MiB)]])).level, 1, 'L1 1.1 beats L0 1.0')
  t.same(compactionScore(version([[], [fakeFile(1, 'a', 'z', 5 * MiB)], [fakeFile(2, 'a', 'z', 60 * MiB)]])), { level: 2, score: 60 / 100 })
  t.end()
})

test('pickCompaction: 4 level-0 files pick level 0 with every overlapping L0 file and the overlapping L1 files', (t) => {
  const l0 = [fakeFile(13, 'm', 'p'), fakeFile(12, 'e', 'f'), fakeFile(11, 'c', 'e'), fakeFile(10, 'a', 'c')]
  const l1 = [fakeFile(1, 'a', 'b'), fakeFile(2, 'd', 'g'), fakeFile(3, 'h', 'k'), fakeFile(4, 'n', 'q')]
  const l2 = [fakeFile(5, 'a', 'c'), fakeFile(6, 'f', 'h'), fakeFile(7, 'i', 'z')]
  const v = version([l0, l1, l2])
  const c = pickCompaction(v, [], OPTS)
  if (c === undefined) return t.fail('a compaction')
  t.equal(c.level, 0)
  t.same(nums(c.inputs[0]), [10, 11, 12], 'file 10 (first in key order) grown to the chain of overlapping L0 files')
  t.same(nums(c.inputs[1]), [1, 2], 'L1 files overlapping [a, f]')
  t.same(nums(c.grandparents), [5, 6], 'L2 files overlapping [a, g]')
  t.equal(userOf(c.compactPointer), 'f', 'compact pointer: the largest key of the L0 inputs')
  t.same(c.edit.compactPointers.map(p => [p.level, userOf(p.key)]), [[0, 'f']], 'recorded in the edit')
  t.notOk(c.isTrivialMove())
  t.equal(c.totalInputBytes, 5000)

  // The pointer moves the next pick to the first file past it.
  const c2 = pickCompaction(v, [c.compactPointer], OPTS)
  t.same([nums(c2?.inputs[0] ?? []), nums(c2?.inputs[1] ?? [])], [[13], [4]], 'after the pointer: file 13 and L1 file 4')
  const c3 = pickCompaction(v, [ikey('zz', 1)], OPTS)
  t.same(nums(c3?.inputs[0] ?? []), [10, 11, 12], 'past every file: wraps around to the first')
  const c4 = pickCompaction(v, [new Uint8Array(0)], OPTS)
  t.same(nums(c4?.inputs[0] ?? []), [10, 11, 12], 'an empty pointer counts as none')
  t.end()
})

test('pickCompaction: level 1 over 10 MiB rotates through its files with the compact pointer', (t) => {
  const l1 = [fakeFile(1, 'a', 'b', 3 * MiB), fakeFile(2, 'c', 'd', 3 * MiB), fakeFile(3, 'e', 'f', 3 * MiB), fakeFile(4, 'g', 'h', 3 * MiB)]
  const l2 = [fakeFile(5, 'b', 'b2'), fakeFile(6, 'h', 'i')]
  const v = version([[fakeFile(20, 'a', 'z')], l1, l2])
  const pointers: Array<Uint8Array | undefined> = []
  const seen: string[] = []
  for (let i = 0; i < 6; i++) {
    const c = pickCompaction(v, pointers, OPTS)
    if (c === undefined) return t.fail('a compaction')
    t.equal(c.level, 1)
    seen.push(`${nums(c.inputs[0]).join(',')}+${nums(c.inputs[1]).join(',')}`)
    pointers[1] = c.compactPointer
  }
  t.same(seen, ['1+5', '2+', '3+', '4+6', '1+5', '2+'], 'each pick starts after the last one; wraps around after file 4')
  t.end()
})

test('trivial move: one input, nothing at level + 1, grandparent overlap at most 10 x maxFileSize', (t) => {
  const l1 = [fakeFile(1, 'a', 'b', 6 * MiB), fakeFile(2, 'c', 'd', 6 * MiB)]
  const small = version([[], l1, [fakeFile(3, 'x', 'y')], [fakeFile(4, 'a', 'b', 20 * MiB)]])
  const c = pickCompaction(small, [], OPTS)
  if (c === undefined) return t.fail('a compaction')
  t.same([nums(c.inputs[0]), nums(c.inputs[1]), nums(c.grandparents)], [[1], [], [4]])
  t.ok(c.isTrivialMove(), '20 MiB of grandparents = the limit: a move')
  const edit = trivialMoveEdit(c)
  t.same(edit.deletedFiles, [[1, 1]])
  t.same(edit.newFiles.map(({ level, file }) => [level, file.number, file.fileSize]), [[2, 1, 6 * MiB]])
  t.same(edit.compactPointers.map(p => [p.level, userOf(p.key)]), [[1, 'b']])
  const moved = Version.apply(small, edit)
  t.same([moved.files[1].map(f => f.number), moved.files[2].map(f => f.number)], [[2], [1, 3]], 'applied: file 1 now at level 2')

  const big = version([[], l1, [fakeFile(3, 'x', 'y')], [fakeFile(4, 'a', 'a', 15 * MiB), fakeFile(5, 'b', 'b', 5 * MiB + 1)]])
  t.notOk(pickCompaction(big, [], OPTS)?.isTrivialMove(), 'over 20 MiB of grandparents: rewritten')
  const overlap = version([[], l1, [fakeFile(3, 'b', 'c')]])
  t.notOk(pickCompaction(overlap, [], OPTS)?.isTrivialMove(), 'a level+1 input: rewritten')
  t.notOk(compactRange(small, 1, undefined, undefined, OPTS)?.isTrivialMove(), 'manual: never a move')
  t.throws(() => trivialMoveEdit(pickCompaction(overlap, [], OPTS) as Compaction), /not a trivial move/)

  // Four disjoint level-0 files: the first one moves alone.
  const l0 = version([[fakeFile(13, 'g', 'h'), fakeFile(12, 'e', 'f'), fakeFile(11, 'c', 'd'), fakeFile(10, 'a', 'b')], [fakeFile(1, 'x', 'z')]])
  const c0 = pickCompaction(l0, [], OPTS)
  t.same(nums(c0?.inputs[0] ?? []), [10])
  t.ok(c0?.isTrivialMove(), 'a level-0 file overlapping nothing moves to level 1')
  t.end()
})

test('boundary inputs: a level split between versions of one user key is compacted together', (t) => {
  // L1: file 1 ends with k@50; files 2 and 3 hold older versions of k; file 4 starts past k.
  const l1 = [
    meta(1, ['a', 100], ['k', 50], 4 * MiB), meta(2, ['k', 40], ['k', 20], 4 * MiB), meta(3, ['k', 10], ['m', 5], 4 * MiB), meta(4, ['n', 9], ['p', 8], 4 * MiB)
  ]
  const v = version([[], l1, [meta(5, ['l', 3], ['l', 2])]])
  const c = pickCompaction(v, [], OPTS)
  if (c === undefined) return t.fail('a compaction')
  t.same(nums(c.inputs[0]), [1, 2, 3], 'file 1 pulls in 2, which pulls in 3')
  t.same(nums(c.inputs[1]), [5], 'level 2 overlap of the grown range [a, m]')
  t.equal(userOf(c.compactPointer), 'm', 'pointer: largest of the grown inputs')

  const inputs = [l1[1]]
  addBoundaryInputs(l1, inputs)
  t.same(nums(inputs), [2, 3], 'addBoundaryInputs from file 2: file 3 only (file 1 is before it)')
  const none = [l1[3]]
  addBoundaryInputs(l1, none)
  t.same(nums(none), [4], 'no boundary past p')
  t.end()
})

test('expansion: more level inputs when the level+1 set stays the same, under 25 x maxFileSize', (t) => {
  // Level 1 has a 3-file run [a..c] [d..e] [f..g] far from a big file [x..z] that puts it over 10 MiB.
  const l1 = (bigParent: number, parentEnd = 'e'): Version => version([[], [
    fakeFile(1, 'a', 'c', 2 * MiB), fakeFile(2, 'd', 'e', 2 * MiB), fakeFile(3, 'f', 'g', 2 * MiB), fakeFile(4, 'x', 'z', 9 * MiB)
  ], [fakeFile(10, 'b', parentEnd, bigParent), fakeFile(11, 'g', 'h')], [fakeFile(20, 'a', 'e'), fakeFile(21, 'f', 'z')]])
  const c = pickCompaction(l1(10 * MiB), [], OPTS)
  if (c === undefined) return t.fail('a compaction')
  t.same([nums(c.inputs[0]), nums(c.inputs[1])], [[1, 2], [10]], 'file 1 + parent 10 [b, e] grows to files 1 and 2 [a, e]')
  t.equal(userOf(c.compactPointer), 'e', 'pointer: the grown range')
  t.same(nums(c.grandparents), [20], 'grandparents of the grown range')

  const limited = pickCompaction(l1(46 * MiB), [], OPTS)
  t.same([nums(limited?.inputs[0] ?? []), nums(limited?.inputs[1] ?? [])], [[1], [10]], '46 + 4 MiB = 50 MiB is not under 25 x 2 MiB: not grown')
  t.equal(userOf(limited?.compactPointer ?? new Uint8Array(8)), 'c')
  const under = pickCompaction(l1(46 * MiB - 1), [], OPTS)
  t.same(nums(under?.inputs[0] ?? []), [1, 2], 'one byte less: grown')
  const wider = pickCompaction(l1(MiB, 'f'), [], OPTS)
  t.same([nums(wider?.inputs[0] ?? []), nums(wider?.inputs[1] ?? [])], [[1], [10]], 'parent [b, f]: growing to file 3 [f, g] would add parent 11: not grown')
  const biggerFiles = pickCompaction(l1(46 * MiB), [], { maxFileSize: 4 * MiB })
  t.same(nums(biggerFiles?.inputs[0] ?? []), [1, 2], 'the limit follows maxFileSize')
  t.end()
})

test('compactRange: overlapping files; at levels > 0 cut off once the inputs reach maxFileSize', (t) => {
  const l1 = [1, 2, 3, 4, 5].map(i => fakeFile(i, `k${i}a`, `k${i}z`, 600 * 1024))
  const l0 = [fakeFile(13, 'k3', 'k4'), fakeFile(12, 'k1', 'k2'), fakeFile(11, 'k1b', 'k3b'), fakeFile(10, 'a', 'b')]
  const v = version([l0, l1])
  const opts = { maxFileSize: MiB }
  const c = compactRange(v, 1, ikey('k2', MAX_SEQUENCE), ikey('k5', 0, ValueType.Deletion), opts)
  if (c === undefined) return t.fail('a compaction')
  t.ok(c.manual)
  t.same(nums(c.inputs[0]), [2, 3], '600 KiB + 600 KiB >= 1 MiB: cut after the second file')
  t.equal(userOf(c.largestInputKey()), 'k3z', 'the next round resumes after k3z')
  const next = compactRange(v, 1, c.largestInputKey(), ikey('k5', 0, ValueType.Deletion), opts)
  t.same(nums(next?.inputs[0] ?? []), [3, 4], 'in the same version, k3z still overlaps file 3 (the caller installs each round first)')
  t.same(nums(compactRange(v, 1, undefined, undefined, { maxFileSize: 10 * MiB })?.inputs[0] ?? []), [1, 2, 3, 4, 5], 'under the limit: everything')

  const c0 = compactRange(v, 0, ikey('k2', MAX_SEQUENCE), ikey('k2', 0, ValueType.Deletion), opts)
  t.same(nums(c0?.inputs[0] ?? []), [11, 12, 13], 'level 0: every overlapping file, transitively, never cut')
  t.same(nums(c0?.inputs[1] ?? []), [1, 2, 3], 'and the level-1 files under [k1, k4] (k4a is past k4)')
  t.equal(compactRange(v, 2, undefined, undefined, opts), undefined, 'nothing at level 2: undefined')
  t.equal(compactRange(v, 1, ikey('zz', MAX_SEQUENCE), undefined, opts), undefined, 'nothing in range: undefined')
  t.throws(() => compactRange(v, 6, undefined, undefined, opts), RangeError, 'level 6 cannot be compacted')
  t.end()
})

test('Compaction: isBaseLevelForKey, shouldStopBefore, spec() survives structured cloning', (t) => {
  const spec: CompactionSpec = {
    level: 1,
    inputs: [[fakeFile(1, 'a', 'z')], []],
    grandparents: [fakeFile(10, 'b', 'c', 15 * MiB), fakeFile(11, 'd', 'e', 10 * MiB), fakeFile(12, 'f', 'g', 5 * MiB)],
    deeperFiles: [
      [fakeFile(10, 'b', 'c', 15 * MiB), fakeFile(11, 'd', 'e', 10 * MiB), fakeFile(12, 'f', 'g', 5 * MiB)],
      [],
      [fakeFile(30, 'm', 'p')],
      []
    ],
    maxFileSize: 2 * MiB,
    compactPointer: ikey('z', 1),
    manual: false
  }
  for (const c of [new Compaction(spec), new Compaction(structuredClone(new Compaction(spec).spec()))]) {
    const base = ['a', 'b', 'bb', 'c', 'cc', 'e', 'h', 'm', 'o', 'p', 'q'].map(k => c.isBaseLevelForKey(Buffer.from(k)))
    t.same(base, [true, false, false, false, true, false, true, false, false, false, true], 'in a deeper file\'s range: not the base level')
    c.resetCursors()
    t.equal(c.isBaseLevelForKey(Buffer.from('b')), false, 'resetCursors rewinds')
    const stops = ['a', 'd', 'f', 'h'].map(k => c.shouldStopBefore(ikey(k, 5)))
    t.same(stops, [false, false, true, false], 'fires once more than 20 MiB of grandparents were passed after the first key')
    c.resetCursors()
    t.same(['h', 'i'].map(k => c.shouldStopBefore(ikey(k, 5))), [false, false], 'nothing counted before the first key')
  }
  t.throws(() => new Compaction({ ...spec, level: 6 }), RangeError)
  t.end()
})

// ---------------------------------------------------------------------------------------------------
// Running on real tables

interface Write { user: Buffer, seq: number, type: ValueType, value: Buffer }

// Small outputs (8 KiB), so that the model test splits its output many times, between two versions
// of one user key too.
const OUT: CompactionOutputOptions = { blockSize: 1024, blockRestartInterval: 16, compression: 'snappy', bloomBitsPerKey: 10, maxFileSize: 8 * 1024 }

function readTable (cache: TableCache, f: FileMetaData): Entry[] {
  const out: Entry[] = []
  const it = cache.iterator(f.number, f.fileSize, false)
  for (it.seekToFirst(); it.valid(); it.next()) {
    out.push([Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)), Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))])
  }
  it.close()
  return out
}

const entryOf = (w: Write): Entry => [ikey(w.user, w.seq, w.type), w.value]
const fmt = (e: Entry): string => `${userOf(e[0])}@${Math.floor(e[0].readUIntLE(e[0].length - 8, 6) / 256)}`

/** Every user key read at every snapshot through both versions gives the same answer. */
function sameReads (
  t: test.Test, v: Version, nv: Version, keyCount: number, userKey: (i: number) => Buffer, snaps: number[], label: string
): void {
  let mismatches = 0
  let reads = 0
  const read = new PointRead()
  for (let i = 0; i < keyCount; i++) {
    const user = userKey(i)
    for (const s of snaps) {
      // Deleted and NotFound mean the same to a reader (a dropped deletion turns one into the other).
      const a = v.get(user, 0, user.length, s, read, false) === LookupResult.Found
      const av = a ? Buffer.from(read.entry.valueBuf.subarray(read.entry.valueOff, read.entry.valueOff + read.entry.valueLen)) : undefined
      const b = nv.get(user, 0, user.length, s, read, false) === LookupResult.Found
      const bv = b ? Buffer.from(read.entry.valueBuf.subarray(read.entry.valueOff, read.entry.valueOff + read.entry.valueLen)) : undefined
      reads++
      if (a !== b || (av !== undefined && bv !== undefined && !av.equals(bv))) {
        if (mismatches++ < 5) t.fail(`${label}: get(${user.toString('latin1')}, ${s}): found ${String(a)} before, ${String(b)} after`)
      }
    }
  }
  t.equal(mismatches, 0, `${label}: ${reads} reads through the new version match the old one`)
}

/** Checks the outputs' metadata against the files and each other; returns their entries in order. */
function checkOutputs (t: test.Test, cache: TableCache, dir: string, result: CompactionResult, label: string): Entry[] {
  const all: Entry[] = []
  let ok = true
  result.outputs.forEach((f, i) => {
    const entries = readTable(cache, f)
    const size = fs.statSync(tableFileName(dir, f.number)).size
    if (size !== f.fileSize) { ok = false; t.fail(`${label}: output ${f.number} is ${size} bytes, metadata says ${f.fileSize}`) }
    if (entries.length === 0 || !Buffer.from(f.smallest).equals(entries[0][0]) || !Buffer.from(f.largest).equals(entries[entries.length - 1][0])) {
      ok = false
      t.fail(`${label}: output ${f.number}: smallest/largest do not match its entries`)
    }
    const prev = result.outputs[i - 1]
    if (prev !== undefined && compareInternalKeys(prev.largest, 0, prev.largest.length, f.smallest, 0, f.smallest.length) >= 0) {
      ok = false
      t.fail(`${label}: outputs ${prev.number} and ${f.number} overlap or are out of order`)
    }
    all.push(...entries)
  })
  if (ok) t.pass(`${label}: ${result.outputs.length} outputs, sizes and key ranges match the files, in order`)
  return all
}

function sameEntries (t: test.Test, got: Entry[], want: Entry[], label: string): void {
  let i = 0
  while (i < got.length && i < want.length && got[i][0].equals(want[i][0]) && got[i][1].equals(want[i][1])) i++
  if (i === got.length && i === want.length) t.pass(`${label}: exactly the ${want.length} surviving entries`)
  else t.fail(`${label}: first difference at ${i}: got ${got[i] === undefined ? 'end' : fmt(got[i])}, want ${want[i] === undefined ? 'end' : fmt(want[i])} (${got.length} vs ${want.length} entries)`)
}

test('runCompaction: exactly the entries that some reader at or above smallestSnapshot can see; reads unchanged', (t) => {
  const rnd = new Random(7)
  const dir = tempDir('compact-model')
  const keyCount = 300
  const userKey = (i: number): Buffer => Buffer.from(`u${String(i).padStart(4, '0')}`, 'latin1')
  const writes: Write[] = []
  const write = (user: Buffer): void => {
    const seq = writes.length + 1
    const type = rnd.chance(0.3) ? ValueType.Deletion : ValueType.Value
    writes.push({ user, seq, type, value: type === ValueType.Deletion ? Buffer.alloc(0) : rnd.bytes(rnd.range(0, 40)) })
  }
  // Oldest: level 3, even keys of the lower half only (so the upper half is at its base level in an
  // L0 -> L1 compaction, and the lower half is not wherever level 3 has a file over it).
  for (let i = 0; i < 600; i++) write(userKey(2 * rnd.int(keyCount / 4)))
  const l3Writes = writes.slice()
  // Then level 1, then four level-0 files.
  for (let i = 0; i < 1500; i++) write(userKey(2 * rnd.int(keyCount / 2)))
  const l1Writes = writes.slice(l3Writes.length)
  for (let i = 0; i < 2000; i++) write(userKey(2 * rnd.int(keyCount / 2)))
  const l0Writes = writes.slice(l3Writes.length + l1Writes.length)

  let number = 10
  const edit = new VersionEdit()
  const split = (ws: Write[], level: number, min: number, max: number): void => {
    const entries = ws.map(entryOf).sort(compareEntries)
    for (let start = 0; start < entries.length;) {
      const end = Math.min(entries.length, start + rnd.range(min, max))
      edit.addFile(level, writeTable(dir, number++, entries.slice(start, end)))
      start = end
    }
  }
  split(l3Writes, 3, 40, 150)
  split(l1Writes, 1, 100, 400)
  for (let i = 0; i < 4; i++) {
    const chunk = l0Writes.slice(i * 500, (i + 1) * 500)
    edit.addFile(0, writeTable(dir, number++, chunk.map(entryOf), { compression: i % 2 === 0 ? 'snappy' : 'none' }))
  }
  const cache = new TableCache(dir, new PosixFileSystem(), 1000)
  const v = Version.apply(new Version(cache), edit)
  const c = pickCompaction(v, [], OPTS)
  if (c === undefined) return t.fail('a compaction')
  t.equal(c.level, 0)
  t.equal(c.inputs[0].length, 4, 'all four L0 files')
  t.equal(c.inputs[1].length, v.files[1].length, 'and every L1 file')
  t.equal(c.inputs[1].length > 1, true)

  // The inputs' writes (every L0 and L1 write: all their files are inputs).
  const inputWrites = [...l1Writes, ...l0Writes]
  const byUser = new Map<string, Write[]>()
  for (const w of inputWrites) {
    const k = w.user.toString('latin1')
    if (!byUser.has(k)) byUser.set(k, [])
    byUser.get(k)?.push(w)
  }
  /** True when some file at level >= 2 has the key in its user-key range. */
  const deeperHas = (user: Buffer): boolean => {
    for (let l = 2; l < NUM_LEVELS; l++) {
      for (const f of v.files[l]) {
        if (compareBytes(user, 0, user.length, f.smallest, 0, f.smallest.length - 8) >= 0 &&
          compareBytes(user, 0, user.length, f.largest, 0, f.largest.length - 8) <= 0) return true
      }
    }
    return false
  }

  const last = writes.length
  for (const smallestSnapshot of [last, l0Writes[0].seq + 700, l0Writes[0].seq - 1, 0]) {
    const label = `smallestSnapshot ${smallestSnapshot}`
    // The model: per user key, every entry newer than the snapshot, plus the newest one at or below it
    // unless it is a deletion with nothing deeper to hide.
    const want: Entry[] = []
    let droppedDeletions = 0
    let keptDeletions = 0
    for (const ws of byUser.values()) {
      const sorted = [...ws].sort((a, b) => b.seq - a.seq)
      const visible = sorted.find(w => w.seq <= smallestSnapshot)
      for (const w of sorted) {
        if (w.seq > smallestSnapshot) want.push(entryOf(w))
        else if (w === visible) {
          if (w.type === ValueType.Deletion && !deeperHas(w.user)) droppedDeletions++
          else {
            if (w.type === ValueType.Deletion) keptDeletions++
            want.push(entryOf(w))
          }
        }
      }
    }
    want.sort(compareEntries)

    const fileNumbers = Array.from({ length: maxOutputFiles(c, OUT.maxFileSize) }, () => number++)
    const result = runCompaction(c, { fs: new PosixFileSystem(), dir, tableCache: cache, options: OUT, smallestSnapshot, fileNumbers })
    t.equal(result.level, 1)
    t.equal(result.stats.entriesRead, inputWrites.length, `${label}: every input entry read`)
    const got = checkOutputs(t, cache, dir, result, label)
    sameEntries(t, got, want, `${label} (${droppedDeletions} deletions dropped at the base level, ${keptDeletions} kept over level 3)`)
    if (smallestSnapshot === last) t.ok(droppedDeletions > 0 && keptDeletions > 0, 'both deletion cases occur')
    const splitKeys = result.outputs.filter((f, i) => i > 0 && userOf(f.smallest) === userOf(result.outputs[i - 1].largest)).length
    if (smallestSnapshot === 0) t.ok(splitKeys > 0, `${splitKeys} of the ${result.outputs.length - 1} output boundaries fall between two versions of one user key`)

    // The new version answers every read at or above the smallest snapshot as the old one did.
    const nv = Version.apply(v, applyCompaction(c, result.outputs))
    t.same([nv.files[0].length, nv.files[1].length, nv.files[3].length], [0, result.outputs.length, v.files[3].length], `${label}: inputs replaced by the outputs`)
    const snaps = [smallestSnapshot, Math.floor((smallestSnapshot + last) / 2), last, MAX_SEQUENCE]
    sameReads(t, v, nv, keyCount, userKey, snaps, label)

    if (smallestSnapshot === 0) {
      // Level 1 now splits user keys between files. A manual round over it with a 20 KiB cut-off must
      // pull in the boundary files past the cut, and its outputs at level 2 still read the same.
      let cut = 0
      for (let total = 0; cut < nv.files[1].length && total < 20 * 1024;) total += nv.files[1][cut++].fileSize
      const c2 = compactRange(nv, 1, undefined, undefined, { maxFileSize: 20 * 1024 })
      if (c2 === undefined) return t.fail('a level-1 compaction')
      const n2 = c2.inputs[0].length
      const lastIn = c2.inputs[0][n2 - 1]
      const following = nv.files[1][n2]
      t.ok(n2 > cut, `the cut after ${cut} files grew to ${n2} with boundary files`)
      t.ok(following === undefined || userOf(following.smallest) !== userOf(lastIn.largest), 'the first file left behind starts a new user key')
      t.same([c2.inputs[1].length, c2.grandparents.length > 0, c2.isTrivialMove()], [0, true, false], 'level 2 empty; level 3 below')
      const r2 = runCompaction(c2, {
        fs: new PosixFileSystem(), dir, tableCache: cache, options: OUT, smallestSnapshot: 0, fileNumbers: Array.from({ length: maxOutputFiles(c2, OUT.maxFileSize) }, () => number++)
      })
      checkOutputs(t, cache, dir, r2, 'level 1 -> 2')
      const nv2 = Version.apply(nv, applyCompaction(c2, r2.outputs))
      t.same([nv2.files[1].length, nv2.files[2].length], [nv.files[1].length - n2, r2.outputs.length])
      sameReads(t, v, nv2, keyCount, userKey, snaps, 'after a second compaction, level 1 -> 2')
    }
  }
  cache.close()
  removeDir(dir)
  t.end()
})

test('runCompaction: a level-1 compaction drops hidden versions and base-level deletions, keeps what snapshots or deeper levels need', (t) => {
  const dir = tempDir('compact-small')
  const e = (u: string, s: number, v?: string): Entry => [ikey(u, s, v === undefined ? ValueType.Deletion : ValueType.Value), Buffer.from(v ?? '')]
  const f1 = writeTable(dir, 1, [e('a', 20, 'a20'), e('b', 21), e('m', 22), e('x', 23)])
  const f2 = writeTable(dir, 2, [e('a', 10, 'a10'), e('a', 5, 'a5'), e('b', 11, 'b11'), e('m', 12, 'm12'), e('x', 13, 'x13')])
  const deep = writeTable(dir, 3, [e('l', 1, 'l1'), e('n', 2, 'n2')]) // level 3, range [l, n] covers m
  const cache = new TableCache(dir, new PosixFileSystem(), 100)
  const v = new Version(cache, [[], [f1], [f2], [deep]])
  const c = compactRange(v, 1, undefined, undefined, OPTS)
  if (c === undefined) return t.fail('a compaction')
  t.same([nums(c.inputs[0]), nums(c.inputs[1]), nums(c.grandparents)], [[1], [2], [3]])
  const run = (smallestSnapshot: number, first: number): string[] => {
    const r = runCompaction(c, { fs: new PosixFileSystem(), dir, tableCache: cache, options: OUT, smallestSnapshot, fileNumbers: [first, first + 1] })
    return checkOutputs(t, cache, dir, r, `snapshot ${smallestSnapshot}`).map(fmt)
  }
  t.same(run(100, 10), ['a@20', 'm@22'], 'no snapshot: newest of each key; deletions of b and x dropped (base level), m kept (level 3 covers it)')
  t.same(run(12, 20), ['a@20', 'a@10', 'b@21', 'b@11', 'm@22', 'm@12', 'x@23', 'x@13'], 'snapshot 12: versions it sees kept; a@5 hidden by a@10')
  t.same(run(0, 30), ['a@20', 'a@10', 'a@5', 'b@21', 'b@11', 'm@22', 'm@12', 'x@23', 'x@13'], 'snapshot 0: everything')
  cache.close()
  removeDir(dir)
  t.end()
})

test('runCompaction: every entry dropped makes no output and an edit that only deletes', (t) => {
  const dir = tempDir('compact-empty')
  const f1 = writeTable(dir, 1, [[ikey('a', 5, ValueType.Deletion), Buffer.alloc(0)]])
  const f2 = writeTable(dir, 2, [[ikey('a', 1), Buffer.from('old')]])
  const cache = new TableCache(dir, new PosixFileSystem(), 100)
  const v = new Version(cache, [[], [f1], [f2]])
  const c = compactRange(v, 1, undefined, undefined, OPTS)
  if (c === undefined) return t.fail('a compaction')
  const r = runCompaction(c, { fs: new PosixFileSystem(), dir, tableCache: cache, options: OUT, smallestSnapshot: 10, fileNumbers: [7] })
  t.same(r.outputs, [])
  t.notOk(fs.existsSync(tableFileName(dir, 7)), 'no file made')
  const edit = applyCompaction(c, r.outputs)
  t.same([edit.deletedFiles, edit.newFiles.length, edit.compactPointers.length], [[[1, 1], [2, 2]], 0, 1])
  t.ok(VersionEdit.decode(edit.encode(), 'test').deletedFiles.length === 2, 'the edit encodes')
  cache.close()
  removeDir(dir)
  t.end()
})

/** ~3 MiB over two overlapping tables at levels 1 and 2 (compression none, 100-byte values). */
function bigInputs (label: string): { dir: string, cache: TableCache, c: Compaction, count: number, bytes: number } {
  const dir = tempDir(label)
  const rnd = new Random(11)
  const a: Entry[] = []
  const b: Entry[] = []
  const n = 24000
  for (let i = 0; i < n; i++) {
    const user = `key${String(i).padStart(7, '0')}`
    ;(i % 2 === 0 ? a : b).push([ikey(user, n + i), rnd.bytes(100)])
    if (i % 10 === 0) b.push([ikey(user, i + 1), rnd.bytes(100)]) // an older version, hidden
  }
  const opts = { blockSize: 4096, compression: 'none' as const, blockRestartInterval: 16 }
  const f1 = writeTable(dir, 1, a, opts)
  const f2 = writeTable(dir, 2, b, opts)
  const cache = new TableCache(dir, new PosixFileSystem(), 100)
  const c = compactRange(new Version(cache, [[], [f1], [f2]]), 1, undefined, undefined, { maxFileSize: 10 * MiB })
  if (c === undefined) throw new Error('no compaction')
  return { dir, cache, c, count: n, bytes: f1.fileSize + f2.fileSize }
}

const BIG_OUT: CompactionOutputOptions = { blockSize: 4096, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 10, maxFileSize: MiB }

test('runCompaction: outputs split once their size reaches maxFileSize', (t) => {
  const { dir, cache, c, count, bytes } = bigInputs('compact-split')
  t.ok(bytes > 2.9 * MiB, `inputs: ${(bytes / MiB).toFixed(2)} MiB`)
  const r = runCompaction(c, { fs: new PosixFileSystem(), dir, tableCache: cache, options: BIG_OUT, smallestSnapshot: 1e6, fileNumbers: [10, 11, 12, 13, 14, 15] })
  const got = checkOutputs(t, cache, dir, r, 'split')
  t.equal(got.length, count, 'one entry per user key (older versions dropped)')
  t.equal(r.stats.entriesWritten, count)
  t.same(r.outputs.map(f => f.number), [10, 11, 12], 'three outputs, numbers taken in order')
  const sizes = r.outputs.map(f => f.fileSize)
  t.ok(sizes.slice(0, -1).every(s => s >= MiB && s < MiB + 64 * 1024), `every output but the last reaches 1 MiB, by less than a block and the index: ${sizes.join(', ')}`)
  t.ok(sizes[sizes.length - 1] < MiB, 'the last holds the rest')
  t.equal(r.stats.bytesWritten, sizes.reduce((x, y) => x + y, 0))
  cache.close()
  removeDir(dir)
  t.end()
})

test('runCompaction: an output stops before overlapping more than 10 x maxFileSize of grandparents', (t) => {
  const { dir, cache, c: plain, count } = bigInputs('compact-gp')
  // Grandparents (metadata only: never read) every 500 keys, 3 MiB each: an output may pass at most
  // three of them (10 MiB limit with maxFileSize 1 MiB) after its first key.
  const grandparents: FileMetaData[] = []
  for (let i = 0; i < 48; i++) {
    const lo = `key${String(i * 500).padStart(7, '0')}`
    const hi = `key${String(i * 500 + 499).padStart(7, '0')}`
    grandparents.push(meta(100 + i, [lo, 1], [hi, 1], 3 * MiB))
  }
  const spec = plain.spec()
  const c = new Compaction({ ...spec, grandparents, deeperFiles: [grandparents, [], [], []], maxFileSize: MiB })
  const fileNumbers = Array.from({ length: maxOutputFiles(c, MiB) }, (_, i) => 1000 + i)
  const r = runCompaction(c, { fs: new PosixFileSystem(), dir, tableCache: cache, options: { ...BIG_OUT, maxFileSize: 100 * MiB }, smallestSnapshot: 1e6, fileNumbers })
  const got = checkOutputs(t, cache, dir, r, 'grandparent split')
  t.equal(got.length, count, 'nothing lost')
  t.ok(r.outputs.length >= 10, `split by grandparents alone (outputs far below 100 MiB): ${r.outputs.length} outputs`)
  t.ok(r.outputs.length <= fileNumbers.length, `within maxOutputFiles (${fileNumbers.length})`)
  let worst = 0
  for (const o of r.outputs) {
    // Grandparent bytes whose end lies strictly inside the output: counted while it was open.
    let passed = 0
    for (const g of grandparents) {
      if (compareInternalKeys(g.largest, 0, g.largest.length, o.smallest, 0, o.smallest.length) > 0 &&
        compareInternalKeys(g.largest, 0, g.largest.length, o.largest, 0, o.largest.length) < 0) passed += g.fileSize
    }
    worst = Math.max(worst, passed)
  }
  t.ok(worst <= 10 * MiB, `no output passes more than 10 MiB of grandparents (worst ${worst / MiB} MiB)`)
  t.ok(worst >= 9 * MiB, 'and they use what the limit allows (3 x 3 MiB)')
  cache.close()
  removeDir(dir)
  t.end()
})

/** The real file system, with the Nth append (or sync) to a table being written failing with EIO. */
class FailingFileSystem extends PosixFileSystem {
  appends = 0
  syncs = 0
  failAppendAt = Infinity
  failSyncAt = Infinity

  override openWritable (path: string): WritableFile {
    const inner = super.openWritable(path)
    const self = this
    const eio = (what: string): Error => Object.assign(new Error(`EIO: i/o error, ${what} '${path}'`), { code: 'EIO' })
    return {
      path,
      append (buf: Uint8Array, offset: number, length: number): void {
        if (++self.appends === self.failAppendAt) throw eio('write')
        inner.append(buf, offset, length)
      },
      sync (): void {
        if (++self.syncs === self.failSyncAt) throw eio('fdatasync')
        inner.sync()
      },
      syncAsync: () => inner.syncAsync(),
      close: () => inner.close()
    }
  }
}

test('runCompaction: a failure leaves no output behind and the inputs untouched', (t) => {
  const { dir, cache, c } = bigInputs('compact-fail')
  const before = fs.readdirSync(dir).sort()
  const numbers = [10, 11, 12, 13, 14, 15]
  const env = (fsys: PosixFileSystem, extra: Partial<RunCompactionEnv> = {}): RunCompactionEnv =>
    ({ fs: fsys, dir, tableCache: cache, options: BIG_OUT, smallestSnapshot: 1e6, fileNumbers: numbers, ...extra })

  const counting = new FailingFileSystem()
  const ok = runCompaction(c, env(counting))
  for (const f of ok.outputs) { cache.evict(f.number); fs.unlinkSync(tableFileName(dir, f.number)) }
  t.ok(ok.outputs.length >= 3 && counting.appends > 3 * ok.outputs.length, `a clean run: ${ok.outputs.length} outputs, ${counting.appends} appends, ${counting.syncs} syncs`)

  const cases: Array<[string, () => unknown, RegExp]> = [
    ['append fails in the second output', () => { const f = new FailingFileSystem(); f.failAppendAt = Math.floor(counting.appends / 2); return runCompaction(c, env(f)) }, /EIO/],
    ['append fails on the very first write', () => { const f = new FailingFileSystem(); f.failAppendAt = 1; return runCompaction(c, env(f)) }, /EIO/],
    ['the last output\'s fdatasync fails', () => { const f = new FailingFileSystem(); f.failSyncAt = 3; return runCompaction(c, env(f)) }, /EIO/],
    ['the file numbers run out', () => runCompaction(c, env(new PosixFileSystem(), { fileNumbers: [10, 11] })), /2 pre-allocated output file numbers ran out/],
    ['cancelled midway', () => { let polls = 0; return runCompaction(c, env(new PosixFileSystem(), { cancelled: () => ++polls > 60 })) }, /cancelled/]
  ]
  for (const [label, run, message] of cases) {
    let error: (Error & { code?: string }) | undefined
    try { run() } catch (err) { error = err as Error }
    t.ok(error !== undefined && message.test(error.message), `${label}: throws (${error?.message})`)
    if (label.includes('fails') || label.includes('cancelled')) t.equal(error?.code, 'LEVEL_IO_ERROR', `${label}: LEVEL_IO_ERROR`)
    t.same(fs.readdirSync(dir).sort(), before, `${label}: no output file left, inputs intact`)
  }
  // The inputs still read in full, and a retry succeeds.
  const again = runCompaction(c, env(new PosixFileSystem()))
  t.equal(again.outputs.length, ok.outputs.length, 'a retry after the failures succeeds')
  cache.close()
  removeDir(dir)
  t.end()
})

test('runCompaction: a Compaction rebuilt from a structured clone of its spec (as a worker would) gives the same outputs', (t) => {
  const { dir, cache, c } = bigInputs('compact-clone')
  const clone = new Compaction(structuredClone(c.spec()))
  const a = runCompaction(c, { fs: new PosixFileSystem(), dir, tableCache: cache, options: BIG_OUT, smallestSnapshot: 1e6, fileNumbers: [10, 11, 12, 13] })
  const b = runCompaction(clone, { fs: new PosixFileSystem(), dir, tableCache: cache, options: BIG_OUT, smallestSnapshot: 1e6, fileNumbers: [20, 21, 22, 23] })
  t.same(b.outputs.map(f => [f.fileSize, Buffer.from(f.smallest).toString('hex'), Buffer.from(f.largest).toString('hex')]),
    a.outputs.map(f => [f.fileSize, Buffer.from(f.smallest).toString('hex'), Buffer.from(f.largest).toString('hex')]))
  a.outputs.forEach((f, i) => t.ok(fs.readFileSync(tableFileName(dir, f.number)).equals(fs.readFileSync(tableFileName(dir, b.outputs[i].number))), `output ${i}: identical bytes`))
  cache.close()
  removeDir(dir)
  t.end()
})
