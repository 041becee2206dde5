import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import zlib = require('node:zlib')
import test from 'tape'
import { ClassicLevel } from 'classic-level'
import type { RandomAccessFile, WritableFile } from '../../engine/fs/file-system'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { compareInternalKeys, MAX_SEQUENCE, putTag, tagSequence, tagType, ValueType } from '../../engine/internal-key'
import { Block, BlockIterator } from '../../engine/table/block'
import { CompressionType, uncompressBlock, zstdCompressionAvailable } from '../../engine/table/compression'
import { BlockHandle, putBlockTrailer, readBlock, readFooter } from '../../engine/table/format'
import { type BlockCache, Table, TableEntry } from '../../engine/table/table'
import { TableBuilder, type TableBuilderOptions } from '../../engine/table/table-builder'
import { newBlockCache } from '../../engine/table/block-cache'
import { eventLoopBudget } from '../../engine/util/event-loop-budget'
import { writeZstdTable, zstdBlock } from '../fixtures/zstd-table'

/** A file in memory, both ends: what TableBuilder writes, Table reads. */
class MemFile implements RandomAccessFile, WritableFile {
  readonly path: string
  buf = Buffer.alloc(64 * 1024)
  len = 0
  appends = 0

  constructor (path: string, contents?: Uint8Array) {
    this.path = path
    if (contents !== undefined) { this.buf = Buffer.from(contents); this.len = contents.length }
  }

  append (b: Uint8Array, off: number, len: number): void {
    if (this.len + len > this.buf.length) {
      const grown = Buffer.alloc(Math.max(this.len + len, this.buf.length * 2))
      this.buf.copy(grown, 0, 0, this.len)
      this.buf = grown
    }
    this.buf.set(b.subarray(off, off + len), this.len)
    this.len += len
    this.appends++
  }

  read (b: Uint8Array, off: number, len: number, position: number): number {
    const n = Math.max(0, Math.min(len, this.len - position))
    b.set(this.buf.subarray(position, position + n), off)
    return n
  }

  size (): number { return this.len }
  sync (): void {}
  async syncAsync (): Promise<void> {}
  close (): void {}
  bytes (): Buffer { return this.buf.subarray(0, this.len) }
}

type Entry = [Buffer, Buffer]

const OPTIONS: TableBuilderOptions = { blockSize: 4096, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 10 }

const isCorruption = (name: string) => (err: any): boolean =>
  err.code === 'LEVEL_CORRUPTION' && err.message.includes(name)

function ikey (user: Uint8Array | string, seq: number, type = ValueType.Value): Buffer {
  const u = typeof user === 'string' ? Buffer.from(user, 'latin1') : Buffer.from(user)
  const b = Buffer.alloc(u.length + 8)
  u.copy(b)
  putTag(b, u.length, seq, type)
  return b
}

const cmpEntries = (a: Entry, b: Entry): number => compareInternalKeys(a[0], 0, a[0].length, b[0], 0, b[0].length)
const userKey = (k: Uint8Array, len = k.length): Buffer => Buffer.from(k.subarray(0, len - 8))

function buildTable (entries: Entry[], options: Partial<TableBuilderOptions> = {}, name = '000001.ldb'): MemFile {
  const file = new MemFile(name)
  const builder = new TableBuilder({ ...OPTIONS, ...options }, file)
  for (const [k, v] of entries) builder.add(k, 0, k.length, v, 0, v.length)
  const size = builder.finish()
  if (size !== file.len) throw new Error(`finish() said ${size}, file has ${file.len}`)
  return file
}

const keyOf = (it: { keyBuf: Uint8Array, keyOff: number, keyLen: number }): Buffer => Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen))
const valueOf = (it: { valueBuf: Uint8Array, valueOff: number, valueLen: number }): Buffer => Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))

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

/** Full scans both ways, seeks and gets against the sorted model; returns a list of problems. */
function checkTable (table: Table, model: Entry[], probes: Buffer[]): string[] {
  const problems: string[] = []
  const it = table.iterator()
  it.seekToFirst()
  for (let i = 0; i < model.length; i++, it.next()) {
    if (!it.valid()) { problems.push(`forward: ended at ${i} of ${model.length}`); break }
    if (!keyOf(it).equals(model[i][0]) || !valueOf(it).equals(model[i][1])) { problems.push(`forward: entry ${i} differs`); break }
  }
  if (it.valid()) problems.push('forward: entries past the end')
  it.seekToLast()
  for (let i = model.length - 1; i >= 0; i--, it.prev()) {
    if (!it.valid()) { problems.push(`backward: ended at ${i}`); break }
    if (!keyOf(it).equals(model[i][0]) || !valueOf(it).equals(model[i][1])) { problems.push(`backward: entry ${i} differs`); break }
  }
  if (it.valid()) problems.push('backward: entries before the start')

  const out = new TableEntry()
  for (const target of probes) {
    const lb = lowerBound(model, target)
    it.seek(target, 0, target.length)
    if (lb === model.length ? it.valid() : !(it.valid() && keyOf(it).equals(model[lb][0]))) {
      problems.push(`seek ${target.toString('hex')}: expected entry ${lb}`)
      continue
    }
    if (lb > 0 && lb < model.length) {
      it.prev()
      if (!(it.valid() && keyOf(it).equals(model[lb - 1][0]))) problems.push(`prev after seek ${target.toString('hex')}`)
    }
    const found = table.get(target, 0, target.length, out)
    const sameUser = lb < model.length && userKey(model[lb][0]).equals(userKey(target))
    if (sameUser && !found) problems.push(`get ${target.toString('hex')}: not found`)
    if (found && !(lb < model.length && keyOf(out).equals(model[lb][0]) && valueOf(out).equals(model[lb][1]))) {
      problems.push(`get ${target.toString('hex')}: wrong entry`)
    }
  }
  it.close()
  return problems
}

