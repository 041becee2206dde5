// engine/db/write-batch: the encoding against reference §6 / §14.1 and an independent encoder written
// here with Buffer and BigInt (helpers/bytes.ts); BatchReader against the same bytes and against
// damaged input (LEVEL_CORRUPTION, never another kind of error).
import test from 'tape'
import { HEADER_SIZE } from '../../engine/log/format'
import { MemTable } from '../../engine/memtable/memtable'
import { BATCH_HEADER, BatchReader, insertBatch, WriteBatch, type Bytes } from '../../engine/db/write-batch'
import { fixed32, fixed64, fromHex, hex, internalKey, lp } from './helpers/bytes'
import { Random } from './helpers/random'

type Op = { type: 'put', key: Bytes, value: Bytes } | { type: 'del', key: Bytes }

/** The batch LevelDB would encode for `ops` starting at `sequence` (reference §6). */
function modelBatch (sequence: number | bigint, ops: readonly Op[]): Buffer {
  const parts: Buffer[] = [fixed64(sequence), fixed32(ops.length)]
  for (const op of ops) {
    if (op.type === 'put') parts.push(Buffer.of(1), lp(op.key), lp(op.value))
    else parts.push(Buffer.of(0), lp(op.key))
  }
  return Buffer.concat(parts)
}

function apply (batch: WriteBatch, ops: readonly Op[]): void {
  for (const op of ops) {
    if (op.type === 'put') batch.put(op.key, op.value)
    else batch.del(op.key)
  }
}

/** The encoded batch as it would go to the log: buf[offset, offset + byteLength). */
function encoded (batch: WriteBatch): Buffer {
  return Buffer.from(batch.buf.subarray(batch.offset, batch.offset + batch.byteLength))
}

interface DecodedOp { type: number, key: string, value: string }

/** Decodes with BatchReader; keys and values as hex. */
function decode (data: Uint8Array, what = 'test batch'): { sequence: number, count: number, ops: DecodedOp[] } {
  const reader = new BatchReader(data, 0, data.length, what)
  const ops: DecodedOp[] = []
  while (reader.next()) {
    ops.push({
      type: reader.type,
      key: hex(data.subarray(reader.keyOff, reader.keyOff + reader.keyLen)),
      value: hex(data.subarray(reader.valueOff, reader.valueOff + reader.valueLen))
    })
  }
  return { sequence: reader.sequence, count: reader.count, ops }
}

function toBytes (b: Bytes): Buffer {
  return typeof b === 'string' ? Buffer.from(new TextEncoder().encode(b)) : Buffer.from(b)
}

function expectedOps (ops: readonly Op[]): DecodedOp[] {
  return ops.map((op) => op.type === 'put'
    ? { type: 1, key: hex(toBytes(op.key)), value: hex(toBytes(op.value)) }
    : { type: 0, key: hex(toBytes(op.key)), value: '' })
}

const isCorruption = (what: string) => (err: any): boolean =>
  err?.code === 'LEVEL_CORRUPTION' && String(err.message).includes(what)

test('Put("foo", "bar") at sequence 1 encodes as the 21 bytes of reference §14.1, from strings, Uint8Array and Buffer', (t) => {
  const expected = '0100000000000000' + '01000000' + '01' + '03666f6f' + '03626172'
  const inputs: Array<[string, Bytes, Bytes]> = [
    ['strings', 'foo', 'bar'],
    ['Uint8Array', new Uint8Array([0x66, 0x6f, 0x6f]), new Uint8Array([0x62, 0x61, 0x72])],
    ['Buffer', Buffer.from('foo'), Buffer.from('bar')],
    ['Uint8Array views at an offset', new Uint8Array([9, 0x66, 0x6f, 0x6f, 9]).subarray(1, 4), Buffer.from('xbarx').subarray(1, 4)]
  ]
  for (const [name, key, value] of inputs) {
    const batch = new WriteBatch()
    batch.put(key, value)
    batch.seal(1)
    t.is(hex(encoded(batch)), expected, name)
    t.is(batch.byteLength, 21, `${name}: byteLength 21`)
    t.is(batch.count, 1, `${name}: count 1`)
  }
  t.end()
})

