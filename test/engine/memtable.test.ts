// engine/memtable: the arena skip list against a model (a sorted array of entries ordered by user key
// bytewise ascending, then sequence descending, reference §7): iteration both ways, seek, get as of
// a snapshot, arena growth, empty and 1 MiB values.
import test from 'tape'
import { ValueType } from '../../engine/internal-key'
import { hashKey } from '../../engine/memtable/key-index'
import { LookupResult, MemTable } from '../../engine/memtable/memtable'
import { hex, internalKey, parseInternalKey } from './helpers/bytes'
import { Random } from './helpers/random'

interface Entry { key: Buffer, sequence: number, type: ValueType, value: Buffer }

/** Reference §7 order: user key ascending (bytewise), then sequence descending (then type descending). */
/** The value the last successful get() found, as a Buffer over the arena's memory. */
function foundValue (mem: MemTable): Buffer {
  return Buffer.from(mem.arena.u8.buffer, mem.valueOff, mem.valueLen)
}

function compareEntries (a: { key: Buffer, sequence: number, type: number }, b: { key: Buffer, sequence: number, type: number }): number {
  return Buffer.compare(a.key, b.key) || b.sequence - a.sequence || b.type - a.type
}

function describe (e: { key: Uint8Array, sequence: number | bigint, type: number }): string {
  return `${hex(e.key)}@${e.sequence}:${e.type}`
}

/** Random keys drawn from a small alphabet rich in 0x00 and 0xff (so prefixes and extremes collide), and longer random ones. */
function keyPool (rnd: Random, n: number): Buffer[] {
  const alphabet = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x61]
  const seen = new Set<string>()
  const pool: Buffer[] = [Buffer.alloc(0), Buffer.of(0), Buffer.of(0xff), Buffer.of(0, 0), Buffer.of(0xff, 0xff)]
  for (const k of pool) seen.add(hex(k))
  while (pool.length < n) {
    const k = rnd.chance(0.7)
      ? Buffer.from(Array.from({ length: rnd.int(5) }, () => rnd.pick(alphabet)))
      : rnd.bytes(rnd.range(1, 40))
    if (!seen.has(hex(k))) {
      seen.add(hex(k))
      pool.push(k)
    }
  }
  return pool
}

/**
 * Inserts `count` random entries (puts and deletes, several versions per key) with increasing
 * sequences that cross 2^24 and 2^32 (the tag's byte and word boundaries). Returns the model.
 */
function fill (mem: MemTable, rnd: Random, pool: Buffer[], count: number): Entry[] {
  const entries: Entry[] = []
  let sequence = 2 ** 24 - Math.floor(count / 3)
  for (let i = 0; i < count; i++) {
    if (i === Math.floor((2 * count) / 3)) sequence = 2 ** 32 - 5
    sequence += rnd.chance(0.8) ? 1 : rnd.range(2, 5)
    const key = rnd.pick(pool)
    const type = rnd.chance(0.25) ? ValueType.Deletion : ValueType.Value
    const value = type === ValueType.Deletion ? Buffer.alloc(0) : rnd.bytes(rnd.chance(0.1) ? 0 : rnd.int(rnd.chance(0.05) ? 3000 : 40))
    // Keys and values passed as views into larger buffers, to exercise the offsets.
    const keyHost = Buffer.concat([Buffer.of(0xaa, 0xbb), key, Buffer.of(0xcc)])
    const valueHost = Buffer.concat([Buffer.of(0xdd), value, Buffer.of(0xee, 0xff)])
    mem.add(sequence, type, keyHost, 2, key.length, valueHost, 1, value.length)
    entries.push({ key, sequence, type, value })
  }
  return entries.sort(compareEntries)
}

function current (it: ReturnType<MemTable['iterator']>): { ikey: Buffer, value: Buffer } {
  return {
    ikey: Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)),
    value: Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))
  }
}

function entryMatches (got: { ikey: Buffer, value: Buffer }, e: Entry): boolean {
  return got.ikey.equals(internalKey(e.key, e.sequence, e.type)) && got.value.equals(e.value)
}