function rng (seed: number): (n: number) => number {
  return (n) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return ((seed >>> 4) * 4096 + (Math.imul(seed, 2654435761) >>> 20)) % n }
}

test('a one-entry table is LevelDB\'s 180 bytes, byte for byte (reference §14.4)', (t) => {
  const file = buildTable([[ikey('foo', 1), Buffer.from('bar')]])
  const expected =
    '000b03666f6f01010000000000006261720000000001000000' + '00c8af4dae' +
    '2049120000000000060000000009000000' + '0b' + '009be6a91c' +
    '00220266696c7465722e6c6576656c64622e4275696c74696e426c6f6f6d46696c746572321e120000000001000000' + '0045f432f3' +
    '000902' + '6701ffffffffffffff' + '0019' + '0000000001000000' + '002ce56be7' +
    '352f6916' + '00'.repeat(36) + '57fb808b247547db'
  t.is(file.len, 180, '180 bytes')
  t.is(file.bytes().toString('hex'), expected, 'every byte as LevelDB writes it')
  t.is(file.appends, 1, 'one append: blocks are staged up to 64 KiB, as LevelDB\'s file buffer does')

  const table = Table.open(file, file.len, file.path)
  t.ok(table.hasFilter, 'filter found through the metaindex')
  const out = new TableEntry()
  const foo5 = ikey('foo', 5)
  t.ok(table.get(foo5, 0, foo5.length, out), 'get foo@5')
  t.ok(keyOf(out).equals(ikey('foo', 1)) && valueOf(out).toString() === 'bar', 'finds foo@1 -> bar')
  const fop = ikey('fop', 5)
  t.notOk(table.get(fop, 0, fop.length, out), 'get fop: not found')
  t.is(table.stats.dataBlockReads, 1, 'one data block read for the hit')
  t.end()
})

test('tables round-trip against a model: many blocks, binary keys of every byte, versions, empty and >1 MiB values', (t) => {
  const rnd = rng(2024)
  const entries: Entry[] = []
  // Every byte value as a one-byte user key, and inside longer keys.
  for (let b = 0; b < 256; b++) {
    entries.push([ikey(Uint8Array.of(b), 1000 + b), Buffer.from(`one-${b}`)])
    entries.push([ikey(Uint8Array.of(b, 0xff, b, 0), 7, ValueType.Deletion), Buffer.alloc(0)])
  }
  for (let i = 0; i < 4000; i++) {
    const u = Buffer.alloc(1 + rnd(24))
    for (let j = 0; j < u.length; j++) u[j] = rnd(4) === 0 ? rnd(256) : 0x61 + rnd(4)
    const versions = 1 + (rnd(6) === 0 ? rnd(3) : 0)
    for (let v = 0; v < versions; v++) {
      const type = rnd(8) === 0 ? ValueType.Deletion : ValueType.Value
      const value = type === ValueType.Deletion || rnd(10) === 0 ? Buffer.alloc(0) : Buffer.from(`v${i}.${v}:`.repeat(1 + rnd(20)))
      entries.push([ikey(u, 1 + rnd(2 ** 40), type), value])
    }
  }
  // Sequences above 2^32 and the largest our writes use.
  entries.push([ikey('seq-big', 2 ** 52 + 3), Buffer.from('big')], [ikey('seq-big', MAX_SEQUENCE), Buffer.from('max')])
  // Values over 1 MiB: one incompressible, one compressible.
  const noise = Buffer.alloc(1100 * 1024)
  for (let i = 0; i < noise.length; i++) noise[i] = rnd(256)
  entries.push([ikey('huge-noise', 5), noise], [ikey('huge-text', 5), Buffer.from('0123456789abcdef'.repeat(70 * 1024))])

  entries.sort(cmpEntries)
  const model = entries.filter((e, i) => i === 0 || cmpEntries(e, entries[i - 1]) !== 0)

  const probes: Buffer[] = []
  for (let i = 0; i < 1500; i++) {
    const [k] = model[rnd(model.length)]
    probes.push(k)
    probes.push(ikey(userKey(k), MAX_SEQUENCE))
    const absent = Buffer.from(userKey(k))
    absent[absent.length - 1] ^= 1 + rnd(255)
    probes.push(ikey(absent, rnd(1000)))
  }
  probes.push(ikey('', MAX_SEQUENCE), ikey(Buffer.alloc(30, 0xff), 0))

  for (const compression of ['none', 'snappy'] as const) {
    for (const [blockSize, interval] of [[4096, 16], [1024, 1], [256 * 1024, 3]]) {
      const file = buildTable(model, { compression, blockSize, blockRestartInterval: interval })
      const table = Table.open(file, file.len, file.path)
      const problems = checkTable(table, model, probes)
      t.same(problems.slice(0, 5), [], `${compression}, block ${blockSize}, restart interval ${interval}: ${file.len} bytes, scans, seeks and gets match (${problems.length} problems)`)
    }
  }
  t.end()
})

