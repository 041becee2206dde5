// engine/log: the writer against LevelDB's bytes (reference §5, §14.1, §14.2, §14.3, §14.5) and an
// independent model of Writer::AddRecord (helpers/log-model.ts); the reader against the writer, against
// LevelDB's bytes, and against the torn-tail / corruption policy of design.md ("Settled for the first
// stages").
import test from 'tape'
import { LogReader } from '../../engine/log/reader'
import { LogWriter } from '../../engine/log/writer'
import { fromHex, hex } from './helpers/bytes'
import { BLOCK, HEADER, crc32cBitwise, frameLog, maskCrc, physicalHeader } from './helpers/log-model'
import { MemoryWritableFile } from './helpers/memory-file'
import { Random } from './helpers/random'

const FILE = '/db/000005.log'

/** The 21-byte batch Put("foo", "bar") at sequence 1 (reference §14.1). */
const FOO_BAR_BATCH = fromHex('01 00 00 00 00 00 00 00  01 00 00 00  01  03 66 6f 6f  03 62 61 72')

function write (records: readonly Uint8Array[], opts: { headroom?: boolean, fileLength?: number, file?: MemoryWritableFile } = {}): Buffer {
  const file = opts.file ?? new MemoryWritableFile(FILE)
  const writer = new LogWriter(file, opts.fileLength ?? 0)
  for (const r of records) {
    if (opts.headroom === true) {
      const buf = new Uint8Array(HEADER + r.length)
      buf.set(r, HEADER)
      writer.addRecord(buf, HEADER, r.length, true)
    } else {
      writer.addRecord(r, 0, r.length)
    }
  }
  return file.contents()
}

interface ReadResult { records: Buffer[], offsets: number[], reader: LogReader }

/** Reads every record; throws whatever the reader throws. */
function readAll (data: Uint8Array, name = FILE): ReadResult {
  const reader = new LogReader(data, name)
  const records: Buffer[] = []
  const offsets: number[] = []
  for (let r = reader.readRecord(); r !== undefined; r = reader.readRecord()) {
    records.push(Buffer.from(r))
    offsets.push(reader.recordOffset)
  }
  return { records, offsets, reader }
}

/** Reads records until the reader throws; returns the records read before it and the error (or undefined). */
function readUntilError (data: Uint8Array, name = FILE): { records: Buffer[], error: any } {
  const reader = new LogReader(data, name)
  const records: Buffer[] = []
  try {
    for (let r = reader.readRecord(); r !== undefined; r = reader.readRecord()) records.push(Buffer.from(r))
  } catch (err: any) {
    return { records, error: err }
  }
  return { records, error: undefined }
}

function sameRecords (actual: readonly Uint8Array[], expected: readonly Uint8Array[]): boolean {
  if (actual.length !== expected.length) return false
  for (let i = 0; i < actual.length; i++) if (Buffer.compare(actual[i], expected[i]) !== 0) return false
  return true
}

test('the independent log model reproduces the reference header bytes', (t) => {
  t.is(crc32cBitwise(Buffer.from('123456789')).toString(16), 'e3069283', 'bitwise crc32c check value')
  t.is(maskCrc(0xe3069283).toString(16), 'c78ab0e5', 'masked example of reference §4')
  t.is(hex(physicalHeader(1, FOO_BAR_BATCH)), 'afbfeb5e150001', '§14.1 FULL header')
  t.is(hex(physicalHeader(2, new Uint8Array(0))), '6451d0e9000002', '§5.2 zero-length FIRST')
  t.is(hex(physicalHeader(1, new Uint8Array(0))), '052b2843000001', '§5.2 zero-length FULL')
  t.end()
})

test('a one-put batch is written as the 28-byte WAL record of reference §14.1, by both write paths', (t) => {
  const expected = 'afbfeb5e150001' + hex(FOO_BAR_BATCH)
  t.is(hex(write([FOO_BAR_BATCH])), expected, 'copying path')
  t.is(hex(write([FOO_BAR_BATCH], { headroom: true })), expected, 'in-place headroom path')
  t.end()
})

