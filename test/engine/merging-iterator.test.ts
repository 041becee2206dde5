// engine/iterators/merging-iterator: the merge of several internal iterators against a model (every
// entry of every child, sorted by internal key, then child index): full scans both ways, seeks to
// present, absent and extreme targets, random walks mixing next/prev/seek compared step by step (where
// direction switches go wrong), equal keys in several children, close, and the DbIterator over merged
// memtables against "newest visible version as of a snapshot".
import test from 'tape'
import { ValueType } from '../../engine/internal-key'
import type { InternalIterator } from '../../engine/internal-iterator'
import { DbIterator } from '../../engine/iterators/db-iterator'
import { MergingIterator } from '../../engine/iterators/merging-iterator'
import { MemTable } from '../../engine/memtable/memtable'
import { ArrayIterator, compareInternalModel } from './helpers/array-iterator'
import type { ArrayEntry } from './helpers/array-iterator'
import { hex, internalKey } from './helpers/bytes'
import { Random } from './helpers/random'

const MAX_TAG_SEQUENCE = (1n << 56n) - 1n

interface ModelEntry { key: Buffer, value: Buffer, child: number }

/** Model order: internal key, then child index (the merge's rule for equal keys). */
function sortModel (entries: ModelEntry[]): ModelEntry[] {
  return entries.sort((a, b) => compareInternalModel(a.key, b.key) || a.child - b.child)
}

/** User keys from a small alphabet, so that children interleave and keys are prefixes of each other. */
function userKeys (rnd: Random, n: number): Buffer[] {
  const seen = new Map<string, Buffer>()
  seen.set('', Buffer.alloc(0))
  while (seen.size < n) {
    const k = Buffer.from(Array.from({ length: rnd.range(1, 3) }, () => rnd.pick([0x00, 0x61, 0x62, 0xff])))
    seen.set(hex(k), k)
  }
  return [...seen.values()]
}

interface Config { children: ArrayEntry[][], model: ModelEntry[], userKeys: Buffer[] }

/**
 * 0..8 children (some empty) holding several versions of each user key spread over them; sequences
 * are unique, a few carry the 2^56 - 1 tag of shortened keys. With `duplicates`, some internal keys
 * are copied into other children (values name the child, so the order among equals is checked).
 */
function randomConfig (rnd: Random, duplicates = false): Config {
  const n = rnd.int(9)
  const keys = userKeys(rnd, rnd.range(3, 12))
  const perChild: ModelEntry[][] = Array.from({ length: n }, () => [])
  const model: ModelEntry[] = []
  const empty = Array.from({ length: n }, () => rnd.chance(0.2))
  const filled = empty.map((e, i) => (e ? -1 : i)).filter((i) => i >= 0)
  const used = new Set<string>()
  let sequence = rnd.range(0, 1000)
  const add = (key: Buffer, child: number): void => {
    const value = Buffer.concat([Buffer.of(child), rnd.bytes(rnd.int(6))])
    const e = { key, value, child }
    perChild[child].push(e)
    model.push(e)
  }
  if (filled.length > 0) {
    const count = rnd.range(0, 120)
    for (let i = 0; i < count; i++) {
      const uk = rnd.pick(keys)
      const seq: bigint = rnd.chance(0.03) ? MAX_TAG_SEQUENCE : BigInt(sequence += rnd.range(1, 3))
      const type = rnd.chance(0.3) ? ValueType.Deletion : ValueType.Value
      const key = internalKey(uk, seq, type)
      if (used.has(hex(key))) continue
      used.add(hex(key))
      add(key, rnd.pick(filled))
      if (duplicates && rnd.chance(0.4)) {
        for (const c of filled) {
          if (perChild[c].every((x) => !x.key.equals(key)) && rnd.chance(0.5)) add(key, c)
        }
      }
    }
  }
  const children = perChild.map((es) => sortModel(es).map(({ key, value }) => ({ key, value })))
  return { children, model: sortModel(model), userKeys: keys }
}

function merge (config: Config): { merging: MergingIterator, children: ArrayIterator[] } {
  const children = config.children.map((es) => new ArrayIterator(es))
  return { merging: new MergingIterator(children), children }
}

function at (it: InternalIterator): string {
  if (!it.valid()) return 'end'
  return `${hex(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen))}=${hex(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))}`
}