test('snappy blocks are stored compressed only when that saves more than 12.5%, index and metaindex included', (t) => {
  const entries: Entry[] = []
  for (let i = 0; i < 2000; i++) entries.push([ikey(`key-${String(i).padStart(6, '0')}`, i + 1), Buffer.from('abcdefgh'.repeat(8))])
  const file = buildTable(entries, { compression: 'snappy' })
  const plain = buildTable(entries, { compression: 'none' })
  t.ok(file.len < plain.len / 2, `compressible data shrinks (${file.len} < ${plain.len} / 2)`)
  const footer = readFooter(file, file.len, file.path)
  t.is(file.bytes()[footer.indexHandle.offset + footer.indexHandle.size], 1, 'the index block is snappy')
  const types = blockTypes(file)
  t.ok(types.every((type) => type === 1), 'every data block snappy')

  const random: Entry[] = []
  const rnd = rng(5)
  for (let i = 0; i < 300; i++) {
    const v = Buffer.alloc(100)
    for (let j = 0; j < 100; j++) v[j] = rnd(256)
    random.push([ikey(`r${String(i).padStart(5, '0')}`, 1), v])
  }
  const incompressible = buildTable(random, { compression: 'snappy' })
  t.ok(blockTypes(incompressible).every((type) => type === 0), 'random data blocks stored raw')
  t.same(checkTable(Table.open(incompressible, incompressible.len, 'x'), random, []), [], 'and read back')
  t.end()
})

/** The trailer type byte of every data block. */
function blockTypes (file: MemFile): number[] {
  const footer = readFooter(file, file.len, file.path)
  const index = new BlockIterator(compareInternalKeys, new Block(readBlock(file, footer.indexHandle, file.path)))
  const types: number[] = []
  const h = new BlockHandle()
  for (index.seekToFirst(); index.valid(); index.next()) {
    h.decodeFrom(index.valueBuf, index.valueOff, index.valueOff + index.valueLen, file.path, 0)
    types.push(file.bytes()[h.offset + h.size])
  }
  return types
}

test('an empty table has no data blocks and iterates as empty', (t) => {
  const file = buildTable([])
  const table = Table.open(file, file.len, file.path)
  const it = table.iterator()
  it.seekToFirst(); t.notOk(it.valid())
  it.seekToLast(); t.notOk(it.valid())
  t.notOk(table.get(ikey('a', 1), 0, 9, new TableEntry()))
  t.end()
})

test('TableBuilder rejects keys out of order and short keys; counts entries and size', (t) => {
  const file = new MemFile('x.ldb')
  const b = new TableBuilder(OPTIONS, file)
  const k = ikey('b', 5)
  b.add(k, 0, k.length, k, 0, 1)
  t.throws(() => b.add(k, 0, k.length, k, 0, 1), (e: any) => e.code === 'LEVEL_INVALID_ARGUMENT', 'equal key')
  const older = ikey('a', 9)
  t.throws(() => b.add(older, 0, older.length, k, 0, 1), (e: any) => e.code === 'LEVEL_INVALID_ARGUMENT', 'smaller key')
  t.throws(() => b.add(k, 0, 7, k, 0, 1), (e: any) => e.code === 'LEVEL_INVALID_ARGUMENT', 'key under 8 bytes')
  const newer = ikey('b', 4)
  b.add(newer, 0, newer.length, k, 0, 1)
  t.is(b.numEntries(), 2)
  t.is(b.fileSize(), 0, 'nothing written before the block fills')
  const size = b.finish()
  t.is(size, b.fileSize())
  t.is(size, file.len)
  t.end()
})

test('zstd: writing is LEVEL_NOT_SUPPORTED without a compressor; reading works on a zstd block', (t) => {
  if (zstdCompressionAvailable) {
    const entries: Entry[] = []
    for (let i = 0; i < 3000; i++) entries.push([ikey(`key-${String(i).padStart(6, '0')}`, i + 1), Buffer.from(`value ${i} `.repeat(5))])
    const file = buildTable(entries, { compression: 'zstd' })
    t.ok(blockTypes(file).includes(2), 'zstd blocks written')
    t.same(checkTable(Table.open(file, file.len, file.path), entries, entries.slice(0, 100).map((e) => e[0])), [], 'zstd table round-trips')
  } else {
    t.throws(() => new TableBuilder({ ...OPTIONS, compression: 'zstd' }, new MemFile('z.ldb')), (e: any) => e.code === 'LEVEL_NOT_SUPPORTED' && /zstd/.test(e.message), `Node ${process.versions.node}: not supported`)
    t.is(typeof Reflect.get(zlib, 'zstdCompressSync'), 'undefined', 'this Node has no zstdCompressSync: zstd round trip skipped')
  }

  const { entries, raw, frame } = zstdBlock()
  t.ok(Buffer.from(uncompressBlock(CompressionType.Zstd, frame, 'z.ldb', 0)).equals(raw), 'fzstd decodes the frame to the block')
  const file = new MemFile('zstd.ldb')
  writeZstdTable(file)
  const table = Table.open(file, file.len, file.path)
  t.same(checkTable(table, entries, entries.map((e) => e[0])), [], 'a table with a zstd data block reads back')

  const bad = Buffer.from(frame)
  bad[5] = 0xff // content size no longer matches what the frame produces
  t.throws(() => uncompressBlock(CompressionType.Zstd, bad, 'z.ldb', 9), isCorruption('z.ldb'), 'wrong content size: corruption')
  t.throws(() => uncompressBlock(CompressionType.Zstd, frame.subarray(0, 100), 'z.ldb', 9), isCorruption('z.ldb'), 'truncated frame: corruption')
  const huge = Buffer.from('28b52ffd' + 'e0' + 'ffffffffffffff7f' + '010000', 'hex') // claims 2^63 bytes
  t.throws(() => uncompressBlock(CompressionType.Zstd, huge, 'z.ldb', 9), isCorruption('z.ldb'), 'absurd content size: corruption, nothing allocated')
  t.end()
})