test('a record leaving exactly 7 bytes in a block is followed by a zero-length FIRST, then 32761-byte MIDDLE fragments (reference §14.5)', (t) => {
  const rnd = new Random(1405)
  // Sizes from §14.5: the file is 102831 bytes = (7 + 32754) + 7 (empty FIRST) + 2 * (7 + 32761) + (7 + 4520),
  // so the second payload is 2 * 32761 + 4520 = 70042 bytes.
  const first = rnd.bytes(32754)
  const second = rnd.bytes(70042)
  for (const headroom of [false, true]) {
    const out = write([first, second], { headroom })
    const label = headroom ? 'headroom' : 'copying'
    t.is(out.length, 102831, `${label}: file length is the reference's 102831 bytes`)
    t.is(hex(out.subarray(32761, 32768)), '6451d0e9000002', `${label}: zero-length FIRST at 32761`)
    t.is(hex(out.subarray(32768 + 4, 32768 + 7)), 'f97f03', `${label}: MIDDLE of length 32761 at 32768`)
    t.is(hex(out.subarray(32768, 32772)), hex(physicalHeader(3, second.subarray(0, 32761)).subarray(0, 4)), `${label}: MIDDLE crc covers type 3 and its payload`)
    t.is(hex(out.subarray(65536 + 4, 65536 + 7)), 'f97f03', `${label}: second MIDDLE at 65536`)
    t.is(hex(out.subarray(98304 + 4, 98304 + 7)), 'a81104', `${label}: LAST of 4520 bytes at 98304`)
    t.ok(out.equals(frameLog([first, second]).bytes), `${label}: every byte equals the model`)
    const read = readAll(out)
    t.ok(sameRecords(read.records, [first, second]), `${label}: both records read back`)
    t.same(read.offsets, [0, 32761], `${label}: the second record starts at its zero-length FIRST`)
  }
  t.end()
})

test('an empty record with exactly 7 bytes left in a block is a zero-length FULL there (reference §5.2)', (t) => {
  const first = new Random(52).bytes(32754)
  const after = Buffer.from('next')
  for (const headroom of [false, true]) {
    const out = write([first, new Uint8Array(0), after], { headroom })
    t.is(hex(out.subarray(32761, 32768)), '052b2843000001', `${headroom ? 'headroom' : 'copying'}: zero-length FULL`)
    t.ok(out.equals(frameLog([first, new Uint8Array(0), after]).bytes), 'equals the model')
    const read = readAll(out)
    t.ok(sameRecords(read.records, [first, new Uint8Array(0), after]), 'the empty record reads back as empty')
  }
  t.end()
})

test('the in-place headroom path writes the same bytes as the copying path, and is used only when the record fits the block', (t) => {
  const rnd = new Random(7)
  const sizes: number[] = []
  for (let i = 0; i < 400; i++) {
    const r = rnd.int(10)
    sizes.push(r < 6 ? rnd.int(300) : r < 9 ? rnd.int(5000) : rnd.int(70000))
  }
  // Records of a whole block's payload (32761) and just under it, with small and empty ones between.
  sizes.push(32761, 0, 32760, 1, 32755, 0, 32754, 5, 32761 - 7, 0)
  const records = sizes.map((n) => rnd.bytes(n))
  const model = frameLog(records)

  const copying = write(records)
  t.ok(copying.equals(model.bytes), 'copying path equals the model')

  const file = new MemoryWritableFile(FILE)
  const writer = new LogWriter(file)
  const callers: Uint8Array[] = []
  let guardsIntact = true
  for (const r of records) {
    // 7 bytes of headroom, plus sentinels around it that the writer must not touch.
    const buf = new Uint8Array(3 + HEADER + r.length + 3).fill(0xa5)
    buf.set(r, 3 + HEADER)
    writer.addRecord(buf, 3 + HEADER, r.length, true)
    callers.push(buf)
    for (const i of [0, 1, 2, buf.length - 3, buf.length - 2, buf.length - 1]) if (buf[i] !== 0xa5) guardsIntact = false
    if (Buffer.compare(buf.subarray(3 + HEADER, 3 + HEADER + r.length), r) !== 0) guardsIntact = false
  }
  t.ok(file.contents().equals(model.bytes), 'headroom path equals the model')
  t.ok(guardsIntact, 'the writer touches only the 7 bytes before the record')

  // In place only for a single FULL fragment with no trailer padding before it (otherwise the header
  // would land in the wrong place); and that should be the common case for small records.
  let unsafe = 0
  let fitting = 0
  let inPlace = 0
  let end = 0
  for (let i = 0; i < records.length; i++) {
    const m = model.records[i]
    const fits = m.fragments.length === 1 && m.offset === end
    const wasInPlace = file.appendSources[i] === callers[i]
    if (wasInPlace && !fits) unsafe++
    if (fits) fitting++
    if (fits && wasInPlace) inPlace++
    const last = m.fragments[m.fragments.length - 1]
    end = last.offset + HEADER + last.length
  }
  t.is(unsafe, 0, 'never in place for a record that needs fragments or padding')
  t.ok(inPlace >= fitting * 0.95, `records that fit their block are written in place (${inPlace} of ${fitting})`)
  t.is(file.appendSources.length, records.length, 'one append per record')

  // Headroom requested but not available (off < 7) falls back to copying, with the same bytes.
  const fallback = new MemoryWritableFile(FILE)
  const w2 = new LogWriter(fallback)
  for (const r of records) {
    const buf = new Uint8Array(3 + r.length)
    buf.set(r, 3)
    w2.addRecord(buf, 3, r.length, true)
  }
  t.ok(fallback.contents().equals(model.bytes), 'headroom flag with off < 7 still writes the model bytes')
  t.end()
})

