// Filter interop (design.md, "Filter interop test"): point reads of absent keys go through the tables'
// bloom filters (LevelDB's leveldb.BuiltinBloomFilter2), whoever wrote the tables, and read (almost) no data
// block. Counted with getProperty('rough-level.data-block-reads') around the gets; present keys are the
// control (they do read blocks, so the counter counts).
//
// An exact check as well: this file reads every live table itself (footer, metaindex, index, filter block:
// its own parser, snappyjs for compressed blocks) and asks rough-level's bloom code whether each table's
// filter may hold each absent key. With the block cache off, the blocks a get reads must be exactly the
// tables (whose key range holds the key) whose filter says "may match": a table whose filter rejects the
// key reads no data block.
import test from 'tape'
import type { Test } from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'
import { BloomFilterPolicy } from '../../engine/table/bloom'
import { prng, randomBytes, sum, filesPerLevel } from '../fixtures/tables-model'

const snappy: { uncompress (input: Uint8Array): Uint8Array } = require('snappyjs')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-filter-'))
let dirs = 0
const tempDir = (): string => path.join(root, String(dirs++))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

const KiB = 1024
const MiB = 1024 * 1024
const KEYS = 8000
const VALUE_SIZE = 400
const ABSENT_LOOKUPS = 4000
const PRESENT_LOOKUPS = 500
/** At 10 bits per key LevelDB's bloom filter gives about 1% false positives. */
const MAX_FALSE_POSITIVE_RATE = 0.02

type Db = RoughLevel<Buffer, Buffer>
const BUF = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const
const WRITE_OPTIONS = { ...BUF, writeBufferSize: 64 * KiB, maxFileSize: MiB } as const

/** Present keys are the even numbers, absent ones the odd numbers in between (so inside the tables' ranges). */
const presentKey = (i: number): Buffer => Buffer.from(`k${String(2 * i).padStart(8, '0')}`)
const absentKey = (i: number): Buffer => Buffer.from(`k${String(2 * i + 1).padStart(8, '0')}`)

function shuffled (n: number, seed: number): number[] {
  const rnd = prng(seed)
  const a = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    const x = a[i]
    a[i] = a[j]
    a[j] = x
  }
  return a
}

/** Absent keys: odd numbers inside the range, prefixes of present keys, and a few keys outside every table. */
function absentKeys (seed: number): Buffer[] {
  const rnd = prng(seed)
  const out: Buffer[] = []
  for (let i = 0; i < ABSENT_LOOKUPS; i++) {
    const r = rnd()
    if (r < 0.9) out.push(absentKey(Math.floor(rnd() * KEYS)))
    else if (r < 0.97) out.push(presentKey(Math.floor(rnd() * KEYS)).subarray(0, 5 + Math.floor(rnd() * 4))) // a prefix
    else out.push(Buffer.from(rnd() < 0.5 ? `a${i}` : `z${i}`)) // outside every table
  }
  return out
}

/** Writes KEYS entries in the given order through any database (runs of 100 in flight). */
async function writeKeys (db: { put (k: Buffer, v: Buffer): Promise<void> }, order: number[], seed: number): Promise<void> {
  const rnd = prng(seed)
  for (let i = 0; i < order.length; i += 100) {
    await Promise.all(order.slice(i, i + 100).map((n) => db.put(presentKey(n), randomBytes(rnd, VALUE_SIZE))))
  }
}

// ---------------------------------------------------------------------------------------------------------
// An independent reader of LevelDB table files: just enough to find, for a user key, the data block the
// index names and the filter that covers that block.

function varint (buf: Buffer, pos: number): [number, number] {
  let value = 0
  let mul = 1
  for (;;) {
    const b = buf[pos++]
    value += (b & 0x7f) * mul
    if (b < 128) return [value, pos]
    mul *= 128
  }
}

function blockAt (file: Buffer, offset: number, size: number): Buffer {
  const data = file.subarray(offset, offset + size)
  const type = file[offset + size]
  if (type === 0) return data
  if (type === 1) return Buffer.from(snappy.uncompress(data))
  throw new Error(`compression type ${type} at offset ${offset}`)
}

