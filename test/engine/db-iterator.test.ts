// engine/iterators/db-iterator: DbIterator over a MemTableIterator against a model of the database as
// of a snapshot (for each user key, its newest version with sequence <= snapshot; a deletion hides the
// key): full scans both ways, seek and seekForPrev, random walks that switch direction.
import test from 'tape'
import { ValueType } from '../../engine/internal-key'
import { DbIterator } from '../../engine/iterators/db-iterator'
import { MemTable } from '../../engine/memtable/memtable'
import { hex } from './helpers/bytes'
import { Random } from './helpers/random'

interface Write { key: Buffer, sequence: number, type: ValueType, value: Buffer }

/** The live keys as of `snapshot`, sorted bytewise, with their values. */
function modelAsOf (writes: readonly Write[], snapshot: number): Array<{ key: Buffer, value: Buffer }> {
  const newest = new Map<string, Write>()
  for (const w of writes) {
    if (w.sequence > snapshot) continue
    const prev = newest.get(hex(w.key))
    if (prev === undefined || prev.sequence < w.sequence) newest.set(hex(w.key), w)
  }
  return [...newest.values()]
    .filter((w) => w.type === ValueType.Value)
    .map((w) => ({ key: w.key, value: w.value }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
}

function build (writes: readonly Write[]): MemTable {
  const mem = new MemTable(1024)
  for (const w of writes) mem.add(w.sequence, w.type, w.key, 0, w.key.length, w.value, 0, w.value.length)
  return mem
}

/** Random writes over a small key space: many versions per key, about a third deletions. */
function randomWrites (rnd: Random, count: number, keys: Buffer[]): Write[] {
  const writes: Write[] = []
  let sequence = 0
  for (let i = 0; i < count; i++) {
    sequence += rnd.chance(0.9) ? 1 : rnd.range(2, 4)
    const key = rnd.pick(keys)
    const type = rnd.chance(0.35) ? ValueType.Deletion : ValueType.Value
    writes.push({ key, sequence, type, value: type === ValueType.Value ? rnd.bytes(rnd.int(20)) : Buffer.alloc(0) })
  }
  return writes
}

function keySpace (rnd: Random, n: number): Buffer[] {
  const seen = new Map<string, Buffer>()
  seen.set('', Buffer.alloc(0))
  while (seen.size < n) {
    const k = Buffer.from(Array.from({ length: rnd.range(1, 4) }, () => rnd.pick([0x00, 0x10, 0x61, 0x62, 0xff])))
    seen.set(hex(k), k)
  }
  return [...seen.values()]
}

function at (it: DbIterator): string {
  if (!it.valid()) return 'end'
  return `${hex(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen))}=${hex(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))}`
}

function modelAt (model: Array<{ key: Buffer, value: Buffer }>, i: number): string {
  return i < 0 || i >= model.length ? 'end' : `${hex(model[i].key)}=${hex(model[i].value)}`
}

/** First index with key >= target (model.length if none). */
function lowerBound (model: Array<{ key: Buffer }>, target: Buffer): number {
  let i = 0
  while (i < model.length && Buffer.compare(model[i].key, target) < 0) i++
  return i
}

/** Last index with key <= target (-1 if none). */
function floorIndex (model: Array<{ key: Buffer }>, target: Buffer): number {
  let i = model.length - 1
  while (i >= 0 && Buffer.compare(model[i].key, target) > 0) i--
  return i
}

function scans (it: DbIterator): { forward: string[], reverse: string[] } {
  const forward: string[] = []
  for (it.seekToFirst(); it.valid(); it.next()) forward.push(at(it))
  const reverse: string[] = []
  for (it.seekToLast(); it.valid(); it.prev()) reverse.push(at(it))
  return { forward, reverse }
}

test('deletions hide keys and snapshots hide later writes (worked example)', (t) => {
  const w = (key: string, sequence: number, value?: string): Write => ({
    key: Buffer.from(key), sequence, type: value === undefined ? ValueType.Deletion : ValueType.Value, value: Buffer.from(value ?? '')
  })
  const writes = [w('a', 1, 'a1'), w('b', 2, 'b2'), w('a', 3), w('c', 4, 'c4'), w('c', 5), w('c', 6, 'c6'), w('d', 7), w('b', 8, 'b8')]
  const mem = build(writes)
  const show = (s: number): { forward: string[], reverse: string[] } => scans(new DbIterator(mem.iterator(), s))
  const kv = (k: string, v: string): string => `${hex(Buffer.from(k))}=${hex(Buffer.from(v))}`
  const cases: Array<[number, string[]]> = [
    [0, []],
    [1, [kv('a', 'a1')]],
    [2, [kv('a', 'a1'), kv('b', 'b2')]],
    [3, [kv('b', 'b2')]],
    [4, [kv('b', 'b2'), kv('c', 'c4')]],
    [5, [kv('b', 'b2')]],
    [6, [kv('b', 'b2'), kv('c', 'c6')]],
    [8, [kv('b', 'b8'), kv('c', 'c6')]],
    [100, [kv('b', 'b8'), kv('c', 'c6')]]
  ]
  for (const [s, expected] of cases) {
    const { forward, reverse } = show(s)
    t.same(forward, expected, `snapshot ${s}: forward`)
    t.same(reverse, [...expected].reverse(), `snapshot ${s}: reverse`)
  }
  t.end()
})

test('full scans, seek and seekForPrev match the model at random snapshots', (t) => {
  const rnd = new Random(31337)
  const keys = keySpace(rnd, 80)
  const writes = randomWrites(rnd, 2500, keys)
  const mem = build(writes)
  const last = writes[writes.length - 1].sequence
  const snapshots = [0, 1, 2, 10, 100, Math.floor(last / 3), Math.floor(last / 2), last - 1, last, last + 10]
  for (let i = 0; i < 10; i++) snapshots.push(rnd.range(1, last))
  for (const s of snapshots) {
    const model = modelAsOf(writes, s)
    const it = new DbIterator(mem.iterator(), s)
    const { forward, reverse } = scans(it)
    const expected = model.map((_, i) => modelAt(model, i))
    t.same(forward, expected, `snapshot ${s}: forward scan (${model.length} keys)`)
    t.same(reverse, [...expected].reverse(), `snapshot ${s}: reverse scan`)

    const wrong: string[] = []
    const targets = [...keys, Buffer.alloc(0), Buffer.of(0xff, 0xff, 0xff, 0xff, 0xff), Buffer.of(0x00, 0x00, 0x00, 0x00, 0x00)]
    for (let i = 0; i < 60; i++) targets.push(Buffer.from(Array.from({ length: rnd.int(5) }, () => rnd.pick([0x00, 0x10, 0x11, 0x61, 0x62, 0x63, 0xfe, 0xff]))))
    for (const target of targets) {
      const host = Buffer.concat([Buffer.of(0x77), target, Buffer.of(0x77)])
      it.seek(host, 1, target.length)
      const e1 = modelAt(model, lowerBound(model, target))
      if (at(it) !== e1) wrong.push(`seek ${hex(target)}: ${at(it)}, model ${e1}`)
      it.seekForPrev(host, 1, target.length)
      const e2 = modelAt(model, floorIndex(model, target))
      if (at(it) !== e2) wrong.push(`seekForPrev ${hex(target)}: ${at(it)}, model ${e2}`)
    }
    t.same(wrong.slice(0, 4), [], `snapshot ${s}: seek and seekForPrev to ${targets.length} targets (${wrong.length} wrong)`)
    it.close()
  }
  t.end()
})

test('random walks switching between next and prev stay on the model\'s key at every step', (t) => {
  const rnd = new Random(4242)
  const keys = keySpace(rnd, 60)
  const writes = randomWrites(rnd, 2000, keys)
  const mem = build(writes)
  const last = writes[writes.length - 1].sequence
  let walks = 0
  const wrong: string[] = []
  for (let w = 0; w < 300; w++) {
    const s = rnd.chance(0.3) ? last : rnd.range(1, last)
    const model = modelAsOf(writes, s)
    const it = new DbIterator(mem.iterator(), s)
    const start = rnd.int(4)
    const target = rnd.pick(keys)
    let pos: number
    if (start === 0) {
      it.seekToFirst()
      pos = 0
    } else if (start === 1) {
      it.seekToLast()
      pos = model.length - 1
    } else if (start === 2) {
      it.seek(target, 0, target.length)
      pos = lowerBound(model, target)
    } else {
      it.seekForPrev(target, 0, target.length)
      pos = floorIndex(model, target)
    }
    const trail = [`snapshot ${s}`, ['seekToFirst', 'seekToLast', `seek ${hex(target)}`, `seekForPrev ${hex(target)}`][start]]
    for (let step = 0; step < 40; step++) {
      const expected = modelAt(model, pos)
      if (at(it) !== expected) {
        wrong.push(`${trail.join(', ')}: ${at(it)}, model ${expected}`)
        break
      }
      if (!it.valid()) break
      // Each step picks a direction at random, so runs alternate with switches.
      const forward = rnd.chance(0.5)
      if (forward) it.next()
      else it.prev()
      pos += forward ? 1 : -1
      trail.push(forward ? 'next' : 'prev')
    }
    walks++
  }
  t.same(wrong.slice(0, 3), [], `${walks} random walks (${wrong.length} went wrong)`)
  t.end()
})

test('direction switches at the first and last keys, and over runs of hidden versions', (t) => {
  const enc = (s: string): Buffer => Buffer.from(s)
  const writes: Write[] = []
  let seq = 0
  const put = (k: string, v: string): void => {
    writes.push({ key: enc(k), sequence: ++seq, type: ValueType.Value, value: enc(v) })
  }
  const del = (k: string): void => {
    writes.push({ key: enc(k), sequence: ++seq, type: ValueType.Deletion, value: Buffer.alloc(0) })
  }
  for (const k of ['a', 'b', 'c', 'd', 'e']) put(k, `${k}1`)
  const snapshot = seq
  // After the snapshot: many versions and deletions that the snapshot must not see.
  for (let i = 0; i < 20; i++) {
    put('b', `b-new${i}`)
    del('c')
    put('d', `d-new${i}`)
    del('a')
  }
  put('bb', 'hidden')
  del('e')
  const mem = build(writes)
  const kv = (k: string, v: string): string => `${hex(enc(k))}=${hex(enc(v))}`

  const it = new DbIterator(mem.iterator(), snapshot)
  const steps: string[] = []
  it.seekToFirst(); steps.push(at(it))
  it.next(); steps.push(at(it))
  it.prev(); steps.push(at(it))
  it.prev(); steps.push(at(it))
  t.same(steps, [kv('a', 'a1'), kv('b', 'b1'), kv('a', 'a1'), 'end'], 'old snapshot: first key, next, prev, prev past the start')

  const back: string[] = []
  it.seekToLast(); back.push(at(it))
  it.prev(); back.push(at(it))
  it.next(); back.push(at(it))
  it.next(); back.push(at(it))
  t.same(back, [kv('e', 'e1'), kv('d', 'd1'), kv('e', 'e1'), 'end'], 'old snapshot: last key, prev, next, next past the end')

  const mid: string[] = []
  it.seek(enc('c'), 0, 1); mid.push(at(it))
  it.prev(); mid.push(at(it))
  it.prev(); mid.push(at(it))
  it.next(); mid.push(at(it))
  it.next(); mid.push(at(it))
  it.next(); mid.push(at(it))
  t.same(mid, [kv('c', 'c1'), kv('b', 'b1'), kv('a', 'a1'), kv('b', 'b1'), kv('c', 'c1'), kv('d', 'd1')], 'old snapshot: zig-zag over keys with many newer versions')

  // Reverse to the first key, then forward (the inner iterator has run off the front).
  const front: string[] = []
  it.seekToLast()
  while (it.valid()) { front.push(at(it)); if (at(it) === kv('a', 'a1')) break; it.prev() }
  it.next(); front.push(at(it))
  t.same(front.slice(-2), [kv('a', 'a1'), kv('b', 'b1')], 'old snapshot: reverse to the first key, then next')

  const latest = new DbIterator(mem.iterator(), seq)
  const now: string[] = []
  for (latest.seekToFirst(); latest.valid(); latest.next()) now.push(at(latest))
  t.same(now, [kv('b', 'b-new19'), kv('bb', 'hidden'), kv('d', 'd-new19')], 'latest snapshot: deletions hide a, c and e')
  latest.seekForPrev(enc('c'), 0, 1)
  t.is(at(latest), kv('bb', 'hidden'), 'latest: seekForPrev of a deleted key lands on the key before it')
  latest.next()
  t.is(at(latest), kv('d', 'd-new19'), 'then next skips the deleted key')
  latest.seekForPrev(enc('a'), 0, 1)
  t.is(at(latest), 'end', 'latest: seekForPrev before every live key is invalid')
  latest.seek(enc('e'), 0, 1)
  t.is(at(latest), 'end', 'latest: seek to the deleted last key is invalid')
  t.end()
})

test('close invalidates the iterator and calls onClose once', (t) => {
  const mem = build([{ key: Buffer.from('k'), sequence: 1, type: ValueType.Value, value: Buffer.from('v') }])
  let released = 0
  const it = new DbIterator(mem.iterator(), 1, () => { released++ })
  it.seekToFirst()
  t.ok(it.valid(), 'positioned before close')
  it.close()
  t.notOk(it.valid(), 'invalid after close')
  t.is(released, 1, 'onClose called')
  t.end()
})