test('records of random and block-boundary sizes read back identically, at the offsets the model predicts', (t) => {
  const rnd = new Random(99)
  const sizes = [0, 1, 6, 7, 8, 32754, 32755, 32760, 32761, 32762, 32767, 32768, 32769, 65522, 65536, 100000, 0, 0, 3]
  for (let i = 0; i < 300; i++) {
    const r = rnd.int(20)
    sizes.push(r < 14 ? rnd.int(200) : r < 19 ? rnd.int(40000) : rnd.range(65536, 120000))
  }
  const records = sizes.map((n) => rnd.bytes(n))
  const model = frameLog(records)
  const out = write(records, { headroom: false })
  t.ok(out.equals(model.bytes), `writer output equals the model (${out.length} bytes)`)
  const read = readAll(out)
  t.is(read.records.length, records.length, 'as many records as written')
  t.ok(sameRecords(read.records, records), 'every record identical')
  t.same(read.offsets, model.records.map((r) => r.offset), 'recordOffset is each record\'s first header')
  t.is(read.reader.tornAt, -1, 'a clean log has no torn tail')
  t.end()
})

test('read in place, records of random and block-boundary sizes read back identically, those spanning blocks as views of the data; a read resumed after a torn tail, on the same data grown, reads the rest', (t) => {
  const rnd = new Random(41)
  const sizes = [0, 7, 32754, 32755, 32761, 32768, 65536, 100000, 0, 3]
  for (let i = 0; i < 200; i++) sizes.push(rnd.int(4) === 0 ? rnd.range(30000, 120000) : rnd.int(300))
  const records = sizes.map((n) => rnd.bytes(n))
  const model = frameLog(records)
  const out = model.bytes
  const data = Buffer.from(out)
  // Every record kept as the reader returned it, unchecked until the end: a later move must not touch it.
  const read: Uint8Array[] = []
  const reader = new LogReader(data, FILE, undefined, 0, true)
  for (let r = reader.readRecord(); r !== undefined; r = reader.readRecord()) read.push(r)
  t.ok(sameRecords(read, records), `${records.length} records identical`)
  const spanning = model.records.filter((r) => r.fragments.length > 1).length
  t.ok(spanning > 20 && read.every((r) => r.buffer === data.buffer), `each a view of the data, the ${spanning} that span blocks included`)

  // A follower's log tail: the file read as it grows, the bytes from where reading stopped read again into the same data.
  const grown = Buffer.alloc(out.length)
  const tail: Uint8Array[] = []
  let at = 0
  for (const cut of [70001, 70001, 200000, 200003, 333333, out.length]) {
    out.copy(grown, at, at, cut)
    const r = new LogReader(grown.subarray(0, cut), FILE, undefined, at, true)
    for (let rec = r.readRecord(); rec !== undefined; rec = r.readRecord()) tail.push(rec)
    at = r.resumeAt
  }
  t.ok(sameRecords(tail, records), 'read in six growing steps, cut inside records, every record identical')
  t.end()
})

test('a record placed at every position near a block end is framed as the model, and reads back with its own bytes and offset', (t) => {
  const rnd = new Random(3)
  const writerWrong: string[] = []
  const readerWrong: string[] = []
  for (let left = 0; left <= 16; left++) {
    // The first record ends `left` bytes before the block end; 1..6 bytes left are a trailer.
    const first = rnd.bytes(BLOCK - HEADER - left)
    for (const size of [0, 1, left - HEADER, left - HEADER + 1, left, 40000]) {
      if (size < 0) continue
      const records = [first, rnd.bytes(size), rnd.bytes(10)]
      const model = frameLog(records)
      const out = write(records)
      if (!out.equals(model.bytes)) writerWrong.push(`left ${left}, record of ${size}`)
      const r = readUntilError(model.bytes)
      const offsets = readAll(model.bytes).offsets
      if (r.error !== undefined || !sameRecords(r.records, records)) {
        readerWrong.push(`left ${left}, then ${size} and 10 bytes: read ${r.error?.message ?? r.records.map((x) => x.length).join(', ')}`)
      } else if (offsets.join() !== model.records.map((m) => m.offset).join()) {
        readerWrong.push(`left ${left}, then ${size} and 10 bytes: offsets ${offsets.join()} for ${model.records.map((m) => m.offset).join()}`)
      }
    }
  }
  t.same(writerWrong, [], 'writer: every placement equals the model')
  t.same(readerWrong.slice(0, 4), [], `reader: every record and recordOffset as written (${readerWrong.length} placements wrong)`)
  t.end()
})