function modelAt (model: readonly ModelEntry[], i: number): string {
  return i < 0 || i >= model.length ? 'end' : `${hex(model[i].key)}=${hex(model[i].value)}`
}

/** First model index whose key is >= target (model.length if none); the lowest child among equals. */
function lowerBound (model: readonly ModelEntry[], target: Buffer): number {
  let i = 0
  while (i < model.length && compareInternalModel(model[i].key, target) < 0) i++
  return i
}

function forwardScan (it: InternalIterator): string[] {
  const out: string[] = []
  for (it.seekToFirst(); it.valid(); it.next()) out.push(at(it))
  return out
}

function reverseScan (it: InternalIterator): string[] {
  const out: string[] = []
  for (it.seekToLast(); it.valid(); it.prev()) out.push(at(it))
  return out
}

/** Seek targets: every present key, absent keys between them, and keys before and after everything. */
function seekTargets (rnd: Random, config: Config): Buffer[] {
  const targets = config.model.map((e) => e.key)
  targets.push(internalKey(Buffer.alloc(0), (1n << 56n) - 1n, 0xff)) // the smallest internal key
  targets.push(internalKey(Buffer.alloc(0), 0, ValueType.Deletion))
  targets.push(internalKey(Buffer.alloc(8, 0xff), 0, ValueType.Deletion)) // after every key
  for (let i = 0; i < 20; i++) {
    const uk = rnd.chance(0.7) ? rnd.pick(config.userKeys) : rnd.bytes(rnd.range(0, 3))
    targets.push(internalKey(uk, rnd.range(0, 1400), rnd.pick([ValueType.Deletion, ValueType.Value])))
  }
  return targets
}

test('no children: never valid', (t) => {
  const it = new MergingIterator([])
  it.seekToFirst()
  t.notOk(it.valid(), 'seekToFirst')
  it.seekToLast()
  t.notOk(it.valid(), 'seekToLast')
  const target = internalKey('a', 1, ValueType.Value)
  it.seek(target, 0, target.length)
  t.notOk(it.valid(), 'seek')
  it.close()
  it.close()
  t.notOk(it.valid(), 'closed twice')
  t.end()
})

test('full forward and reverse scans equal the model; steady scans move each child once per entry', (t) => {
  const rnd = new Random(0x5eed01)
  const wrong: string[] = []
  let moveErrors = 0
  let entries = 0
  for (let round = 0; round < 400; round++) {
    const config = randomConfig(rnd)
    const { merging, children } = merge(config)
    const expected = config.model.map((_, i) => modelAt(config.model, i))
    entries += expected.length
    const before = children.reduce((s, c) => s + c.moves, 0)
    const forward = forwardScan(merging)
    // seekToFirst moves every child once, then each entry is one next() of the child holding it.
    if (children.reduce((s, c) => s + c.moves, 0) - before !== children.length + expected.length) moveErrors++
    if (forward.join() !== expected.join()) wrong.push(`round ${round} forward (${children.length} children)`)
    const before2 = children.reduce((s, c) => s + c.moves, 0)
    const reverse = reverseScan(merging)
    if (children.reduce((s, c) => s + c.moves, 0) - before2 !== children.length + expected.length) moveErrors++
    if (reverse.join() !== [...expected].reverse().join()) wrong.push(`round ${round} reverse (${children.length} children)`)
    merging.close()
  }
  t.same(wrong.slice(0, 4), [], `400 random merges, ${entries} entries (${wrong.length} wrong)`)
  t.is(moveErrors, 0, 'a scan without direction switches moves no child more than needed')
  t.end()
})