function blockEntries (block: Buffer): Array<[Buffer, Buffer]> {
  const restarts = block.readUInt32LE(block.length - 4)
  const end = block.length - 4 - 4 * restarts
  const out: Array<[Buffer, Buffer]> = []
  let last = Buffer.alloc(0)
  let pos = 0
  while (pos < end) {
    let shared, nonShared, valueLen
    ;[shared, pos] = varint(block, pos)
    ;[nonShared, pos] = varint(block, pos)
    ;[valueLen, pos] = varint(block, pos)
    const key = Buffer.concat([last.subarray(0, shared), block.subarray(pos, pos + nonShared)])
    pos += nonShared
    out.push([key, block.subarray(pos, pos + valueLen)])
    pos += valueLen
    last = key
  }
  return out
}

interface ParsedTable {
  number: number
  smallest: Buffer
  largest: Buffer
  /** Index entries: the separator's user key and sequence number, and the data block's offset. */
  index: Array<{ user: Buffer, sequence: bigint, offset: number }>
  filter: Buffer | undefined
}

const user = (ikey: Buffer): Buffer => ikey.subarray(0, ikey.length - 8)

function parseTable (file: Buffer, number: number): ParsedTable {
  const footer = file.subarray(file.length - 48)
  let pos = 0
  let metaOffset, metaSize, indexOffset, indexSize
  ;[metaOffset, pos] = varint(footer, pos)
  ;[metaSize, pos] = varint(footer, pos)
  ;[indexOffset, pos] = varint(footer, pos)
  ;[indexSize, pos] = varint(footer, pos)
  if (footer.readUInt32LE(40) !== 0x8b80fb57 || footer.readUInt32LE(44) !== 0xdb477524) throw new Error(`table ${number}: bad magic`)
  const rawIndex = blockEntries(blockAt(file, indexOffset, indexSize))
  const index = rawIndex.map(([k, v]) => ({ user: user(k), sequence: k.readBigUInt64LE(k.length - 8) >> 8n, offset: varint(v, 0)[0] }))
  let filter: Buffer | undefined
  for (const [k, v] of blockEntries(blockAt(file, metaOffset, metaSize))) {
    if (k.toString('latin1') === 'filter.leveldb.BuiltinBloomFilter2') {
      const [off, p] = varint(v, 0)
      filter = blockAt(file, off, varint(v, p)[0])
    }
  }
  const blockEntriesAt = (i: number): Array<[Buffer, Buffer]> => {
    const [off, p] = varint(rawIndex[i][1], 0)
    return blockEntries(blockAt(file, off, varint(rawIndex[i][1], p)[0]))
  }
  const first = blockEntriesAt(0)
  const last = blockEntriesAt(index.length - 1)
  return { number, smallest: user(first[0][0]), largest: user(last[last.length - 1][0]), index, filter }
}

const policy = new BloomFilterPolicy(10)
const MAX_SEQUENCE = (1n << 56n) - 1n

/** 'reject' when the table's filter rules key out, 'may' when it may match, 'none' when the table does not cover key. */
function probe (table: ParsedTable, key: Buffer): 'none' | 'may' | 'reject' {
  if (Buffer.compare(key, table.smallest) < 0 || Buffer.compare(key, table.largest) > 0) return 'none'
  // The first index entry at or after the lookup key (key, sequence s): a separator of the same user key
  // sorts before it only when its sequence is above s, which for a shortened separator (kMaxSequenceNumber,
  // as FindShortestSeparator writes it) is always.
  const entry = table.index.find((e) => {
    const c = Buffer.compare(e.user, key)
    return c > 0 || (c === 0 && e.sequence < MAX_SEQUENCE)
  })
  if (entry === undefined) return 'none'
  const f = table.filter
  if (f === undefined) return 'may'
  const baseLg = f[f.length - 1]
  const arrayStart = f.readUInt32LE(f.length - 5)
  const num = (f.length - 5 - arrayStart) / 4
  const i = Math.floor(entry.offset / 2 ** baseLg)
  if (i >= num) return 'may'
  const start = f.readUInt32LE(arrayStart + 4 * i)
  const limit = f.readUInt32LE(arrayStart + 4 * i + 4)
  if (start === limit) return 'reject' // an empty filter matches nothing
  return policy.keyMayMatch(key, 0, key.length, f, start, limit - start) ? 'may' : 'reject'
}