test('a record after a block trailer reads back with its own bytes (minimal case)', (t) => {
  // 32760 + 7 bytes leave a 1-byte trailer; the next record starts at 32768.
  const records = [Buffer.alloc(32760, 1), Buffer.from('after the trailer')]
  const out = write(records)
  t.is(out[32767], 0, 'a 1-byte zero trailer at 32767')
  const read = readAll(out)
  t.same(read.records.map((r) => r.toString('latin1').slice(0, 40)), records.map((r) => r.toString('latin1').slice(0, 40)), 'records as written')
  t.same(read.offsets, [0, 32768], 'the second record starts at the block boundary')
  t.end()
})

test('block trailers of 0 to 6 bytes are zero-filled, even after the writer framed other data', (t) => {
  const rnd = new Random(11)
  const file = new MemoryWritableFile(FILE)
  const writer = new LogWriter(file)
  const records: Uint8Array[] = []
  const add = (r: Uint8Array): void => {
    records.push(r)
    writer.addRecord(r, 0, r.length)
  }
  // A large random record first, so the writer's framing space holds non-zero bytes.
  add(rnd.bytes(100000))
  const trailers: Array<{ at: number, size: number }> = []
  for (let size = 0; size <= 6; size++) {
    // Fill up to `size` bytes before the next block end, then write a record that must skip them.
    let pos = file.length % BLOCK
    if (BLOCK - pos < HEADER + size) {
      add(rnd.bytes(BLOCK - pos - HEADER)) // finish this block exactly
      pos = 0
    }
    add(rnd.bytes(BLOCK - pos - HEADER - size))
    trailers.push({ at: file.length, size })
    add(rnd.bytes(rnd.range(1, 100)))
  }
  const out = file.contents()
  for (const { at, size } of trailers) {
    t.is((at + size) % BLOCK, 0, `trailer of ${size} bytes ends a block`)
    t.ok(out.subarray(at, at + size).every((b) => b === 0), `trailer of ${size} bytes at ${at} is zero`)
  }
  t.ok(out.equals(frameLog(records).bytes), 'whole file equals the model')
  t.ok(sameRecords(readAll(out).records, records), 'reader skips every trailer')
  t.end()
})

test('a writer opened on an existing file continues its blocks as one writer would have', (t) => {
  const rnd = new Random(21)
  const records = Array.from({ length: 60 }, () => rnd.bytes(rnd.int(3) === 0 ? rnd.int(40000) : rnd.int(300)))
  const whole = write(records)
  for (const split of [1, 7, 30, 59]) {
    const file = new MemoryWritableFile(FILE)
    write(records.slice(0, split), { file })
    write(records.slice(split), { file, fileLength: file.length })
    t.ok(file.contents().equals(whole), `reopened after ${split} records: same bytes`)
  }
  t.end()
})

/** A log of small records ending near a block end, and a last record of `lastSize` bytes after them. */
function tornFixture (seed: number, lastSize: number): { records: Buffer[], out: Buffer, lastOffset: number } {
  const rnd = new Random(seed)
  const records: Buffer[] = []
  for (let i = 0; i < 40; i++) records.push(rnd.bytes(rnd.int(300)))
  // Fillers so that the last record starts 100 bytes before a block end (and crosses it if large).
  const room = BLOCK - (frameLog(records).bytes.length % BLOCK)
  if (room >= HEADER + 100) {
    records.push(rnd.bytes(room - HEADER - 100))
  } else {
    if (room >= HEADER) records.push(rnd.bytes(room - HEADER))
    records.push(rnd.bytes(BLOCK - HEADER - 100))
  }
  records.push(rnd.bytes(lastSize))
  const model = frameLog(records)
  return { records, out: model.bytes, lastOffset: model.records[model.records.length - 1].offset }
}

test('a log truncated anywhere inside its last record returns every earlier record, then ends silently', (t) => {
  for (const lastSize of [300, 70000]) {
    const { records, out, lastOffset } = tornFixture(lastSize, lastSize)
    t.ok(sameRecords(readAll(out).records, records), `${lastSize}: the intact log reads back whole`)
    const earlier = records.slice(0, -1)
    // Every offset of a small last record; for the large one, every offset near its fragment boundaries and a sample.
    const cuts: number[] = []
    for (let cut = lastOffset; cut < out.length; cut++) {
      const inBlock = cut % BLOCK
      if (lastSize < 1000 || inBlock < 20 || inBlock > BLOCK - 20 || cut % 97 === 0 || out.length - cut < 20) cuts.push(cut)
    }
    let plain = 0
    let zeroed = 0
    for (const cut of cuts) {
      const truncated = out.subarray(0, cut)
      const r1 = readUntilError(truncated)
      if (r1.error !== undefined || !sameRecords(r1.records, earlier)) {
        plain++
        if (plain < 4) t.fail(`${lastSize}: cut at ${cut}: ${r1.error?.message ?? `${r1.records.length} records`}`)
      }
      // The same cut followed by zeros (preallocated space, or pages written as zeros), into the next block.
      const padded = Buffer.concat([truncated, Buffer.alloc(BLOCK + 50 - (cut % BLOCK))])
      const r2 = readUntilError(padded)
      if (r2.error !== undefined || !sameRecords(r2.records, earlier)) {
        zeroed++
        if (zeroed < 4) t.fail(`${lastSize}: cut at ${cut} + zeros: ${r2.error?.message ?? `${r2.records.length} records`}`)
      }
    }
    t.is(plain, 0, `${lastSize}: ${cuts.length} truncations each drop only the last record`)
    t.is(zeroed, 0, `${lastSize}: the same truncations followed by zeros each drop only the last record`)
  }
  t.end()
})