test('seek lands on the model\'s lower bound: present, absent, before all and after all', (t) => {
  const rnd = new Random(0x5eed02)
  const wrong: string[] = []
  let seeks = 0
  for (let round = 0; round < 300; round++) {
    const config = randomConfig(rnd)
    const { merging } = merge(config)
    for (const target of seekTargets(rnd, config)) {
      // The target sits inside a larger buffer, to check offsets are honoured.
      const host = Buffer.concat([Buffer.of(0x77, 0x77), target, Buffer.of(0x00)])
      merging.seek(host, 2, target.length)
      seeks++
      const i = lowerBound(config.model, target)
      if (at(merging) !== modelAt(config.model, i)) {
        wrong.push(`round ${round} seek ${hex(target)}: ${at(merging)}, model ${modelAt(config.model, i)}`)
        continue
      }
      // One step each way from the sought position (prev switches direction right after a seek).
      if (merging.valid()) {
        merging.prev()
        if (at(merging) !== modelAt(config.model, i - 1)) wrong.push(`round ${round} seek ${hex(target)} then prev`)
        merging.seek(host, 2, target.length)
        merging.next()
        if (at(merging) !== modelAt(config.model, i + 1)) wrong.push(`round ${round} seek ${hex(target)} then next`)
      }
    }
    merging.close()
  }
  t.same(wrong.slice(0, 4), [], `${seeks} seeks (${wrong.length} wrong)`)
  t.end()
})

/**
 * Walks a merging iterator and a model cursor together for `steps` random moves; returns the first
 * divergence with the moves that led to it, or null.
 */
function walk (rnd: Random, config: Config, merging: InternalIterator, steps: number): string | null {
  const model = config.model
  const targets = seekTargets(rnd, config)
  const trail: string[] = ['seekToFirst']
  merging.seekToFirst()
  let pos = 0
  for (let step = 0; step < steps; step++) {
    const r = rnd.int(100)
    if (merging.valid() && r < 44) {
      merging.next()
      pos++
      trail.push('next')
    } else if (merging.valid() && r < 88) {
      merging.prev()
      pos--
      trail.push('prev')
    } else if (r < 94 || !merging.valid()) {
      const target = rnd.pick(targets)
      merging.seek(target, 0, target.length)
      pos = lowerBound(model, target)
      trail.push(`seek ${hex(target)}`)
    } else if (r < 97) {
      merging.seekToFirst()
      pos = 0
      trail.push('seekToFirst')
    } else {
      merging.seekToLast()
      pos = model.length - 1
      trail.push('seekToLast')
    }
    if (trail.length > 12) trail.shift()
    if (pos < 0 || pos >= model.length) pos = pos < 0 ? -1 : model.length
    if (at(merging) !== modelAt(model, pos)) {
      return `step ${step}: ${at(merging)}, model ${modelAt(model, pos)} after ${trail.join(', ')}`
    }
  }
  return null
}

test('random walks mixing next, prev and seek follow the model cursor at every step', (t) => {
  const rnd = new Random(0x5eed03)
  const wrong: string[] = []
  for (let round = 0; round < 150; round++) {
    const config = randomConfig(rnd)
    const { merging } = merge(config)
    const failure = walk(rnd, config, merging, 3000)
    if (failure !== null) wrong.push(`round ${round} (${config.children.length} children): ${failure}`)
    merging.close()
  }
  t.same(wrong.slice(0, 3), [], `150 walks of 3000 steps (${wrong.length} went wrong)`)
  t.end()
})