/** Index of the first model entry >= (key, sequence, type) in internal-key order. */
function lowerBound (model: Entry[], target: { key: Buffer, sequence: number, type: number }): number {
  let lo = 0
  let hi = model.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareEntries(model[mid], target) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

function checkAgainstModel (t: test.Test, mem: MemTable, model: Entry[], rnd: Random, pool: Buffer[], label: string): void {
  t.is(mem.entries, model.length, `${label}: entries`)

  // Forward.
  const it = mem.iterator()
  const forward: string[] = []
  let forwardOk = true
  for (it.seekToFirst(); it.valid(); it.next()) {
    const got = current(it)
    const e = model[forward.length]
    if (e === undefined || !entryMatches(got, e)) forwardOk = false
    const p = parseInternalKey(got.ikey)
    forward.push(describe({ key: p.userKey, sequence: p.sequence, type: p.type }))
  }
  t.is(forward.length, model.length, `${label}: forward iteration visits every entry`)
  t.ok(forwardOk, `${label}: forward order is (user key asc, sequence desc), keys and values intact`)
  if (forward.length === model.length && !forwardOk) {
    const i = model.findIndex((e, j) => forward[j] !== describe(e))
    t.comment(`first difference at ${i}: got ${forward[i]}, model ${describe(model[i])}`)
  }

  // Reverse.
  let reverseCount = 0
  let reverseOk = true
  for (it.seekToLast(); it.valid(); it.prev()) {
    const e = model[model.length - 1 - reverseCount]
    if (e === undefined || !entryMatches(current(it), e)) reverseOk = false
    reverseCount++
  }
  t.is(reverseCount, model.length, `${label}: reverse iteration visits every entry`)
  t.ok(reverseOk, `${label}: reverse iteration is exactly the forward order reversed`)

  // Seek to random internal keys: present ones, other sequences of present keys, absent keys.
  const seekWrong: string[] = []
  for (let i = 0; i < 1500; i++) {
    let target: { key: Buffer, sequence: number, type: number }
    const r = rnd.int(4)
    if (r === 0) {
      const e = rnd.pick(model)
      target = { key: e.key, sequence: e.sequence, type: e.type }
    } else if (r === 1) {
      const e = rnd.pick(model)
      target = { key: e.key, sequence: e.sequence + rnd.range(-3, 3), type: rnd.int(2) }
    } else if (r === 2) {
      target = { key: rnd.pick(pool), sequence: rnd.pick([0, 1, 2 ** 24, 2 ** 32, 2 ** 40]), type: rnd.int(2) }
    } else {
      target = { key: rnd.bytes(rnd.int(6)), sequence: rnd.int(2 ** 33), type: 1 }
    }
    if (target.sequence < 0) target.sequence = 0
    const ikey = internalKey(target.key, target.sequence, target.type)
    const host = Buffer.concat([Buffer.of(1, 2, 3), ikey, Buffer.of(4)])
    it.seek(host, 3, ikey.length)
    const expect = lowerBound(model, target)
    const ok = expect === model.length ? !it.valid() : it.valid() && entryMatches(current(it), model[expect])
    if (!ok) seekWrong.push(`seek ${describe(target)}: expected ${expect === model.length ? 'end' : describe(model[expect])}`)
    // From the landing point, a step each way agrees with the model too.
    if (ok && expect < model.length) {
      it.prev()
      const okPrev = expect === 0 ? !it.valid() : it.valid() && entryMatches(current(it), model[expect - 1])
      if (!okPrev) seekWrong.push(`prev after seek ${describe(target)}`)
    }
  }
  t.same(seekWrong.slice(0, 5), [], `${label}: 1500 seeks land on the model's lower bound (${seekWrong.length} wrong)`)

  // get(key, snapshot): the newest version with sequence <= snapshot.
  const getWrong: string[] = []
  const minSeq = model.reduce((m, e) => Math.min(m, e.sequence), Infinity)
  const maxSeq = model.reduce((m, e) => Math.max(m, e.sequence), 0)
  // The model's entries of each user key, newest first: scanning all of them for every get took minutes
  // with the browser build's Buffer (the npm package's equals() copies its operands).
  const byKey = new Map<string, Entry[]>()
  for (const e of model) {
    const versions = byKey.get(hex(e.key))
    if (versions === undefined) byKey.set(hex(e.key), [e])
    else versions.push(e)
  }
  for (let i = 0; i < 3000; i++) {
    const key = rnd.chance(0.9) ? rnd.pick(pool) : rnd.bytes(rnd.int(8))
    const r = rnd.int(5)
    const snapshot = r === 0 ? rnd.pick(model).sequence : r === 1 ? minSeq - 1 : r === 2 ? Number.MAX_SAFE_INTEGER : rnd.range(minSeq, maxSeq)
    const candidates = (byKey.get(hex(key)) ?? []).filter((e) => e.sequence <= snapshot)
    const newest = candidates[0] // model is sorted newest first within a key
    const host = Buffer.concat([Buffer.of(9), key])
    const result = mem.get(host, 1, key.length, snapshot)
    let ok: boolean
    if (newest === undefined) ok = result === LookupResult.NotFound
    else if (newest.type === ValueType.Deletion) ok = result === LookupResult.Deleted
    else ok = result === LookupResult.Found && foundValue(mem).equals(newest.value)
    if (!ok) getWrong.push(`get ${hex(key)} @${snapshot}: ${result}, model ${newest === undefined ? 'not found' : describe(newest)}`)
  }
  t.same(getWrong.slice(0, 5), [], `${label}: 3000 gets as of random snapshots match the model (${getWrong.length} wrong)`)
}

test('random inserts iterate, seek and get exactly as the model (default arena)', (t) => {
  const rnd = new Random(2024)
  const pool = keyPool(rnd, 400)
  const mem = new MemTable()
  const model = fill(mem, rnd, pool, 5000)
  checkAgainstModel(t, mem, model, rnd, pool, 'default arena')
  t.end()
})

test('arena growth from a tiny initial size keeps every node, key and value intact', (t) => {
  const rnd = new Random(77)
  const pool = keyPool(rnd, 300)
  const mem = new MemTable(64)
  const startBuffer = mem.arena.buffer
  const model = fill(mem, rnd, pool, 4000)
  t.ok(mem.arena.buffer !== startBuffer && mem.arena.buffer.byteLength > 64 * 1024, `the arena grew (to ${mem.arena.buffer.byteLength} bytes)`)
  t.ok(mem.approximateMemoryUsage > 0 && mem.approximateMemoryUsage <= mem.arena.buffer.byteLength, 'usage within the arena')
  checkAgainstModel(t, mem, model, rnd, pool, 'tiny arena')
  t.end()
})

test('an iterator made before later inserts and arena growth sees the new entries', (t) => {
  const mem = new MemTable(64)
  const it = mem.iterator()
  it.seekToFirst()
  t.notOk(it.valid(), 'empty memtable: invalid after seekToFirst')
  it.seekToLast()
  t.notOk(it.valid(), 'empty memtable: invalid after seekToLast')
  const v = Buffer.alloc(100, 1)
  mem.add(1, ValueType.Value, Buffer.from('m'), 0, 1, v, 0, v.length)
  it.seekToFirst()
  const before = mem.arena.buffer
  for (let i = 2; i < 500; i++) {
    const k = Buffer.from(`n${String(i).padStart(4, '0')}`)
    mem.add(i, ValueType.Value, k, 0, k.length, v, 0, v.length)
  }
  t.ok(mem.arena.buffer !== before, 'the arena grew while the iterator was positioned')
  t.ok(it.valid() && current(it).ikey.equals(internalKey('m', 1, 1)) && current(it).value.equals(v), 'iterator re-reads the grown arena: still at its entry, value intact')
  let n = 0
  for (; it.valid(); it.next()) n++
  t.is(n, 499, 'and walks on through every entry inserted after it')
  t.end()
})

test('values of 0 bytes and of 1 MiB are stored and returned intact; a 0-byte value is Found, not Deleted', (t) => {
  const rnd = new Random(5)
  const mem = new MemTable(1024)
  const big = rnd.bytes(1024 * 1024)
  mem.add(10, ValueType.Value, Buffer.from('big'), 0, 3, big, 0, big.length)
  mem.add(11, ValueType.Value, Buffer.from('empty'), 0, 5, Buffer.alloc(0), 0, 0)
  mem.add(12, ValueType.Deletion, Buffer.from('gone'), 0, 4, Buffer.alloc(0), 0, 0)
  mem.add(13, ValueType.Value, Buffer.from('big'), 0, 3, Buffer.from('small'), 0, 5)

  const key = (s: string): Buffer => Buffer.from(s)
  t.is(mem.get(key('big'), 0, 3, 12), LookupResult.Found, 'big as of 12: found')
  t.ok(foundValue(mem).equals(big), '1 MiB value intact')
  t.is(mem.get(key('big'), 0, 3, 13), LookupResult.Found, 'big as of 13: found')
  t.is(foundValue(mem).toString(), 'small', 'the newer value')
  t.is(mem.get(key('big'), 0, 3, 9), LookupResult.NotFound, 'big as of 9: not yet written')
  t.is(mem.get(key('empty'), 0, 5, 11), LookupResult.Found, 'empty value: Found')
  t.is(mem.valueLen, 0, 'empty value: length 0')
  t.is(mem.get(key('gone'), 0, 4, 100), LookupResult.Deleted, 'deletion: Deleted')
  t.is(mem.get(key('gon'), 0, 3, 100), LookupResult.NotFound, 'a prefix of a key: NotFound')
  t.is(mem.get(key('gonee'), 0, 5, 100), LookupResult.NotFound, 'an extension of a key: NotFound')

  const it = mem.iterator()
  const seen: string[] = []
  for (it.seekToFirst(); it.valid(); it.next()) {
    const c = current(it)
    const p = parseInternalKey(c.ikey)
    seen.push(`${p.userKey.toString()}@${p.sequence}:${p.type}:${c.value.length}`)
  }
  t.same(seen, ['big@13:1:5', `big@10:1:${1024 * 1024}`, 'empty@11:1:0', 'gone@12:0:0'], 'iteration order and value lengths')
  t.end()
})

test('at one user key and sequence a value sorts before a deletion; sequences above 2^32 order by their high word', (t) => {
  const mem = new MemTable()
  const k = Buffer.from('k')
  const empty = Buffer.alloc(0)
  const entries: Array<[number, ValueType]> = [
    [5, ValueType.Deletion], [5, ValueType.Value], [2 ** 32 + 1, ValueType.Value], [2 ** 32 - 1, ValueType.Value],
    [2 ** 40, ValueType.Deletion], [256, ValueType.Value], [255, ValueType.Value], [Number.MAX_SAFE_INTEGER, ValueType.Value]
  ]
  for (const [s, type] of entries) mem.add(s, type, k, 0, 1, empty, 0, 0)
  const it = mem.iterator()
  const order: string[] = []
  for (it.seekToFirst(); it.valid(); it.next()) {
    const p = parseInternalKey(current(it).ikey)
    order.push(`${p.sequence}:${p.type}`)
  }
  const expected = [...entries].sort((a, b) => b[0] - a[0] || b[1] - a[1]).map(([s, type]) => `${BigInt(s)}:${type}`)
  t.same(order, expected, 'tag descending')
  t.is(mem.get(k, 0, 1, 5), LookupResult.Found, 'get at 5 sees the value (it sorts first)')
  t.is(mem.get(k, 0, 1, 2 ** 40), LookupResult.Deleted, 'get at 2^40 sees the deletion at 2^40')
  t.is(mem.get(k, 0, 1, 2 ** 40 - 1), LookupResult.Found, 'get at 2^40 - 1 sees 2^32 + 1')
  t.end()
})

test('the key index: 60,000 keys, most of them past a full index (found through the skip list), then the same in a recycled arena full of old bytes', (t) => {
  const first = new MemTable(1024)
  const value = (i: number, round: number): Buffer => Buffer.from(`v${round}:${i}`)
  // Distinct keys of 5 to 14 bytes, so that every tail length (0-3 bytes past a word) occurs.
  const keyOf = (i: number): Buffer => Buffer.from(`k-${(i * 7919) % 60000}` + '.'.repeat(i % 5))
  const distinct = new Map<string, number>()
  for (let i = 0; i < 60000; i++) distinct.set(keyOf(i).toString('latin1'), i)
  let seq = 1
  for (let i = 0; i < 60000; i++) { const k = keyOf(i); const v = value(i, 0); first.add(seq++, ValueType.Value, k, 0, k.length, v, 0, v.length) }
  let wrong = 0
  for (const [k, i] of distinct) {
    const key = Buffer.from(k, 'latin1')
    if (first.get(key, 0, key.length, seq) !== LookupResult.Found ||
      !foundValue(first).equals(value(i, 0))) wrong++
  }
  t.is(wrong, 0, `every one of ${distinct.size} keys reads its newest value`)

  // A retired memtable's arena and key index keep their bytes when a new memtable takes them: it must see
  // none of the old entries, through the index (every get) or the skip list (iterators).
  const second = new MemTable(first)
  let stale = 0
  for (const k of distinct.keys()) {
    const key = Buffer.from(k, 'latin1')
    if (second.get(key, 0, key.length, seq) !== LookupResult.NotFound) stale++
  }
  t.is(stale, 0, 'a recycled memtable finds none of the old keys')
  const it = second.iterator()
  it.seekToFirst()
  t.notOk(it.valid(), 'and iterates as empty')
  it.close()
  for (let i = 0; i < 3000; i++) {
    const k = keyOf(i)
    const v = value(i, 1)
    second.add(seq++, i % 5 === 0 ? ValueType.Deletion : ValueType.Value, k, 0, k.length, v, 0, i % 5 === 0 ? 0 : v.length)
  }
  const snapshot = seq
  for (let i = 0; i < 3000; i += 2) { const k = keyOf(i); const v = value(i, 2); second.add(seq++, ValueType.Value, k, 0, k.length, v, 0, v.length) }
  wrong = 0
  for (let i = 0; i < 3000; i++) {
    const k = keyOf(i)
    const now = second.get(k, 0, k.length, seq)
    const nowOk = i % 2 === 0
      ? now === LookupResult.Found && foundValue(second).equals(value(i, 2))
      : i % 5 === 0 ? now === LookupResult.Deleted : now === LookupResult.Found
    const then = second.get(k, 0, k.length, snapshot - 1)
    const thenOk = i % 5 === 0 ? then === LookupResult.Deleted
      : then === LookupResult.Found && foundValue(second).equals(value(i, 1))
    if (!nowOk || !thenOk) wrong++
  }
  t.is(wrong, 0, 'newest reads and reads as of an older sequence agree with what was written')
  t.end()
})

test('the key index: two keys with the same 32-bit hash stay apart', (t) => {
  // The hash mixes one word at a time with bijections, so keys differing in one word never collide: vary two
  // bytes of the first word and two of the tail ("p??:??x") and find a colliding pair (about 2^16 tries).
  const buf = new Uint32Array(2)
  const bytes = new Uint8Array(buf.buffer)
  const keyOf = (n: number): Buffer => Buffer.from([0x70, n & 0xff, (n >>> 8) & 0xff, 0x3a, (n >>> 16) & 0xff, n >>> 24, 0x78])
  const seen = new Map<number, number>()
  let pair: [Buffer, Buffer] | undefined
  for (let i = 0; i < 1 << 22 && pair === undefined; i++) {
    const n = Math.imul(i, 0x9e3779b1) >>> 0 // spread over all four varying bytes
    bytes.set(keyOf(n))
    const h = hashKey(bytes, buf, 0, 7)
    const other = seen.get(h)
    if (other !== undefined) pair = [keyOf(other), keyOf(n)]
    else seen.set(h, n)
  }
  t.ok(pair !== undefined, `a colliding pair: ${pair?.[0].toString('hex')} and ${pair?.[1].toString('hex')}`)
  if (pair === undefined) return t.end()
  const mem = new MemTable()
  mem.add(1, ValueType.Value, pair[0], 0, 7, Buffer.from('first'), 0, 5)
  mem.add(2, ValueType.Value, pair[1], 0, 7, Buffer.from('second'), 0, 6)
  const read = (k: Buffer): string | undefined =>
    mem.get(k, 0, k.length, 10) === LookupResult.Found ? foundValue(mem).toString('latin1') : undefined
  t.is(read(pair[0]), 'first', 'the first key reads its own value')
  t.is(read(pair[1]), 'second', 'the second key reads its own value')
  t.end()
})