test('tornAt names the offset where the dropped record began', (t) => {
  for (const lastSize of [50, 300, 70000]) {
    const { out, lastOffset } = tornFixture(lastSize + 1, lastSize)
    const wrong: string[] = []
    const step = lastSize > 1000 ? 509 : 1
    for (let cut = lastOffset + 1; cut < out.length; cut += step) {
      const reader = readAll(out.subarray(0, cut)).reader
      if (reader.tornAt !== lastOffset) wrong.push(`cut ${cut}: tornAt ${reader.tornAt}`)
    }
    t.same(wrong.slice(0, 3), [], `${lastSize}-byte last record at ${lastOffset}: tornAt for every cut inside it (${wrong.length} wrong)`)
  }
  t.end()
})

/** Random records (mostly small, an empty one at index 10) filling at least minLength bytes, and their placement. */
function multiBlockLog (seed: number, minLength: number): { records: Buffer[], out: Buffer, placed: ReturnType<typeof frameLog>['records'] } {
  const rnd = new Random(seed)
  const records: Buffer[] = []
  let length = 0
  while (length < minLength) {
    records.push(rnd.bytes(rnd.int(5) === 0 ? rnd.int(3000) : rnd.int(200)))
    length += records[records.length - 1].length + HEADER
  }
  records.splice(10, 0, Buffer.alloc(0))
  const model = frameLog(records)
  return { records, out: model.bytes, placed: model.records }
}

test('a flipped byte in a record followed by valid records in a later block is LEVEL_CORRUPTION naming the file and offset', (t) => {
  const { records, out, placed } = multiBlockLog(5, 3 * BLOCK + 5000)
  // Single-fragment records in blocks 0, 1 and 2 (each has a later block holding valid records).
  const targets: number[] = []
  for (const block of [0, 1, 2]) {
    const i = placed.findIndex((p) => p.fragments.length === 1 && Math.floor(p.offset / BLOCK) === block && p.fragments[0].length > 20)
    targets.push(i)
  }
  // And the empty record, which one type-bit flip turns into what looks like zero fill.
  targets.push(10)
  const rnd = new Random(55)
  for (const i of targets) {
    const { offset, fragments } = placed[i]
    const end = offset + HEADER + fragments[0].length
    let bad = 0
    for (let at = offset; at < end; at++) {
      const damaged = Buffer.from(out)
      damaged[at] ^= at < offset + HEADER ? 1 << rnd.int(8) : rnd.range(1, 255)
      const r = readUntilError(damaged, '/db/000009.log')
      const ok = r.error !== undefined && r.error.code === 'LEVEL_CORRUPTION' &&
        r.error.message.includes('/db/000009.log') && new RegExp(`offset ${offset}\\b`).test(r.error.message) &&
        sameRecords(r.records, records.slice(0, i))
      if (!ok) {
        bad++
        if (bad < 4) t.fail(`record ${i} at ${offset}, byte ${at}: ${r.error === undefined ? `no error, ${r.records.length} records` : `${String(r.error.code)} ${String(r.error.message)}`}`)
      }
    }
    t.is(bad, 0, `record ${i} at ${offset}: each of its ${end - offset} bytes flipped is corruption at offset ${offset}, after the ${i} records before it`)
  }
  t.end()
})

test('a damaged record followed by valid records in the same block is LEVEL_CORRUPTION, not a torn tail (design.md)', (t) => {
  // design.md: "A bad record followed by valid records is damage". A small WAL is a single block, so
  // the valid records after the damage can only be found within it.
  const records = [Buffer.alloc(30, 0x41), Buffer.alloc(30, 0x42), Buffer.alloc(30, 0x43)]
  const model = frameLog(records)
  const b = model.records[1].offset
  const damaged = Buffer.from(model.bytes)
  damaged[b + HEADER + 5] ^= 0x01 // a payload byte: B's length field is intact, C follows at its place
  const r = readUntilError(damaged)
  t.ok(sameRecords(r.records, records.slice(0, 1)), 'A is returned')
  t.is(r.error?.code, 'LEVEL_CORRUPTION', 'B is corruption, since a valid C follows it')
  t.ok(new RegExp(`offset ${b}\\b`).test(String(r.error?.message)), `the message names B's offset ${b}: ${String(r.error?.message)}`)
  t.end()
})