test('equal internal keys in several children: visited once each, lower child first going forward', (t) => {
  const rnd = new Random(0x5eed04)
  const wrong: string[] = []
  let dupRounds = 0
  for (let round = 0; round < 200; round++) {
    const config = randomConfig(rnd, true)
    const keys = config.model.map((e) => hex(e.key))
    if (new Set(keys).size < keys.length) dupRounds++
    const { merging } = merge(config)
    const expected = config.model.map((_, i) => modelAt(config.model, i))
    if (forwardScan(merging).join() !== expected.join()) wrong.push(`round ${round} forward`)
    if (reverseScan(merging).join() !== [...expected].reverse().join()) wrong.push(`round ${round} reverse`)
    const failure = walk(rnd, config, merging, 1500)
    if (failure !== null) wrong.push(`round ${round} (${config.children.length} children): ${failure}`)
    merging.close()
  }
  t.ok(dupRounds > 50, `${dupRounds} of 200 merges hold equal keys in several children`)
  t.same(wrong.slice(0, 3), [], `scans and walks over duplicated keys (${wrong.length} wrong)`)

  // Worked example: the same key in children 0, 1 and 2, between distinct neighbours.
  const k = internalKey('k', 5, ValueType.Value)
  const entry = (key: Buffer, v: string): ArrayEntry => ({ key, value: Buffer.from(v) })
  const a = internalKey('a', 1, ValueType.Value)
  const z = internalKey('z', 1, ValueType.Value)
  const merging = new MergingIterator([
    new ArrayIterator([entry(k, 'k0')]),
    new ArrayIterator([entry(a, 'a1'), entry(k, 'k1')]),
    new ArrayIterator([entry(k, 'k2'), entry(z, 'z2')])
  ])
  const value = (): string => (merging.valid() ? Buffer.from(merging.valueBuf.subarray(merging.valueOff, merging.valueOff + merging.valueLen)).toString() : 'end')
  const steps: Array<'first' | 'next' | 'prev'> = ['first', 'next', 'next', 'next', 'prev', 'prev', 'next', 'next', 'next', 'prev', 'prev', 'prev', 'prev', 'prev']
  const seen: string[] = []
  for (const step of steps) {
    if (step === 'first') merging.seekToFirst()
    else if (step === 'next') merging.next()
    else merging.prev()
    seen.push(value())
  }
  t.same(seen, ['a1', 'k0', 'k1', 'k2', 'k1', 'k0', 'k1', 'k2', 'z2', 'k2', 'k1', 'k0', 'a1', 'end'], 'equal keys in three children, both directions')
  merging.seek(k, 0, k.length)
  t.is(value(), 'k0', 'seek to the shared key lands on the lowest child')
  merging.seekToLast()
  merging.prev()
  t.is(value(), 'k2', 'going back from the end reaches the highest child first')
  t.end()
})

test('close closes every child once and is idempotent; one child is passed through', (t) => {
  const rnd = new Random(0x5eed05)
  let config = randomConfig(rnd)
  while (config.children.length < 3) config = randomConfig(rnd)
  const { merging, children } = merge(config)
  merging.seekToFirst()
  merging.close()
  merging.close()
  t.notOk(merging.valid(), 'invalid after close')
  t.same(children.map((c) => c.closes), children.map(() => 1), `each of ${children.length} children closed once`)

  const entries = [internalKey('b', 2, ValueType.Value), internalKey('b', 1, ValueType.Deletion), internalKey('c', 3, ValueType.Value)]
  const one = new MergingIterator([new ArrayIterator(entries.map((key, i) => ({ key, value: Buffer.of(i) })))])
  t.same(forwardScan(one), entries.map((key, i) => `${hex(key)}=0${i}`), 'one child: forward')
  t.same(reverseScan(one), entries.map((key, i) => `${hex(key)}=0${i}`).reverse(), 'one child: reverse')
  t.end()
})

test('a child that throws leaves the merging iterator invalid', (t) => {
  class Failing extends ArrayIterator {
    fail = false
    override seek (target: Uint8Array, off: number, len: number): void {
      if (this.fail) throw new Error('injected')
      super.seek(target, off, len)
    }
  }
  const key = (s: string, seq: number): ArrayEntry => ({ key: internalKey(s, seq, ValueType.Value), value: Buffer.from(s) })
  const failing = new Failing([key('b', 2), key('d', 4)])
  const merging = new MergingIterator([new ArrayIterator([key('a', 1), key('c', 3)]), failing])
  merging.seekToFirst()
  failing.fail = true
  merging.next()
  merging.next()
  t.is(at(merging), `${hex(internalKey('c', 3, ValueType.Value))}=${hex(Buffer.from('c'))}`, 'forward steps seek no child')
  t.throws(() => merging.prev(), /injected/, 'the error of a direction switch reaches the caller')
  t.notOk(merging.valid(), 'and leaves the iterator invalid')
  failing.fail = false
  merging.seekToLast()
  t.is(at(merging), `${hex(internalKey('d', 4, ValueType.Value))}=${hex(Buffer.from('d'))}`, 'a later seek repositions it')
  failing.fail = true
  const target = internalKey('a', 9, ValueType.Value)
  t.throws(() => merging.seek(target, 0, target.length), /injected/, 'a failing seek reaches the caller')
  t.notOk(merging.valid(), 'and leaves the iterator invalid')
  t.end()
})

// DbIterator over merged memtables.

interface Write { key: Buffer, sequence: number, type: ValueType, value: Buffer, table: number }

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

function dbAt (it: DbIterator): string {
  if (!it.valid()) return 'end'
  return `${hex(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen))}=${hex(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen))}`
}