test('the batch leaves the log header\'s 7 bytes of headroom before it', (t) => {
  const batch = new WriteBatch()
  t.ok(batch.offset >= HEADER_SIZE, `offset ${batch.offset} >= ${HEADER_SIZE}`)
  t.is(batch.byteLength, BATCH_HEADER, 'an empty batch is its 12-byte header')
  batch.seal(5)
  t.is(hex(encoded(batch)), '0500000000000000' + '00000000', 'empty batch: sequence 5, count 0')
  t.end()
})

test('deletes, puts and 64-bit sequences encode as LevelDB\'s layout (tags, lp-strings, fixed64, fixed32)', (t) => {
  const ops: Op[] = [
    { type: 'put', key: 'a', value: '' },
    { type: 'del', key: 'a' },
    { type: 'put', key: '', value: 'empty key' },
    { type: 'del', key: '' },
    { type: 'put', key: Buffer.of(0, 0xff, 0x80), value: Buffer.alloc(200, 7) }
  ]
  for (const sequence of [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
    const batch = new WriteBatch()
    apply(batch, ops)
    batch.seal(sequence)
    t.is(hex(encoded(batch)), hex(modelBatch(sequence, ops)), `sequence ${sequence}`)
  }
  // The fixed prefix spelled out once: sequence 2^40 + 1, count 2, Delete "k", Put "k" "v".
  const batch = new WriteBatch()
  batch.del('k')
  batch.put('k', 'v')
  batch.seal(2 ** 40 + 1)
  t.is(hex(encoded(batch)), hex(fromHex('01 00 00 00 00 01 00 00  02 00 00 00  00 01 6b  01 01 6b 01 76')), 'spelled-out bytes')
  t.end()
})

test('utf8 strings of every length around the 42-character fast-path boundary encode as TextEncoder does', (t) => {
  const units = [
    ['ascii', 'a'], ['2-byte', 'é'], ['3-byte', '€'], ['4-byte pair', '😀'], ['lone surrogate', '\ud800'],
    ['mixed', 'aé€😀']
  ]
  const wrong: string[] = []
  for (const [name, unit] of units) {
    for (let n = 0; n <= 100; n++) {
      const s = unit.repeat(Math.ceil(n / unit.length)).slice(0, n)
      for (const where of ['key', 'value'] as const) {
        const op: Op = where === 'key' ? { type: 'put', key: s, value: 'v' } : { type: 'put', key: 'k', value: s }
        const batch = new WriteBatch(64)
        apply(batch, [op, { type: 'del', key: s }])
        batch.seal(3)
        if (!encoded(batch).equals(modelBatch(3, [op, { type: 'del', key: s }]))) wrong.push(`${name} ${where} of ${n} UTF-16 units`)
      }
    }
  }
  // 42 three-byte characters are 126 bytes (one-byte length); 43 are 129 (two-byte length).
  for (const n of [42, 43, 44, 60, 120]) {
    const s = '€'.repeat(n)
    const batch = new WriteBatch()
    batch.put(s, s)
    batch.seal(1)
    if (!encoded(batch).equals(modelBatch(1, [{ type: 'put', key: s, value: s }]))) wrong.push(`${n} × €`)
  }
  t.same(wrong, [], 'every string encodes as its UTF-8 bytes with a minimal varint length')
  t.end()
})

test('many puts forcing several buffer growths encode and decode every record (regression)', (t) => {
  const rnd = new Random(42)
  for (const initial of [1, 40, 256]) {
    const batch = new WriteBatch(initial)
    const ops: Op[] = []
    const startBuf = batch.buf
    let growths = 0
    let lastBuf = batch.buf
    for (let i = 0; i < 3000; i++) {
      const r = rnd.int(10)
      let op: Op
      if (r < 4) op = { type: 'put', key: `key-${i}-${'€'.repeat(rnd.int(50))}`, value: 'v'.repeat(rnd.int(300)) }
      else if (r < 7) op = { type: 'put', key: rnd.bytes(rnd.int(40)), value: rnd.bytes(rnd.int(r === 6 ? 5000 : 200)) }
      else if (r < 9) op = { type: 'del', key: rnd.bytes(rnd.int(30)) }
      else op = { type: 'del', key: `deleted ${i} ${'é'.repeat(rnd.int(70))}` }
      ops.push(op)
      apply(batch, [op])
      if (batch.buf !== lastBuf) {
        growths++
        lastBuf = batch.buf
      }
    }
    batch.seal(1000)
    t.ok(growths >= 3 && batch.buf !== startBuf, `initial capacity ${initial}: the buffer grew ${growths} times`)
    const expected = modelBatch(1000, ops)
    t.is(batch.byteLength, expected.length, `initial capacity ${initial}: byteLength`)
    t.ok(encoded(batch).equals(expected), `initial capacity ${initial}: bytes equal the model`)
    const decoded = decode(encoded(batch))
    t.is(decoded.count, ops.length, 'count')
    t.is(decoded.sequence, 1000, 'sequence')
    t.same(decoded.ops, expectedOps(ops), `initial capacity ${initial}: every record decodes as written`)
  }
  t.end()
})

test('rollback returns the batch to its mark, including across a growth', (t) => {
  const batch = new WriteBatch(40)
  const kept: Op[] = [{ type: 'put', key: 'a', value: '1' }, { type: 'del', key: 'b' }]
  apply(batch, kept)
  batch.mark()
  apply(batch, [{ type: 'put', key: 'c', value: 'x'.repeat(5000) }, { type: 'del', key: 'd' }])
  batch.rollback()
  t.is(batch.count, 2, 'count back to 2')
  batch.seal(9)
  t.ok(encoded(batch).equals(modelBatch(9, kept)), 'bytes back to the marked state')
  const more: Op[] = [{ type: 'put', key: 'e', value: '5' }]
  apply(batch, more)
  batch.seal(9)
  t.ok(encoded(batch).equals(modelBatch(9, [...kept, ...more])), 'writes after a rollback continue from the mark')
  t.same(decode(encoded(batch)).ops, expectedOps([...kept, ...more]), 'and decode')

  const fresh = new WriteBatch()
  fresh.mark()
  fresh.put('x', 'y')
  fresh.rollback()
  fresh.seal(1)
  t.ok(encoded(fresh).equals(modelBatch(1, [])), 'rollback to a mark taken when empty gives the empty batch')
  t.end()
})

test('append concatenates records and adds counts (the group-commit merge)', (t) => {
  const a: Op[] = [{ type: 'put', key: 'a', value: 'alpha' }, { type: 'del', key: 'x' }]
  const b: Op[] = [{ type: 'put', key: 'b', value: 'beta'.repeat(500) }, { type: 'del', key: 'y' }, { type: 'put', key: '', value: '' }]
  const first = new WriteBatch(40)
  apply(first, a)
  const second = new WriteBatch()
  apply(second, b)
  first.append(second)
  first.seal(77)
  t.is(first.count, 5, 'counts add')
  t.ok(encoded(first).equals(modelBatch(77, [...a, ...b])), 'records concatenated (with growth)')
  t.same(decode(encoded(first)).ops, expectedOps([...a, ...b]), 'decodes as both batches in order')
  second.seal(1)
  t.ok(encoded(second).equals(modelBatch(1, b)), 'the appended batch is unchanged')

  const empty = new WriteBatch()
  first.append(empty)
  first.seal(77)
  t.ok(encoded(first).equals(modelBatch(77, [...a, ...b])), 'appending an empty batch changes nothing')
  empty.append(second)
  empty.seal(3)
  t.ok(encoded(empty).equals(modelBatch(3, b)), 'appending to an empty batch copies the other')

  const cleared = new WriteBatch()
  apply(cleared, a)
  cleared.clear()
  apply(cleared, b)
  cleared.seal(4)
  t.ok(encoded(cleared).equals(modelBatch(4, b)), 'clear empties the batch for reuse')
  t.end()
})

test('BatchReader decodes the reference batch and a model batch', (t) => {
  const d = decode(fromHex('01 00 00 00 00 00 00 00  01 00 00 00  01  03 66 6f 6f  03 62 61 72'))
  t.same(d, { sequence: 1, count: 1, ops: [{ type: 1, key: hex(Buffer.from('foo')), value: hex(Buffer.from('bar')) }] }, '§14.1')
  const ops: Op[] = [{ type: 'del', key: 'gone' }, { type: 'put', key: Buffer.alloc(300, 1), value: Buffer.alloc(20000, 2) }]
  const data = modelBatch(2 ** 45, ops)
  const off = 5
  const framed = Buffer.concat([Buffer.alloc(off, 0xee), data, Buffer.alloc(3, 0xee)])
  const reader = new BatchReader(framed, off, data.length, 'framed')
  t.is(reader.sequence, 2 ** 45, 'a sequence above 2^32')
  const seen: string[] = []
  while (reader.next()) seen.push(`${reader.type}:${hex(framed.subarray(reader.keyOff, reader.keyOff + reader.keyLen)).length / 2}:${reader.valueLen}`)
  t.same(seen, ['0:4:0', '1:300:20000'], 'reads within [off, off + len) of a larger buffer')
  t.end()
})

test('BatchReader rejects a wrong count, an unknown tag, a sequence beyond 2^53 and every truncation with LEVEL_CORRUPTION', (t) => {
  const ops: Op[] = [{ type: 'put', key: 'k1', value: 'value one' }, { type: 'del', key: 'k2' }, { type: 'put', key: 'k3', value: '' }]
  const good = modelBatch(7, ops)
  t.same(decode(good).ops, expectedOps(ops), 'the intact batch decodes')

  const drain = (data: Uint8Array, what: string): void => { decode(data, what) }
  for (const count of [0, 2, 4, 0xffffffff]) {
    const data = Buffer.from(good)
    data.writeUInt32LE(count, 8)
    t.throws(() => drain(data, 'count batch'), isCorruption('count batch'), `header count ${count} with 3 records`)
  }
  for (const tag of [2, 3, 0x80, 0xff]) {
    const data = Buffer.from(good)
    data[12] = tag
    t.throws(() => drain(data, 'tag batch'), isCorruption('tag batch'), `unknown tag ${tag}`)
  }
  const big = Buffer.from(good)
  big.writeBigUInt64LE(2n ** 53n, 0)
  t.throws(() => drain(big, 'seq batch'), isCorruption('seq batch'), 'a sequence of 2^53 is not rounded')

  const lengthPastEnd = Buffer.concat([fixed64(1), fixed32(1), Buffer.of(1, 0x7f), Buffer.from('short')])
  t.throws(() => drain(lengthPastEnd, 'lp batch'), isCorruption('lp batch'), 'a key length past the end')

  let notRejected = 0
  for (let n = 0; n < good.length; n++) {
    try {
      drain(good.subarray(0, n), `cut ${n}`)
      notRejected++
      t.fail(`truncated to ${n} bytes decoded without error`)
    } catch (err: any) {
      if (!isCorruption(`cut ${n}`)(err)) {
        notRejected++
        t.fail(`truncated to ${n} bytes: ${String(err?.code)} ${String(err?.message)}`)
      }
    }
  }
  t.is(notRejected, 0, `each of the ${good.length} truncations is LEVEL_CORRUPTION naming the batch`)
  t.end()
})

test('insertBatch adds every record to a memtable as the internal key LevelDB makes of it: sequence numbered on from the batch\'s, type, value', (t) => {
  const ops: Op[] = [
    { type: 'put', key: 'b', value: 'one' },
    { type: 'del', key: 'a' },
    { type: 'put', key: 'b', value: 'two' },
    { type: 'put', key: 'c', value: '' }
  ]
  const bytes = modelBatch(1000, ops)
  const mem = new MemTable()
  insertBatch(new BatchReader(bytes, 0, bytes.length, 'batch'), mem)
  // Internal-key order: user key ascending, then sequence descending.
  const expected = ops.map((op, i) => ({ op, sequence: 1000 + i }))
    .sort((x, y) => String(x.op.key) === String(y.op.key) ? y.sequence - x.sequence : String(x.op.key) < String(y.op.key) ? -1 : 1)
    .map(({ op, sequence }) => [hex(internalKey(op.key, sequence, op.type === 'put' ? 1 : 0)), op.type === 'put' ? hex(Buffer.from(op.value)) : ''])
  const actual: string[][] = []
  const it = mem.iterator()
  for (it.seekToFirst(); it.valid(); it.next()) {
    actual.push([hex(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)), hex(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))])
  }
  t.same(actual, expected, 'the four entries, sequences 1000 to 1003')

  const damaged = Buffer.concat([modelBatch(7, ops.slice(0, 2)).subarray(0, 8), fixed32(3), modelBatch(7, ops.slice(0, 2)).subarray(12)])
  const partial = new MemTable()
  t.throws(() => insertBatch(new BatchReader(damaged, 0, damaged.length, 'batch'), partial), (e: any) => e.code === 'LEVEL_CORRUPTION', 'a wrong count is LEVEL_CORRUPTION')
  t.end()
})