test('a flip of any byte of a record, its length field included, is LEVEL_CORRUPTION when a valid record follows in the same block', (t) => {
  // A torn write leaves nothing checksum-valid after the bad record (the file ends, or zeros follow);
  // here a valid C follows B whatever byte of B is damaged, so every case is damage (design.md).
  const records = [Buffer.alloc(30, 0x41), Buffer.alloc(30, 0x42), Buffer.alloc(30, 0x43), Buffer.alloc(200, 0x44)]
  const model = frameLog(records)
  const b = model.records[1].offset
  const silent: string[] = []
  for (let at = b; at < b + HEADER + 30; at++) {
    for (const flip of [0x01, 0x10, 0x80]) {
      const damaged = Buffer.from(model.bytes)
      damaged[at] ^= flip
      const r = readUntilError(damaged)
      const ok = r.error?.code === 'LEVEL_CORRUPTION' && new RegExp(`offset ${b}\\b`).test(String(r.error?.message)) &&
        sameRecords(r.records, records.slice(0, 1))
      if (!ok) silent.push(`byte ${at - b} ^ 0x${flip.toString(16)}: ${r.error === undefined ? `no error, read ${r.records.length} records` : String(r.error.message)}`)
    }
  }
  t.same(silent, [], `all ${(HEADER + 30) * 3} single-byte flips of B are corruption at offset ${b}`)
  t.end()
})

test('a damaged fragment whose record continues in a later block is LEVEL_CORRUPTION at that fragment', (t) => {
  const rnd = new Random(8)
  const records = [rnd.bytes(100), rnd.bytes(80000), rnd.bytes(100)]
  const model = frameLog(records)
  const frags = model.records[1].fragments
  t.same(frags.map((f) => f.type), [2, 3, 4], 'FIRST, MIDDLE, LAST')
  for (const frag of frags.slice(0, 2)) {
    const damaged = Buffer.from(model.bytes)
    damaged[frag.offset + HEADER + 10] ^= 0x40
    const r = readUntilError(damaged)
    t.is(r.error?.code, 'LEVEL_CORRUPTION', `type ${frag.type} damaged: corruption`)
    t.ok(String(r.error?.message).includes(`offset ${frag.offset}`) && String(r.error?.message).includes(FILE), `type ${frag.type}: message names ${FILE} and offset ${frag.offset}: ${String(r.error?.message)}`)
    t.ok(sameRecords(r.records, records.slice(0, 1)), 'the record before it was returned')
  }
  t.end()
})

test('a flipped byte in the last record, with nothing valid after it, drops that record silently', (t) => {
  const { records, out, placed } = multiBlockLog(6, BLOCK + 3000)
  const last = placed[placed.length - 1]
  t.is(last.fragments.length, 1, 'the last record is one fragment')
  const rnd = new Random(66)
  let bad = 0
  for (let at = last.offset; at < out.length; at++) {
    const damaged = Buffer.from(out)
    damaged[at] ^= rnd.range(1, 255)
    const r = readUntilError(damaged)
    if (r.error !== undefined || !sameRecords(r.records, records.slice(0, -1))) {
      bad++
      if (bad < 4) t.fail(`byte ${at}: ${r.error?.message ?? `${r.records.length} records`}`)
    }
  }
  t.is(bad, 0, `each of the last record's ${out.length - last.offset} bytes flipped drops only it`)

  // A last record spanning blocks: damage in its final fragment has nothing valid after it.
  const big = [rnd.bytes(500), rnd.bytes(50000)]
  const model = frameLog(big)
  const lastFrag = model.records[1].fragments[1]
  const damaged = Buffer.from(model.bytes)
  damaged[lastFrag.offset + HEADER + 1000] ^= 0x08
  const r = readUntilError(damaged)
  t.is(r.error, undefined, 'damage in the LAST fragment of the final record is silent')
  t.ok(sameRecords(r.records, big.slice(0, 1)), 'only the damaged record is dropped')
  t.end()
})

