import test from 'tape'
import { compareBytes, compareInternalKeys, putTag, ValueType } from '../../engine/internal-key'
import { Block, BlockIterator, type KeyComparator } from '../../engine/table/block'
import { BlockBuilder } from '../../engine/table/block-builder'
import { putVarint32, putFixed32 } from '../../engine/util/coding'

type Entry = [Buffer, Buffer]

const isCorruption = (name: string) => (err: any): boolean =>
  err.code === 'LEVEL_CORRUPTION' && err.message.includes(name) && /offset \d+/.test(err.message)

function build (entries: Entry[], interval: number, builder = new BlockBuilder(interval)): Buffer {
  builder.reset()
  for (const [k, v] of entries) builder.add(k, 0, k.length, v, 0, v.length)
  return Buffer.from(builder.finish())
}

function ikey (user: string | Buffer, seq: number, type = ValueType.Value): Buffer {
  const u = typeof user === 'string' ? Buffer.from(user, 'latin1') : user
  const b = Buffer.alloc(u.length + 8)
  u.copy(b)
  putTag(b, u.length, seq, type)
  return b
}

const keyOf = (it: BlockIterator): Buffer => Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen))
const valueOf = (it: BlockIterator): Buffer => Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))

/** Every move of the iterator against the sorted model; returns the number of mismatches. */
function checkAgainstModel (block: Block, model: Entry[], cmp: KeyComparator): string[] {
  const errors: string[] = []
  const it = new BlockIterator(cmp, block)
  const at = (i: number, what: string): void => {
    if (i < 0 || i >= model.length) {
      if (it.valid()) errors.push(`${what}: expected end, at ${keyOf(it).toString('hex')}`)
      return
    }
    if (!it.valid()) { errors.push(`${what}: expected entry ${i}, not valid`); return }
    if (!keyOf(it).equals(model[i][0]) || !valueOf(it).equals(model[i][1])) errors.push(`${what}: expected entry ${i}`)
  }
  it.seekToFirst()
  for (let i = 0; i < model.length; i++) { at(i, `forward ${i}`); if (it.valid()) it.next() }
  at(model.length, 'forward end')
  it.seekToLast()
  for (let i = model.length - 1; i >= 0; i--) { at(i, `backward ${i}`); if (it.valid()) it.prev() }
  at(-1, 'backward end')
  for (let i = 0; i < model.length; i++) {
    const k = model[i][0]
    it.seek(k, 0, k.length)
    at(i, `seek ${i}`)
    if (it.valid()) { it.prev(); at(i - 1, `prev after seek ${i}`) }
    it.seek(k, 0, k.length)
    if (it.valid()) { it.next(); at(i + 1, `next after seek ${i}`) }
  }
  return errors
}

function sortedModel (n: number, cmp: KeyComparator, make: (i: number) => Entry): Entry[] {
  const model: Entry[] = []
  for (let i = 0; i < n; i++) model.push(make(i))
  model.sort((a, b) => cmp(a[0], 0, a[0].length, b[0], 0, b[0].length))
  return model.filter((e, i) => i === 0 || cmp(e[0], 0, e[0].length, model[i - 1][0], 0, model[i - 1][0].length) !== 0)
}

test('an empty block is the 8 bytes 00 00 00 00 01 00 00 00 and iterates as empty', (t) => {
  const bytes = build([], 16)
  t.is(bytes.toString('hex'), '0000000001000000')
  const it = new BlockIterator(compareBytes, new Block(bytes))
  it.seekToFirst(); t.notOk(it.valid(), 'seekToFirst')
  it.seekToLast(); t.notOk(it.valid(), 'seekToLast')
  it.seek(Buffer.from('a'), 0, 1); t.notOk(it.valid(), 'seek')
  t.end()
})