test('snappy decoding is strict: damaged streams are LEVEL_CORRUPTION, claimed lengths are bounded', (t) => {
  const text = Buffer.from('hello hello hello hello hello hello hello world '.repeat(50))
  const snappy: { compress (b: Uint8Array): Uint8Array } = require('snappyjs')
  const packed = Buffer.from(snappy.compress(text))
  t.ok(Buffer.from(uncompressBlock(CompressionType.Snappy, packed, 's.ldb', 0)).equals(text), 'round trip')
  const cases: Array<[string, Buffer]> = [
    ['claimed length past what the input can produce', Buffer.from('ffffffff0f00', 'hex')],
    ['claimed length larger than produced', Buffer.concat([Buffer.from([packed[0] + 1]), packed.subarray(1)])],
    ['truncated stream', packed.subarray(0, packed.length - 3)],
    ['copy from before the start', Buffer.from('0a0110', 'hex')],
    ['literal past the input', Buffer.from('0a2461', 'hex')],
    ['empty input', Buffer.alloc(0)]
  ]
  for (const [what, bytes] of cases) t.throws(() => uncompressBlock(CompressionType.Snappy, bytes, 's.ldb', 3), isCorruption('s.ldb'), what)
  t.end()
})

test('damaged tables are LEVEL_CORRUPTION naming the file', (t) => {
  const entries: Entry[] = []
  for (let i = 0; i < 500; i++) entries.push([ikey(`key-${String(i).padStart(5, '0')}`, i + 1), Buffer.from(`value-${i}`.repeat(3))])
  for (const compression of ['none', 'snappy'] as const) {
    const good = buildTable(entries, { compression }, '000123.ldb')
    const bytes = good.bytes()

    const flipped = new MemFile('000123.ldb', bytes)
    flipped.buf[10] ^= 0x40 // inside the first data block
    const table = Table.open(flipped, flipped.len, flipped.path)
    const it = table.iterator()
    t.throws(() => it.seekToFirst(), isCorruption('000123.ldb'), `${compression}: flipped data byte, scan`)
    t.throws(() => table.get(entries[0][0], 0, entries[0][0].length, new TableEntry()), isCorruption('000123.ldb'), `${compression}: flipped data byte, get`)
    const lenient = Table.open(flipped, flipped.len, flipped.path, { verifyChecksums: false })
    t.doesNotThrow(() => lenient.approximateOffsetOf(entries[0][0], 0, entries[0][0].length), 'verification can be turned off')

    const footer = readFooter(good, good.len, good.path)
    const indexFlip = new MemFile('000123.ldb', bytes)
    indexFlip.buf[footer.indexHandle.offset + 2] ^= 1
    t.throws(() => Table.open(indexFlip, indexFlip.len, indexFlip.path), isCorruption('000123.ldb'), `${compression}: flipped index byte`)
    const metaFlip = new MemFile('000123.ldb', bytes)
    metaFlip.buf[footer.metaindexHandle.offset + 3] ^= 1
    t.throws(() => Table.open(metaFlip, metaFlip.len, metaFlip.path), isCorruption('000123.ldb'), `${compression}: flipped metaindex byte`)

    const truncated = new MemFile('000123.ldb', bytes.subarray(0, bytes.length - 100))
    t.throws(() => Table.open(truncated, truncated.len, truncated.path), isCorruption('000123.ldb'), `${compression}: truncated file`)
    t.throws(() => Table.open(truncated, good.len, truncated.path), isCorruption('000123.ldb'), `${compression}: shorter than the recorded size`)
    const cut = new MemFile('000123.ldb', bytes.subarray(0, bytes.length - 48 - 10))
    const footerBytes = bytes.subarray(bytes.length - 48)
    cut.append(footerBytes, 0, 48) // footer intact, blocks before it cut short
    t.throws(() => Table.open(cut, cut.len, cut.path), isCorruption('000123.ldb'), `${compression}: handles past the end`)
  }
  const tiny = new MemFile('000124.ldb', Buffer.alloc(20))
  t.throws(() => Table.open(tiny, tiny.len, tiny.path), isCorruption('000124.ldb'), 'shorter than a footer')
  const noMagic = new MemFile('000125.ldb', Buffer.alloc(100))
  t.throws(() => Table.open(noMagic, noMagic.len, noMagic.path), (e: any) => isCorruption('000125.ldb')(e) && /magic/.test(e.message), 'bad magic')
  const badType = new MemFile('000126.ldb')
  const data = Buffer.from('0000000001000000', 'hex')
  const trailer = Buffer.alloc(5)
  putBlockTrailer(trailer, 0, data, 7)
  badType.append(data, 0, 8); badType.append(trailer, 0, 5)
  t.throws(() => readBlock(badType, new BlockHandle(0, 8), badType.path), (e: any) => isCorruption('000126.ldb')(e) && /bad block type/.test(e.message), 'unknown block type')
  t.throws(() => readBlock(badType, new BlockHandle(0, 2 ** 40), badType.path), isCorruption('000126.ldb'), 'absurd block size, nothing allocated')
  t.end()
})