function userModelAt (model: Array<{ key: Buffer, value: Buffer }>, i: number): string {
  return i < 0 || i >= model.length ? 'end' : `${hex(model[i].key)}=${hex(model[i].value)}`
}

function userLowerBound (model: Array<{ key: Buffer }>, target: Buffer): number {
  let i = 0
  while (i < model.length && Buffer.compare(model[i].key, target) < 0) i++
  return i
}

test('DbIterator over merged memtables shows the newest visible version as of a snapshot', (t) => {
  const rnd = new Random(0x5eed06)
  const wrong: string[] = []
  let checks = 0
  for (let round = 0; round < 60; round++) {
    const tables = Array.from({ length: rnd.range(1, 5) }, () => new MemTable(1024))
    const keys = userKeys(rnd, rnd.range(4, 30))
    const writes: Write[] = []
    let sequence = 0
    // Mostly like a database (older tables hold older writes), sometimes sequences interleave.
    const interleave = rnd.chance(0.4)
    const count = rnd.range(0, 400)
    for (let i = 0; i < count; i++) {
      sequence += rnd.range(1, 2)
      const table = interleave ? rnd.int(tables.length) : Math.min(tables.length - 1, Math.floor(i * tables.length / count))
      const type = rnd.chance(0.35) ? ValueType.Deletion : ValueType.Value
      const key = rnd.pick(keys)
      const value = type === ValueType.Value ? rnd.bytes(rnd.int(10)) : Buffer.alloc(0)
      writes.push({ key, sequence, type, value, table })
      tables[table].add(sequence, type, key, 0, key.length, value, 0, value.length)
    }
    // Newest table first, as the database orders its sources.
    const children = (): InternalIterator[] => tables.map((m) => m.iterator()).reverse()
    for (let s = 0; s < 5; s++) {
      const snapshot = s === 0 ? sequence : rnd.range(0, sequence + 1)
      const model = modelAsOf(writes, snapshot)
      const expected = model.map((_, i) => userModelAt(model, i))
      const it = new DbIterator(new MergingIterator(children()), snapshot)
      const forward: string[] = []
      for (it.seekToFirst(); it.valid(); it.next()) forward.push(dbAt(it))
      const reverse: string[] = []
      for (it.seekToLast(); it.valid(); it.prev()) reverse.push(dbAt(it))
      checks += 2
      if (forward.join() !== expected.join()) wrong.push(`round ${round} snapshot ${snapshot}: forward`)
      if (reverse.join() !== [...expected].reverse().join()) wrong.push(`round ${round} snapshot ${snapshot}: reverse`)

      for (const target of [...keys, Buffer.alloc(0), Buffer.alloc(4, 0xff), Buffer.of(0x61, 0x61, 0x61)]) {
        it.seek(target, 0, target.length)
        checks++
        const e = userModelAt(model, userLowerBound(model, target))
        if (dbAt(it) !== e) wrong.push(`round ${round} snapshot ${snapshot}: seek ${hex(target)}: ${dbAt(it)}, model ${e}`)
      }

      // A walk mixing next, prev and seek.
      const trail: string[] = ['seekToFirst']
      it.seekToFirst()
      let pos = 0
      for (let step = 0; step < 300; step++) {
        const r = rnd.int(100)
        if (it.valid() && r < 45) {
          it.next()
          pos++
          trail.push('next')
        } else if (it.valid() && r < 90) {
          it.prev()
          pos--
          trail.push('prev')
        } else {
          const target = rnd.pick(keys)
          it.seek(target, 0, target.length)
          pos = userLowerBound(model, target)
          trail.push(`seek ${hex(target)}`)
        }
        if (trail.length > 10) trail.shift()
        if (pos < 0 || pos >= model.length) pos = pos < 0 ? -1 : model.length
        checks++
        if (dbAt(it) !== userModelAt(model, pos)) {
          wrong.push(`round ${round} snapshot ${snapshot} step ${step}: ${dbAt(it)}, model ${userModelAt(model, pos)} after ${trail.join(', ')}`)
          break
        }
      }
      it.close()
    }
  }
  t.same(wrong.slice(0, 3), [], `${checks} checks over merged memtables (${wrong.length} wrong)`)
  t.end()
})