test('blocks round-trip with restart intervals 1, 2, 16 and a huge one', (t) => {
  let seed = 7
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n }
  const model = sortedModel(600, compareInternalKeys, (i) => {
    const user = Buffer.from(`key${String(rnd(400)).padStart(5, '0')}${'x'.repeat(rnd(3) * 40)}`)
    return [ikey(user, rnd(1000), rnd(2)), Buffer.alloc(rnd(5) === 0 ? 0 : rnd(300), i & 0xff)]
  })
  const builder = new BlockBuilder(1)
  for (const interval of [1, 2, 16, 2 ** 31 - 1]) {
    const bytes = build(model, interval, interval === 1 ? builder : new BlockBuilder(interval))
    const block = new Block(bytes, 'test.ldb', 0)
    const expected = interval === 2 ** 31 - 1 ? 1 : Math.ceil(model.length / interval)
    t.is(block.numRestarts, expected, `interval ${interval}: ${expected} restarts`)
    t.same(checkAgainstModel(block, model, compareInternalKeys), [], `interval ${interval}: every move matches the model`)
  }
  // The builder reuses its buffer: a second, smaller block from the same builder is correct too.
  const small = model.slice(0, 5)
  t.same(checkAgainstModel(new Block(build(small, 1, builder)), small, compareInternalKeys), [], 'reused builder')
  t.end()
})

test('block seeks between keys land on the next key, in both directions', (t) => {
  const model = sortedModel(200, compareBytes, (i) => [Buffer.from(`k${String(i * 2).padStart(4, '0')}`), Buffer.from(`v${i}`)])
  for (const interval of [1, 3, 16]) {
    const it = new BlockIterator(compareBytes, new Block(build(model, interval)))
    let bad = 0
    for (let i = 0; i <= 400; i++) {
      const target = Buffer.from(`k${String(i).padStart(4, '0')}`)
      it.seek(target, 0, target.length)
      const expect = Math.ceil(i / 2)
      if (expect >= model.length ? it.valid() : !(it.valid() && keyOf(it).equals(model[expect][0]))) bad++
      // Seeking again from the current position (the optimisation LevelDB applies) gives the same answer.
      const back = Buffer.from(`k${String(Math.max(0, i - 37)).padStart(4, '0')}`)
      it.seek(back, 0, back.length)
      if (!(it.valid() && keyOf(it).equals(model[Math.ceil(Math.max(0, i - 37) / 2)][0]))) bad++
    }
    const before = Buffer.from('a')
    it.seek(before, 0, 1)
    t.ok(it.valid() && keyOf(it).equals(model[0][0]), 'seek before the first key')
    const after = Buffer.from('z')
    it.seek(after, 0, 1)
    t.notOk(it.valid(), 'seek past the last key')
    t.is(bad, 0, `interval ${interval}: every seek lands right`)
  }
  t.end()
})

test('random walks of next/prev/seek match the model', (t) => {
  let seed = 99
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n }
  const model = sortedModel(300, compareBytes, () => {
    const k = Buffer.alloc(1 + rnd(12)); for (let j = 0; j < k.length; j++) k[j] = rnd(256)
    return [k, Buffer.alloc(rnd(20), 1)]
  })
  const it = new BlockIterator(compareBytes, new Block(build(model, 4)))
  let pos = -1
  let bad = 0
  for (let step = 0; step < 5000; step++) {
    const op = rnd(5)
    if (op === 0 || pos < 0 || pos >= model.length) {
      const i = rnd(model.length)
      it.seek(model[i][0], 0, model[i][0].length); pos = i
    } else if (op < 3) { it.next(); pos++ } else { it.prev(); pos-- }
    const ok = pos < 0 || pos >= model.length ? !it.valid() : it.valid() && keyOf(it).equals(model[pos][0]) && valueOf(it).equals(model[pos][1])
    if (!ok) bad++
  }
  t.is(bad, 0, 'no mismatch in 5000 moves')
  t.end()
})

test('a block with a restart count that does not fit is LEVEL_CORRUPTION naming the file', (t) => {
  const bytes = build([[Buffer.from('a'), Buffer.from('1')], [Buffer.from('b'), Buffer.from('2')]], 16)
  const tooMany = Buffer.from(bytes)
  putFixed32(tooMany, tooMany.length - 4, 1000)
  t.throws(() => new Block(tooMany, '000042.ldb', 77), isCorruption('000042.ldb'), 'count larger than the block')
  putFixed32(tooMany, tooMany.length - 4, 0xffffffff)
  t.throws(() => new Block(tooMany, '000042.ldb', 77), isCorruption('000042.ldb'), 'count 2^32 - 1')
  t.throws(() => new Block(Buffer.from([1, 0, 0]), '000042.ldb', 77), isCorruption('000042.ldb'), 'shorter than 4 bytes')
  const past = Buffer.from(bytes)
  putFixed32(past, past.length - 8, 500) // restart[0] past the entries
  const it = new BlockIterator(compareBytes, new Block(past, '000042.ldb', 77))
  t.throws(() => it.seekToFirst(), isCorruption('000042.ldb'), 'restart offset past the entries')
  t.end()
})