test('randomly damaged tables fail only with LEVEL_CORRUPTION, with or without checksum verification', (t) => {
  const rnd = rng(31337)
  const entries: Entry[] = []
  for (let i = 0; i < 300; i++) entries.push([ikey(`key-${String(i * 3).padStart(5, '0')}`, i + 1, i % 5 === 0 ? ValueType.Deletion : ValueType.Value), Buffer.from(`value-${i}-`.repeat(1 + (i % 9)))])
  const probes = entries.filter((_, i) => i % 7 === 0).map((e) => e[0])
  const others: string[] = []
  let corruptions = 0
  for (const compression of ['none', 'snappy'] as const) {
    const good = buildTable(entries, { compression, blockSize: 512 }).bytes()
    for (let round = 0; round < 400; round++) {
      const file = new MemFile('fuzz.ldb', good)
      const flips = 1 + rnd(3)
      for (let f = 0; f < flips; f++) file.buf[rnd(file.len)] ^= 1 << rnd(8)
      const verifyChecksums = round % 2 === 0
      try {
        const table = Table.open(file, file.len, file.path, { verifyChecksums })
        const it = table.iterator()
        let n = 0
        for (it.seekToFirst(); it.valid() && n < 10000; it.next()) n++
        for (it.seekToLast(); it.valid() && n < 20000; it.prev()) n++
        const out = new TableEntry()
        for (const k of probes) { table.get(k, 0, k.length, out); it.seek(k, 0, k.length) }
      } catch (err: any) {
        if (err?.code === 'LEVEL_CORRUPTION') corruptions++
        else others.push(`${compression} round ${round}: ${String(err?.stack ?? err)}`)
      }
    }
  }
  t.same(others.slice(0, 3), [], `no error other than LEVEL_CORRUPTION (${corruptions} corruptions in 800 damaged tables)`)
  t.end()
})

test('approximateOffsetOf grows with the key and ends near the file size', (t) => {
  const entries: Entry[] = []
  for (let i = 0; i < 1000; i++) entries.push([ikey(`k${String(i).padStart(5, '0')}`, 1), Buffer.alloc(200, i & 0xff)])
  const file = buildTable(entries)
  const table = Table.open(file, file.len, file.path)
  let last = -1
  let monotone = true
  for (let i = 0; i < 1000; i += 10) {
    const off = table.approximateOffsetOf(entries[i][0], 0, entries[i][0].length)
    if (off < last) monotone = false
    last = off
  }
  t.ok(monotone, 'offsets never decrease')
  t.is(table.approximateOffsetOf(entries[0][0], 0, entries[0][0].length), 0, 'first key at 0')
  const mid = table.approximateOffsetOf(entries[500][0], 0, entries[500][0].length)
  t.ok(mid > file.len * 0.4 && mid < file.len * 0.6, `middle key near the middle (${mid} of ${file.len})`)
  const end = ikey('z', 1)
  const past = table.approximateOffsetOf(end, 0, end.length)
  t.ok(past > file.len * 0.9 && past < file.len, `past the last key: near the end (${past} of ${file.len})`)
  t.end()
})

test('a table opened from its builder\'s parts reads nothing and answers as one opened from its file', (t) => {
  const rnd = rng(77)
  const entries: Entry[] = []
  for (let i = 0; i < 6000; i++) {
    const value = Buffer.alloc(20 + rnd(300))
    for (let j = 0; j < value.length; j++) value[j] = rnd(4) === 0 ? rnd(256) : 0x61 + rnd(3)
    entries.push([ikey(`key-${String(rnd(1e6)).padStart(7, '0')}`, 1 + rnd(1000), rnd(10) === 0 ? ValueType.Deletion : ValueType.Value), value])
  }
  entries.sort(cmpEntries)
  const model = entries.filter((e, i) => i === 0 || cmpEntries(e, entries[i - 1]) !== 0)
  const probes: Buffer[] = []
  for (let i = 0; i < 2000; i++) {
    const [k] = model[rnd(model.length)]
    probes.push(k, ikey(userKey(k), MAX_SEQUENCE), ikey(`key-${String(rnd(1e6)).padStart(7, '0')}x`, MAX_SEQUENCE))
  }
  probes.push(ikey('zzz', 1)) // past the last key: approximateOffsetOf answers with the metaindex's offset
  for (const compression of ['none', 'snappy'] as const) {
    for (const bloomBitsPerKey of [10, 0]) {
      const label = `${compression}, bloom bits ${bloomBitsPerKey}`
      const file = new MemFile('000009.ldb')
      const builder = new TableBuilder({ ...OPTIONS, compression, bloomBitsPerKey }, file)
      for (const [k, v] of model) builder.add(k, 0, k.length, v, 0, v.length)
      t.is(builder.parts, undefined, `${label}: no parts before finish()`)
      builder.finish()
      const parts = builder.parts!
      const own = (b: Uint8Array | undefined): boolean => b === undefined || (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength)
      t.ok(own(parts.index) && own(parts.filter), `${label}: index and filter in memory of their own (they can be moved between threads)`)
      t.is(parts.filter === undefined, bloomBitsPerKey === 0, `${label}: a filter exactly when the table has one`)
      const fromFile = Table.open(file, file.len, file.path)
      let reads = 0
      const counted: RandomAccessFile = { path: file.path, size: () => file.size(), close: () => {}, read: (b, o, l, p) => { reads++; return file.read(b, o, l, p) } }
      const fromParts = Table.open(counted, file.len, file.path, {}, parts)
      t.is(reads, 0, `${label}: the open read nothing`)
      t.same(checkTable(fromParts, model, probes).slice(0, 5), [], `${label}: scans, seeks and gets match the model`)
      t.is(fromParts.hasFilter, fromFile.hasFilter, `${label}: the filter is there exactly when the file's is`)
      t.is(fromParts.stats.filterRejects, (checkTable(fromFile, model, probes), fromFile.stats.filterRejects), `${label}: the filter rejects what the file's rejects (${fromParts.stats.filterRejects})`)
      const offsets = (table: Table): number[] => probes.map((k) => table.approximateOffsetOf(k, 0, k.length))
      t.same(offsets(fromParts), offsets(fromFile), `${label}: approximateOffsetOf agrees, past the last key too`)
    }
  }
  t.end()
})