test('a reader decodes log files LevelDB wrote (reference §1, §14.1, §14.2, §14.3)', (t) => {
  const empty = readAll(new Uint8Array(0), '/db/000003.log')
  t.same(empty.records, [], 'the 0-byte 000003.log of a fresh database has no records')
  t.is(empty.reader.tornAt, -1, 'and no torn tail')
  const wal = Buffer.concat([fromHex('af bf eb 5e 15 00 01'), FOO_BAR_BATCH])
  t.same(readAll(wal).records.map(hex), [hex(FOO_BAR_BATCH)], '000005.log: the one batch')

  const comparator = Buffer.concat([fromHex('01 1a'), Buffer.from('leveldb.BytewiseComparator')])
  const manifest2 = Buffer.concat([
    fromHex('56 f9 b8 f8 1c 00 01'), comparator,
    fromHex('a4 9c 8b be 08 00 01'), fromHex('02 03 09 00 03 04 04 00')
  ])
  t.is(manifest2.length, 50, 'MANIFEST-000002 is 50 bytes')
  const m2 = readAll(manifest2, '/db/MANIFEST-000002')
  t.same(m2.records.map(hex), [hex(comparator), '0203090003040400'], 'MANIFEST-000002: snapshot and edit')
  t.same(m2.offsets, [0, 35], 'record offsets')

  const manifest1Payload = Buffer.concat([comparator, fromHex('02 00 03 02 04 00')])
  const manifest1 = Buffer.concat([fromHex('95 7c b9 c5 22 00 01'), manifest1Payload])
  t.same(readAll(manifest1).records.map(hex), [hex(manifest1Payload)], 'MANIFEST-000001')

  const compaction = fromHex(`
    02 0b 09 00 03 0e 04 01
    05 00 0b 66 6f 6f 01 01 00 00 00 00 00 00
    06 00 07
    07 01 0d b4 01 0b 66 6f 6f 01 01 00 00 00 00 00 00 0b 66 6f 6f 01 01 00 00 00 00 00 00`)
  t.is(compaction.length, 54, '§14.3 payload is 54 bytes')
  const withHeader = Buffer.concat([fromHex('50 74 e8 aa 36 00 01'), compaction])
  t.same(readAll(withHeader).records.map(hex), [hex(compaction)], '§14.3 record')

  // And the writer produces exactly these files.
  t.ok(write([FOO_BAR_BATCH]).equals(wal), 'writer: 000005.log')
  t.ok(write([comparator, fromHex('02 03 09 00 03 04 04 00')]).equals(manifest2), 'writer: MANIFEST-000002')
  t.ok(write([manifest1Payload]).equals(manifest1), 'writer: MANIFEST-000001')
  t.ok(write([compaction]).equals(withHeader), 'writer: §14.3 record')
  t.end()
})

test('a zero-length FIRST followed by a FULL record is tolerated, as LevelDB\'s reader does', (t) => {
  const rnd = new Random(17)
  const first = rnd.bytes(32754)
  const full = rnd.bytes(40)
  const out = Buffer.concat([
    frameLog([first]).bytes, physicalHeader(2, new Uint8Array(0)), physicalHeader(1, full), full
  ])
  const r = readUntilError(out)
  t.is(r.error, undefined, 'no error')
  t.ok(sameRecords(r.records, [first, full]), 'the FULL record after the empty FIRST is returned')
  t.end()
})

test('fragments out of order, and unknown record types, are LEVEL_CORRUPTION when valid records follow', (t) => {
  const a = Buffer.from('record a')
  const b = Buffer.from('record b')
  const frag = Buffer.from('fragment')
  const cases: Array<[string, Buffer, number]> = [
    ['LAST without FIRST', Buffer.concat([physicalHeader(4, frag), frag]), 1],
    ['MIDDLE without FIRST', Buffer.concat([physicalHeader(3, frag), frag]), 1],
    ['FIRST then FULL', Buffer.concat([physicalHeader(2, frag), frag]), 1],
    ['type 7', Buffer.concat([physicalHeader(7, frag), frag]), 1]
  ]
  for (const [name, middle] of cases) {
    const out = Buffer.concat([physicalHeader(1, a), a, middle, physicalHeader(1, b), b])
    const r = readUntilError(out)
    t.is(r.error?.code, 'LEVEL_CORRUPTION', `${name}: LEVEL_CORRUPTION`)
    t.ok(String(r.error?.message).includes(`offset ${HEADER + a.length}`), `${name}: message names the offset ${HEADER + a.length}: ${String(r.error?.message)}`)
    t.ok(sameRecords(r.records, [a]), `${name}: the record before it is returned`)
  }
  t.end()
})

/** Reads every record with a reporter; returns them with their offsets and the regions reported. */
function readLenient (data: Uint8Array, name = FILE): { records: Buffer[], offsets: number[], regions: Array<{ offset: number, end: number, error: any }>, reader: LogReader } {
  const regions: Array<{ offset: number, end: number, error: any }> = []
  const reader = new LogReader(data, name, { corruption: (offset, end, error) => { regions.push({ offset, end, error }) } })
  const records: Buffer[] = []
  const offsets: number[] = []
  for (let r = reader.readRecord(); r !== undefined; r = reader.readRecord()) {
    records.push(Buffer.from(r))
    offsets.push(reader.recordOffset)
  }
  return { records, offsets, regions, reader }
}