function rawBlock (entries: Array<[number, number, number, string, string]>, restarts: number[]): Buffer {
  const buf = Buffer.alloc(1024)
  let p = 0
  for (const [shared, nonShared, valueLen, delta, value] of entries) {
    p = putVarint32(buf, p, shared); p = putVarint32(buf, p, nonShared); p = putVarint32(buf, p, valueLen)
    p += buf.write(delta, p, 'latin1'); p += buf.write(value, p, 'latin1')
  }
  for (const r of restarts) p = putFixed32(buf, p, r)
  p = putFixed32(buf, p, restarts.length)
  return buf.subarray(0, p)
}

test('damaged entries are LEVEL_CORRUPTION, never a silent end', (t) => {
  const shared = rawBlock([[0, 3, 1, 'abc', 'x'], [10, 1, 1, 'd', 'y']], [0])
  const it = new BlockIterator(compareBytes, new Block(shared, 'bad.ldb', 4096))
  it.seekToFirst()
  t.ok(it.valid(), 'first entry fine')
  t.throws(() => it.next(), isCorruption('bad.ldb'), 'shared prefix longer than the previous key')
  t.notOk(it.valid(), 'not valid after the error')

  const long = rawBlock([[0, 3, 200, 'abc', 'x']], [0])
  t.throws(() => new BlockIterator(compareBytes, new Block(long, 'bad.ldb', 0)).seekToFirst(), isCorruption('bad.ldb'), 'value length past the block')
  const longKey = rawBlock([[0, 90, 1, 'abc', 'x']], [0])
  t.throws(() => new BlockIterator(compareBytes, new Block(longKey, 'bad.ldb', 0)).seekToFirst(), isCorruption('bad.ldb'), 'key length past the block')

  const restartShared = rawBlock([[0, 3, 1, 'abc', 'x'], [2, 1, 1, 'd', 'y'], [0, 3, 1, 'abe', 'z']], [0, 7, 12])
  const it2 = new BlockIterator(compareBytes, new Block(restartShared, 'bad.ldb', 0))
  const target = Buffer.from('abz')
  t.throws(() => it2.seek(target, 0, 3), isCorruption('bad.ldb'), 'restart entry with a shared prefix, met by binary search')

  const truncatedVarint = Buffer.concat([Buffer.from([0x80, 0x80]), Buffer.from('0000000001000000', 'hex')])
  t.throws(() => new BlockIterator(compareBytes, new Block(truncatedVarint, 'bad.ldb', 0)).seekToFirst(), isCorruption('bad.ldb'), 'varint running into the restart array')

  const short = rawBlock([[0, 3, 1, 'abc', 'x']], [0])
  t.throws(() => new BlockIterator(compareInternalKeys, new Block(short, 'bad.ldb', 0), 8).seekToFirst(), isCorruption('bad.ldb'), 'internal key shorter than 8 bytes')
  t.end()
})

test('a block with zero restarts iterates as empty (as LevelDB)', (t) => {
  const it = new BlockIterator(compareBytes, new Block(Buffer.from('00000000', 'hex')))
  it.seekToFirst()
  t.notOk(it.valid())
  t.end()
})

test('BlockBuilder size estimate and empty() follow LevelDB', (t) => {
  const b = new BlockBuilder(16)
  t.ok(b.empty(), 'new builder is empty')
  t.is(b.currentSizeEstimate(), 8, 'empty estimate: one restart + count')
  b.add(Buffer.from('abc'), 0, 3, Buffer.from('v'), 0, 1)
  t.notOk(b.empty())
  t.is(b.currentSizeEstimate(), 3 + 3 + 1 + 8, 'header + key + value + restart array')
  t.is(b.finish().length, 15, 'finish length matches the estimate')
  t.end()
})