test('a block cache seam: a second scan reads no block from the file', (t) => {
  const entries: Entry[] = []
  for (let i = 0; i < 1000; i++) entries.push([ikey(`k${String(i).padStart(5, '0')}`, 1), Buffer.alloc(100, 1)])
  const file = buildTable(entries)
  const cache: BlockCache = newBlockCache(8 * 1024 * 1024)
  const table = Table.open(file, file.len, file.path, { blockCache: cache, cacheId: 1 })
  const scan = (): number => { let n = 0; const it = table.iterator(); for (it.seekToFirst(); it.valid(); it.next()) n++; return n }
  t.is(scan(), 1000)
  const reads = table.stats.dataBlockReads
  t.ok(reads > 10, `${reads} blocks read the first time`)
  t.is(scan(), 1000)
  t.is(table.stats.dataBlockReads, reads, 'no more reads')
  t.is(table.stats.blockCacheHits, reads, 'every block from the cache')
  const small = Table.open(file, file.len, file.path, { blockCache: newBlockCache(8 * 1024), cacheId: 2 })
  const it = small.iterator()
  for (let pass = 0; pass < 2; pass++) for (it.seekToFirst(); it.valid(); it.next());
  t.is(small.stats.dataBlockReads, 2 * reads, 'a cache smaller than the table: a second scan reads again (LRU)')
  t.end()
})

test('a data block read makes the event loop budget\'s next tick() look at the clock; a block from the cache does not', (t) => {
  // tick() reads the clock every few calls, for gets of a few us; a read that went to the file (tens of us,
  // a disk's latency when the page cache misses) must not let several more pass unchecked.
  const entries: Entry[] = []
  for (let i = 0; i < 1000; i++) entries.push([ikey(`k${String(i).padStart(5, '0')}`, 1), Buffer.alloc(100, 1)])
  const file = buildTable(entries)
  const table = Table.open(file, file.len, file.path, { blockCache: newBlockCache(8 * 1024 * 1024), cacheId: 1 })
  const out = new TableEntry()
  const get = (i: number): void => {
    const k = ikey(`k${String(i).padStart(5, '0')}`, MAX_SEQUENCE)
    if (!table.get(k, 0, k.length, out)) t.fail(`k${i} not found`)
  }
  const sliceMs = eventLoopBudget.sliceMs
  eventLoopBudget.sliceMs = 0 // every look at the clock finds the slice spent
  try {
    // After a tick that looked (true), the next ones do not until the count comes round again.
    const afterLook = (): boolean => {
      while (!eventLoopBudget.tick());
      return eventLoopBudget.tick()
    }
    get(0)
    t.is(afterLook(), false, 'without a read, the tick after a look does not look again')
    get(500) // a block not read yet
    t.is(eventLoopBudget.tick(), true, 'after a block read, the next tick looks at the clock')
    afterLook()
    const reads = table.stats.dataBlockReads
    get(501) // the same block, from the cache
    t.is(table.stats.dataBlockReads, reads, 'k501 is in the block just read: a cache hit')
    t.is(eventLoopBudget.tick(), false, 'after a cache hit it does not')
  } finally {
    eventLoopBudget.sliceMs = sliceMs
  }
  t.end()
})

test('the filter spares data block reads for absent keys in our own tables', (t) => {
  const entries: Entry[] = []
  for (let i = 0; i < 20000; i++) entries.push([ikey(`present-${String(i * 2).padStart(6, '0')}`, 1), Buffer.from(`v${i}`)])
  const file = buildTable(entries, { compression: 'snappy' })
  const table = Table.open(file, file.len, file.path)
  const out = new TableEntry()
  for (let i = 0; i < 20000; i++) {
    const k = ikey(`present-${String(i * 2 + 1).padStart(6, '0')}`, MAX_SEQUENCE)
    if (table.get(k, 0, k.length, out) && userKey(out.keyBuf, out.keyLen).equals(userKey(k))) t.fail('absent key found')
  }
  const { dataBlockReads, filterRejects } = table.stats
  t.ok(dataBlockReads <= 20000 * 0.02, `${dataBlockReads} data block reads for 20000 absent keys (${filterRejects} rejected by the filter)`)
  t.end()
})