/** The live tables, as the open database's leveldb.sstables lists them. */
function liveTables (db: Db, dir: string, cache = new Map<number, ParsedTable>()): ParsedTable[] {
  const numbers = [...db.getProperty('leveldb.sstables').matchAll(/^ (\d+):(\d+)\[/gm)].map((m) => Number(m[1]))
  return numbers.map((n) => {
    const cached = cache.get(n)
    if (cached !== undefined) return cached
    const name = [`${String(n).padStart(6, '0')}.ldb`, `${String(n).padStart(6, '0')}.sst`].find((f) => fs.existsSync(path.join(dir, f)))
    if (name === undefined) throw new Error(`table ${n} is not on disk`)
    const parsed = parseTable(fs.readFileSync(path.join(dir, name)), n)
    cache.set(n, parsed)
    return parsed
  })
}

/** Data blocks of table that hold keys in [lo, hi]: from the first whose separator is >= lo to the first >= hi. */
function blocksInRange (table: ParsedTable, lo: Buffer, hi: Buffer): number {
  if (Buffer.compare(hi, table.smallest) < 0 || Buffer.compare(lo, table.largest) > 0) return 0
  let n = 0
  for (const e of table.index) {
    if (Buffer.compare(e.user, lo) < 0) continue
    n++
    if (Buffer.compare(e.user, hi) >= 0) break
  }
  return n
}

// ---------------------------------------------------------------------------------------------------------

const counter = (db: Db, name: string): number => Number(db.getProperty(`rough-level.${name}`))

interface Check {
  /** Assert reads <= 2% of lookups (tables do not overlap: each lookup probes at most one table). */
  perLookup: boolean
}

/**
 * Opens dir in RoughLevel twice: with the default block cache (absent keys read <= 2% as many blocks as
 * probes, and as lookups when asked; present keys read blocks), then with no block cache for the exact
 * per-key accounting against this file's own reading of the filters.
 */
async function checkFilters (t: Test, dir: string, label: string, check: Check): Promise<void> {
  const absent = absentKeys(label.length)
  let db: Db = new RoughLevel(dir, BUF)
  await db.open()
  // Answers once what the open replayed is in a table (written after the open resolves): every read below
  // then goes through tables and their filters.
  await db.approximateSize(Buffer.alloc(0), Buffer.alloc(16, 0xff))
  const levels = filesPerLevel(db)
  t.ok(sum(levels) >= 3, `${label}: ${sum(levels)} tables (per level ${levels.join(',')})`)
  const tables = liveTables(db, dir)
  t.ok(tables.length === sum(levels) && tables.every((tb) => tb.filter !== undefined), `${label}: every table has a ${policy.name} filter block`)
  t.ok(tables.every((tb) => tb.index.length >= 8), `${label}: every table holds many data blocks (fewest ${Math.min(...tables.map((tb) => tb.index.length))})`)

  // Absent keys, default options.
  let reads = counter(db, 'data-block-reads')
  let hits = counter(db, 'block-cache-hits')
  let rejects = counter(db, 'filter-rejects')
  let found = 0
  for (const k of absent) if (await db.get(k) !== undefined) found++
  t.equal(found, 0, `${label}: none of ${absent.length} absent keys is found`)
  const absentReads = counter(db, 'data-block-reads') - reads
  const absentHits = counter(db, 'block-cache-hits') - hits
  const absentRejects = counter(db, 'filter-rejects') - rejects
  const probes = absentReads + absentHits + absentRejects
  t.ok(absentRejects >= absent.length * 0.8, `${label}: the filters rejected ${absentRejects} table lookups for ${absent.length} absent keys`)
  t.ok(absentReads + absentHits <= MAX_FALSE_POSITIVE_RATE * probes,
    `${label}: absent keys read ${absentReads} data blocks (+${absentHits} from the cache) in ${probes} table lookups (<= ${MAX_FALSE_POSITIVE_RATE * 100}%)`)
  if (check.perLookup) {
    t.ok(absentReads + absentHits <= MAX_FALSE_POSITIVE_RATE * absent.length,
      `${label}: ${absentReads} data block reads (+${absentHits} cached) for ${absent.length} absent-key gets (<= ${MAX_FALSE_POSITIVE_RATE * 100}%)`)
  }

  // The control: present keys read data blocks, and the counter counts them.
  const rnd = prng(5)
  reads = counter(db, 'data-block-reads')
  hits = counter(db, 'block-cache-hits')
  rejects = counter(db, 'filter-rejects')
  let wrong = 0
  for (let i = 0; i < PRESENT_LOOKUPS; i++) {
    const v = await db.get(presentKey(Math.floor(rnd() * KEYS)))
    if (v === undefined || v.length !== VALUE_SIZE) wrong++
  }
  t.equal(wrong, 0, `${label}: ${PRESENT_LOOKUPS} present keys are found`)
  const presentReads = counter(db, 'data-block-reads') - reads
  const presentHits = counter(db, 'block-cache-hits') - hits
  t.ok(presentReads > 0 && presentReads + presentHits >= PRESENT_LOOKUPS,
    `${label}: present keys read ${presentReads} data blocks and found ${presentHits} in the cache for ${PRESENT_LOOKUPS} gets`)
  await db.close()

  // Exact accounting with no block cache: per absent key, the blocks read are the covering tables whose
  // filter (read here, asked through rough-level's bloom code) may match; every rejection reads nothing.
  db = new RoughLevel(dir, { ...BUF, cacheSize: 0 })
  await db.open()
  // RoughLevel may be compacting what it opened (on its worker): a compaction changes the tables only when
  // the main thread installs it, so this reads the live tables and does every get synchronously (getSync),
  // with no chance for an install in between.
  const live = liveTables(db, dir)
  let mismatches = 0
  let first = ''
  let expectedReads = 0
  let expectedRejects = 0
  let rejectedEverywhere = 0
  let rejectedButRead = 0
  reads = counter(db, 'data-block-reads')
  rejects = counter(db, 'filter-rejects')
  for (const k of absent) {
    const answers = live.map((tb) => probe(tb, k))
    const may = answers.filter((a) => a === 'may').length
    const reject = answers.filter((a) => a === 'reject').length
    if (may === 0) rejectedEverywhere++
    const r0 = counter(db, 'data-block-reads')
    const j0 = counter(db, 'filter-rejects')
    db.getSync(k)
    const r = counter(db, 'data-block-reads') - r0
    const j = counter(db, 'filter-rejects') - j0
    if (may === 0 && r > 0) rejectedButRead++
    expectedReads += may
    expectedRejects += reject
    if (r !== may || j !== reject) {
      if (mismatches++ === 0) first = `${k.toString('latin1')}: read ${r} blocks and had ${j} filter rejects; the filters say ${may} may match, ${reject} reject`
    }
  }
  t.equal(first, '', `${label} (${live.length} tables): each absent-key get reads exactly the blocks whose filter may match (${mismatches} of ${absent.length} differ)`)
  t.equal(counter(db, 'data-block-reads') - reads, expectedReads, `${label}: ${expectedReads} data blocks read in all (false positives of the filters)`)
  t.equal(counter(db, 'filter-rejects') - rejects, expectedRejects, `${label}: ${expectedRejects} filter rejects in all`)
  t.equal(rejectedButRead, 0, `${label}: none of the ${rejectedEverywhere} absent keys that every filter rejects reads a data block`)
  if (check.perLookup) t.ok(rejectedEverywhere >= absent.length * (1 - MAX_FALSE_POSITIVE_RATE), `${label}: ${rejectedEverywhere} of ${absent.length} absent keys are rejected by every filter`)

  // The read path: a range iteration reads data blocks only from the tables whose key range meets the range
  // (the others are never opened), and in those only the blocks that hold the range (+1 for where a seek
  // lands next to it). With many tables, reading from all of them would be far more.
  const rnd2 = prng(label.length + 1)
  const cache = new Map<number, ParsedTable>()
  let overReads = ''
  let totalReads = 0
  let totalBound = 0
  for (let q = 0; q < 12; q++) {
    const a = Math.floor(rnd2() * (KEYS - 120))
    const width = q % 2 === 0 ? 10 : 100
    const lo = presentKey(a)
    const hi = presentKey(a + width)
    const options = q % 4 < 2 ? { gte: lo, lte: hi } : { gt: lo, lt: hi, reverse: true }
    const tablesNow = liveTables(db, dir, cache) // synchronously before the iterator pins the same version
    const bound = tablesNow.reduce((n, tb) => { const b = blocksInRange(tb, lo, hi); return n + (b > 0 ? b + 1 : 0) }, 0)
    const before = counter(db, 'data-block-reads')
    const entries = await db.iterator(options).all()
    const r = counter(db, 'data-block-reads') - before
    const want = 'gte' in options ? width + 1 : width - 1
    totalReads += r
    totalBound += bound
    if (overReads === '' && (entries.length !== want || r > bound || r === 0)) {
      overReads = `${JSON.stringify({ ...options, gte: undefined, gt: undefined, lo: lo.toString(), hi: hi.toString() })}: ${entries.length} entries (want ${want}), read ${r} blocks, bound ${bound} over ${tablesNow.length} tables`
    }
  }
  t.equal(overReads, '', `${label}: 12 range iterations read only blocks of tables overlapping their range (${totalReads} blocks read, bound ${totalBound})`)
  await db.close()

  // Tables outside an iteration's range are never opened: reopened, so that no table is open yet, with
  // the table files' opens recorded.
  db = new RoughLevel(dir, { ...BUF, cacheSize: 0 })
  await db.open()
  const opened: string[] = []
  const original = fs.openSync
  const recording = (p: fs.PathLike, ...rest: unknown[]): number => {
    if (/\.(ldb|sst)$/.test(String(p))) opened.push(path.basename(String(p)))
    return Reflect.apply(original, fs, [p, ...rest]) as number
  }
  Object.defineProperty(fs, 'openSync', { value: recording, writable: true, configurable: true })
  let outside = ''
  let openedInRange = 0
  try {
    for (let q = 0; q < 12; q++) {
      const a = Math.floor(rnd2() * (KEYS - 120))
      const lo = presentKey(a)
      const hi = presentKey(a + (q % 2 === 0 ? 10 : 100))
      const options = q % 4 < 2 ? { gte: lo, lte: hi } : { gt: lo, lt: hi, reverse: true }
      const overlapping = new Set(liveTables(db, dir, cache)
        .filter((tb) => Buffer.compare(hi, tb.smallest) >= 0 && Buffer.compare(lo, tb.largest) <= 0)
        .map((tb) => tb.number))
      opened.length = 0
      await db.iterator(options).all()
      const bad = opened.filter((f) => !overlapping.has(Number(f.slice(0, -4))))
      openedInRange += opened.length - bad.length
      if (outside === '' && bad.length > 0) outside = `${lo.toString()}..${hi.toString()}: opened ${bad.join(', ')}, outside the range (overlapping: ${[...overlapping].join(', ')})`
    }
  } finally {
    Object.defineProperty(fs, 'openSync', { value: original, writable: true, configurable: true })
  }
  t.equal(outside, '', `${label}: 12 range iterations open no table outside their range (${openedInRange} opened inside)`)
  await db.close()
}

test('filter: a ClassicLevel-written database with several tables, reopened in RoughLevel', async (t) => {
  const dir = tempDir()
  let c = new ClassicLevel<Buffer, Buffer>(dir, WRITE_OPTIONS)
  await c.open()
  await writeKeys(c, shuffled(KEYS, 1), 2)
  await c.close()
  // As LevelDB left it: level-0 tables over level-1 and level-2 ones, overlapping.
  await checkFilters(t, dir, 'classic, as written', { perLookup: false })

  // Compacted into one level: each absent key meets at most one table.
  c = new ClassicLevel<Buffer, Buffer>(dir, WRITE_OPTIONS)
  await c.open()
  await c.compactRange(Buffer.alloc(0), Buffer.alloc(16, 0xff))
  await c.close()
  await checkFilters(t, dir, 'classic, compacted', { perLookup: true })
})

test('filter: a RoughLevel-written database with several tables', async (t) => {
  // Keys in ascending order: flushed tables overlap nothing and go to level 2, one table per lookup.
  let dir = tempDir()
  let db: Db = new RoughLevel(dir, WRITE_OPTIONS)
  await db.open()
  await writeKeys(db, Array.from({ length: KEYS }, (_, i) => i), 3)
  await db.close()
  await checkFilters(t, dir, 'rough, ascending', { perLookup: true })

  // Keys in random order: overlapping level-0 tables, every one of them probed by each lookup.
  dir = tempDir()
  db = new RoughLevel(dir, WRITE_OPTIONS)
  await db.open()
  await writeKeys(db, shuffled(KEYS, 4), 5)
  await db.close()
  await checkFilters(t, dir, 'rough, random order', { perLookup: false })
})