test('with a reporter, damage is reported and skipped: reading resumes at the next block, as LevelDB\'s reader resyncs', (t) => {
  const rnd = new Random(91)
  const records: Buffer[] = []
  for (let i = 0; i < 120; i++) records.push(rnd.bytes(i % 40 === 20 ? 70000 : rnd.int(4) === 0 ? rnd.int(3000) : rnd.int(150)))
  const model = frameLog(records)
  const out = model.bytes
  const lastBlock = Math.floor((out.length - 1) / BLOCK)
  const fragEnd = (f: { offset: number, length: number }): number => f.offset + HEADER + f.length
  const wrong: string[] = []
  let cases = 0
  for (const [i, placed] of model.records.entries()) {
    for (const frag of placed.fragments) {
      const block = Math.floor(frag.offset / BLOCK)
      if (block === lastBlock || i % 3 !== 0) continue
      cases++
      const blockEnd = (block + 1) * BLOCK
      // The model's answer: a bad physical record costs the rest of its block; so every record with a
      // fragment there is lost, and the region runs from the first lost record to the last one's end.
      const lost = model.records.map((p, j) => p.fragments.some((f) => f.offset >= frag.offset && f.offset < blockEnd) ? j : -1).filter((j) => j >= 0)
      const last = model.records[lost[lost.length - 1]].fragments
      const expectedEnd = Math.max(blockEnd, fragEnd(last[last.length - 1]))
      const damaged = Buffer.from(out)
      damaged[frag.length > 0 ? frag.offset + HEADER + (frag.length >> 1) : frag.offset] ^= 0x20
      const r = readLenient(damaged, '/db/000011.log')
      // Adjacent reports (a lost record's fragments in the next blocks) make one region.
      const union: Array<{ offset: number, end: number }> = []
      for (const g of r.regions) {
        const u = union[union.length - 1]
        if (u !== undefined && g.offset <= u.end) u.end = Math.max(u.end, g.end)
        else union.push({ offset: g.offset, end: g.end })
      }
      const label = `record ${i} fragment at ${frag.offset}`
      if (!sameRecords(r.records, records.filter((_, j) => !lost.includes(j)))) wrong.push(`${label}: ${r.records.length} records read, expected ${records.length - lost.length}`)
      else if (union.length !== 1 || union[0].offset !== model.records[lost[0]].offset || union[0].end !== expectedEnd) wrong.push(`${label}: regions ${JSON.stringify(union)}, expected [${model.records[lost[0]].offset}, ${expectedEnd})`)
      else if (r.regions[0].error?.code !== 'LEVEL_CORRUPTION' || !String(r.regions[0].error?.message).includes(`/db/000011.log at offset ${frag.offset}`)) wrong.push(`${label}: error ${String(r.regions[0].error?.message)}`)
      else if (r.reader.tornAt !== -1) wrong.push(`${label}: tornAt ${r.reader.tornAt}`)
    }
  }
  t.ok(cases > 20, `${cases} damaged fragments, in every block but the last`)
  t.same(wrong.slice(0, 5), [], `every record outside the damaged block's rest is read, and the loss is reported as one region (${wrong.length} wrong)`)

  // A torn tail is not damage: nothing is reported, and tornAt says where the dropped record began.
  const lastOffset = model.records[model.records.length - 1].offset
  const torn = readLenient(out.subarray(0, out.length - 3))
  t.same(torn.regions, [], 'a torn tail reports nothing')
  t.ok(sameRecords(torn.records, records.slice(0, -1)) && torn.reader.tornAt === lastOffset, `every record but the cut one; tornAt ${torn.reader.tornAt}`)
  t.end()
})

test('with a reporter, stray fragments and unknown types are reported and the records around them read', (t) => {
  const a = Buffer.from('record a')
  const b = Buffer.from('record b')
  const frag = Buffer.from('fragment')
  const cases: Array<[string, Buffer]> = [
    ['LAST without FIRST', Buffer.concat([physicalHeader(4, frag), frag])],
    ['MIDDLE without FIRST', Buffer.concat([physicalHeader(3, frag), frag])],
    ['FIRST then FULL', Buffer.concat([physicalHeader(2, frag), frag])],
    ['FIRST then type 7', Buffer.concat([physicalHeader(2, frag), frag, physicalHeader(7, frag), frag])]
  ]
  for (const [name, middle] of cases) {
    const out = Buffer.concat([physicalHeader(1, a), a, middle, physicalHeader(1, b), b])
    const r = readLenient(out)
    t.ok(sameRecords(r.records, [a, b]), `${name}: the records before and after are read`)
    t.same(r.regions.map((g) => [g.offset, g.end]), [[HEADER + a.length, HEADER + a.length + middle.length]], `${name}: the stray bytes are the one region reported`)
  }
  t.end()
})