test('interop: tables written by classic-level (LevelDB 1.20, snappy) read back through Table', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-table-'))
  try {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 64 * 1024, compression: true })
    await db.open()
    const rnd = rng(77)
    const randomKey = (): Buffer => {
      const k = Buffer.alloc(1 + rnd(20))
      for (let j = 0; j < k.length; j++) k[j] = rnd(3) === 0 ? rnd(256) : 0x61 + rnd(6)
      if (k[0] === 0) k[0] = 1
      return k
    }
    const written: Buffer[] = []
    for (let round = 0; round < 30; round++) {
      const ops: Array<{ type: 'put', key: Buffer, value: Buffer } | { type: 'del', key: Buffer }> = []
      for (let i = 0; i < 150; i++) {
        if (written.length > 0 && rnd(10) === 0) {
          ops.push({ type: 'del', key: written[rnd(written.length)] })
        } else {
          const key = rnd(5) === 0 && written.length > 0 ? written[rnd(written.length)] : randomKey()
          written.push(key)
          const value = rnd(20) === 0 ? Buffer.alloc(0) : Buffer.from(`value ${round}/${i} `.repeat(1 + rnd(30)))
          ops.push({ type: 'put', key, value })
        }
      }
      await db.batch(ops)
    }
    // Reopening flushes the log into a level-0 table: the directory then holds several tables whose key
    // ranges overlap (memtable flushes and background compactions), with older versions and deletions.
    await db.close()
    const reopened = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', compression: true })
    await reopened.open()
    const expected = new Map<string, Buffer>()
    for await (const [k, v] of reopened.iterator()) expected.set(k.toString('hex'), v)
    await reopened.close()

    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))
    t.ok(files.length > 1, `${files.length} .ldb files`)
    const newest = new Map<string, { seq: number, type: number, value: Buffer }>()
    const posix = new PosixFileSystem()
    const tables: Table[] = []
    let snappyBlocks = 0
    let filterProblems = 0
    for (const name of files) {
      const p = path.join(dir, name)
      const file = posix.openRandomAccess(p)
      const table = Table.open(file, fs.statSync(p).size, name)
      t.ok(table.hasFilter, `${name}: bloom filter found`)
      tables.push(table)
      const out = new TableEntry()
      const it = table.iterator()
      for (it.seekToFirst(); it.valid(); it.next()) {
        const end = it.keyOff + it.keyLen
        const user = Buffer.from(it.keyBuf.subarray(it.keyOff, end - 8)).toString('hex')
        const seq = tagSequence(it.keyBuf, end)
        const prev = newest.get(user)
        if (prev === undefined || prev.seq < seq) newest.set(user, { seq, type: tagType(it.keyBuf, end), value: valueOf(it) })
        // The filter LevelDB wrote must never rule out a key the table holds.
        const probe = ikey(Buffer.from(user, 'hex'), MAX_SEQUENCE)
        if (!table.get(probe, 0, probe.length, out) || !userKey(out.keyBuf, out.keyLen).equals(Buffer.from(user, 'hex'))) filterProblems++
      }
      snappyBlocks += blockTypes(new MemFile(name, fs.readFileSync(p))).filter((type) => type === 1).length
    }
    t.is(filterProblems, 0, 'every key in every table is found by get (LevelDB\'s filters, our reader)')
    t.ok(snappyBlocks > 0, `${snappyBlocks} snappy-compressed data blocks read`)

    const actual = new Map<string, Buffer>()
    for (const [k, e] of newest) if (e.type === ValueType.Value) actual.set(k, e.value)
    t.is(actual.size, expected.size, `${expected.size} live keys`)
    let mismatches = 0
    for (const [k, v] of expected) if (!(actual.get(k)?.equals(v) ?? false)) mismatches++
    t.is(mismatches, 0, 'newest version of every key equals what classic-level iterates')

    // Absent keys: LevelDB's filters keep data block reads to about the false-positive rate.
    let lookups = 0
    const before = tables.reduce((n, tb) => n + tb.stats.dataBlockReads, 0)
    const out = new TableEntry()
    const absentRnd = rng(4242)
    for (let i = 0; i < 5000; i++) {
      const k = Buffer.alloc(6 + absentRnd(10))
      for (let j = 0; j < k.length; j++) k[j] = 0x61 + absentRnd(6)
      if (newest.has(k.toString('hex'))) continue
      const probe = ikey(k, MAX_SEQUENCE)
      for (const table of tables) {
        lookups++
        if (table.get(probe, 0, probe.length, out) && userKey(out.keyBuf, out.keyLen).equals(k)) t.fail('absent key found')
      }
    }
    const reads = tables.reduce((n, tb) => n + tb.stats.dataBlockReads, 0) - before
    t.ok(reads <= lookups * 0.02 + 2, `${reads} data block reads for ${lookups} absent-key lookups`)
    for (const table of tables) table.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('interop: our TableBuilder rewrites classic-level\'s uncompressed tables byte for byte', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-table-'))
  try {
    const options = { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 64 * 1024, compression: false } as const
    const db = new ClassicLevel<Buffer, Buffer>(dir, options)
    await db.open()
    const rnd = rng(991)
    for (let round = 0; round < 20; round++) {
      const ops: Array<{ type: 'put', key: Buffer, value: Buffer } | { type: 'del', key: Buffer }> = []
      for (let i = 0; i < 150; i++) {
        const key = Buffer.alloc(1 + rnd(16))
        for (let j = 0; j < key.length; j++) key[j] = rnd(2) === 0 ? rnd(256) : 0x61 + rnd(3)
        if (rnd(8) === 0) ops.push({ type: 'del', key })
        else ops.push({ type: 'put', key, value: Buffer.alloc(rnd(200), 0x30 + (i % 10)) })
      }
      await db.batch(ops)
    }
    await db.close()
    const again = new ClassicLevel<Buffer, Buffer>(dir, options) // reopening flushes the log into a table too
    await again.open()
    await again.close()

    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))
    t.ok(files.length > 1, `${files.length} tables written by LevelDB 1.20`)
    for (const name of files) {
      const theirs = fs.readFileSync(path.join(dir, name))
      const table = Table.open(new MemFile(name, theirs), theirs.length, name)
      const ours = new MemFile(name)
      const builder = new TableBuilder({ blockSize: 4096, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 10 }, ours)
      const it = table.iterator()
      for (it.seekToFirst(); it.valid(); it.next()) builder.add(it.keyBuf, it.keyOff, it.keyLen, it.valueBuf, it.valueOff, it.valueLen)
      builder.finish()
      t.ok(ours.bytes().equals(theirs), `${name}: ${builder.numEntries()} entries, ${theirs.length} bytes, identical`)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/** The data blocks of an intact table and the keys each holds, read with the format's own readers (not walk()). */
function dataBlocks (file: MemFile): Array<{ offset: number, size: number, keys: string[] }> {
  const footer = readFooter(file, file.len, file.path)
  const index = new BlockIterator(compareInternalKeys, new Block(readBlock(file, footer.indexHandle, file.path)), 8)
  const blocks: Array<{ offset: number, size: number, keys: string[] }> = []
  for (index.seekToFirst(); index.valid(); index.next()) {
    const handle = new BlockHandle()
    handle.decodeFrom(index.valueBuf, index.valueOff, index.valueOff + index.valueLen, file.path, 0)
    const data = new BlockIterator(compareInternalKeys, new Block(readBlock(file, handle, file.path)), 8)
    const keys: string[] = []
    for (data.seekToFirst(); data.valid(); data.next()) keys.push(Buffer.from(data.keyBuf.subarray(0, data.keyLen)).toString('hex'))
    blocks.push({ offset: handle.offset, size: handle.size, keys })
  }
  return blocks
}

/** Walks table to the end; what it was told. */
function walkAll (table: Table): { entries: Entry[], damaged: Array<[number | undefined, number | undefined, any]>, steps: number } {
  const entries: Entry[] = []
  const damaged: Array<[number | undefined, number | undefined, any]> = []
  let steps = 0
  for (const _ of table.walk({
    entry: (k, ko, kl, v, vo, vl) => { entries.push([Buffer.from(k.subarray(ko, ko + kl)), Buffer.from(v.subarray(vo, vo + vl))]) },
    damagedBlock: (handle, error) => { damaged.push([handle?.offset, handle?.size, error]) }
  })) steps++
  return { entries, damaged, steps }
}

test('walk() gives every entry block by block, and a damaged data block costs only its own entries', (t) => {
  const entries: Entry[] = []
  for (let i = 0; i < 600; i++) entries.push([ikey(`key-${String(i).padStart(5, '0')}`, i + 1), Buffer.from(`value-${i}-`.repeat(4))])
  for (const compression of ['none', 'snappy'] as const) {
    const good = buildTable(entries, { compression, blockSize: 1024 }, '000130.ldb')
    const blocks = dataBlocks(good)
    t.ok(blocks.length >= 10, `${compression}: ${blocks.length} data blocks`)
    const intact = walkAll(Table.open(good, good.len, good.path))
    t.same(intact.entries, entries, `${compression}: every entry, in order`)
    t.same([intact.damaged, intact.steps], [[], blocks.length], `${compression}: nothing damaged; one step per block`)

    for (const victim of [0, 4, blocks.length - 1]) {
      const bad = new MemFile('000130.ldb', good.bytes())
      bad.buf[blocks[victim].offset + (blocks[victim].size >> 1)] ^= 0x10
      const r = walkAll(Table.open(bad, bad.len, bad.path))
      const lost = new Set(blocks[victim].keys)
      t.same(r.entries, entries.filter(([k]) => !lost.has(k.toString('hex'))), `${compression}, block ${victim} damaged: every entry of the other blocks`)
      t.same(r.damaged.map(([o, s]) => [o, s]), [[blocks[victim].offset, blocks[victim].size]], `${compression}, block ${victim}: reported with its handle`)
      t.ok(isCorruption('000130.ldb')(r.damaged[0][2]), `${compression}, block ${victim}: as LEVEL_CORRUPTION naming the file`)
      t.is(r.steps, blocks.length, `${compression}, block ${victim}: the walk went on to the end`)
    }
  }
  t.end()
})

test('walk(): an I/O error and an error thrown by the walker end the walk; neither is reported as damage', (t) => {
  const entries: Entry[] = []
  for (let i = 0; i < 300; i++) entries.push([ikey(`k${String(i).padStart(5, '0')}`, i + 1), Buffer.alloc(50, 97 + (i % 26))])
  const good = buildTable(entries, { blockSize: 1024 }, '000131.ldb')
  const blocks = dataBlocks(good)
  const failing = new MemFile('000131.ldb', good.bytes())
  failing.read = (b, off, len, position) => {
    if (position === blocks[2].offset) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
    return MemFile.prototype.read.call(failing, b, off, len, position)
  }
  const table = Table.open(failing, failing.len, failing.path)
  let reported = 0
  const walk = (): void => { for (const _ of table.walk({ entry: () => {}, damagedBlock: () => { reported++ } })); }
  t.throws(walk, (e: any) => e.code === 'LEVEL_IO_ERROR', 'an I/O error ends the walk as LEVEL_IO_ERROR')
  t.is(reported, 0, 'and is not reported as a damaged block')
  let seen = 0
  const stop = new Error('stop')
  t.throws(() => { for (const _ of Table.open(good, good.len, good.path).walk({ entry: () => { if (++seen === 5) throw stop }, damagedBlock: () => { reported++ } })); }, (e: any) => e === stop, 'what the walker throws ends the walk')
  t.same([seen, reported], [5, 0], 'at that entry, nothing reported')
  t.end()
})
