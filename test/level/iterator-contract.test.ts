// What abstract-level's README promises and its conformance suite leaves open, run on rough-level,
// classic-level and memory-level alike: seek against every bound kind in both directions (a target
// outside the range ends the iterator even where keys inside the range follow it), seek with limit,
// seek on snapshots, clear with every bound kind, getMany/hasMany with duplicate keys, encodings of
// seek targets, keys()/values() and sublevel iterators with seek. Each scenario records its answers
// by label; rough-level must give classic-level's answer at every label. memory-level is held to
// classic-level too: on everything asked here the two references agree (classic-level 3.0.0,
// memory-level 3.1.0); where a later version parts them, the test says so and classic-level is followed.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import type { AbstractLevel, AbstractSnapshot } from 'abstract-level'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { RoughLevel } from '../../index'

type Db = AbstractLevel<string | Buffer | Uint8Array, string, string>
type Range = { gt?: string, gte?: string, lt?: string, lte?: string }
type Mode = 'iterator' | 'keys' | 'values'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-iterator-contract-'))
let dirs = 0
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

// The three are the same AbstractLevel; their types differ only in the self types of hooks and sublevels.
const IMPLEMENTATIONS: Array<[string, () => Db]> = [
  ['classic-level', () => new ClassicLevel(path.join(root, String(dirs++))) as unknown as Db],
  ['memory-level', () => new MemoryLevel() as unknown as Db],
  ['rough-level', () => new RoughLevel(path.join(root, String(dirs++))) as unknown as Db]
]

/** A result as text, telling strings, Buffers and plain Uint8Arrays apart. */
function show (v: unknown): string {
  if (v === undefined) return 'undefined'
  if (typeof v === 'string') return JSON.stringify(v)
  if (Buffer.isBuffer(v)) return `<buffer ${v.toString('hex')}>`
  if (v instanceof Uint8Array) return `<view ${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}>`
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`
  return String(v)
}

/** Answers of one implementation, by label, in the order asked. */
class Answers {
  readonly byLabel = new Map<string, string>()

  async at (label: string, fn: () => unknown): Promise<void> {
    if (this.byLabel.has(label)) throw new Error(`label asked twice: ${label}`)
    try {
      this.byLabel.set(label, show(await fn()))
    } catch (err) {
      this.byLabel.set(label, `error ${(err as { code?: string }).code ?? String(err)}`)
    }
  }
}

/** Labels where `actual` differs from `expected`, with both answers. */
function differences (actual: Answers, expected: Answers): string[] {
  const out: string[] = []
  for (const [label, want] of expected.byLabel) {
    const got = actual.byLabel.get(label)
    if (got !== want) out.push(`${label}: ${got ?? '(not asked)'} instead of ${want}`)
  }
  for (const label of actual.byLabel.keys()) if (!expected.byLabel.has(label)) out.push(`${label}: not asked of classic-level`)
  return out
}

/** Runs `scenario` on a fresh database of each implementation; rough-level and memory-level must answer as classic-level. */
function compare (name: string, scenario: (db: Db, answers: Answers) => Promise<void>): void {
  test(`iterator contract: ${name}`, async (t) => {
    const answers = new Map<string, Answers>()
    for (const [impl, make] of IMPLEMENTATIONS) {
      const db = make()
      await db.open()
      const a = new Answers()
      await scenario(db, a)
      await db.close()
      answers.set(impl, a)
    }
    const classic = answers.get('classic-level') as Answers
    const memory = answers.get('memory-level') as Answers
    const rough = answers.get('rough-level') as Answers
    t.ok(classic.byLabel.size > 0, `${classic.byLabel.size} answers asked`)
    t.same(differences(rough, classic), [], 'rough-level answers as classic-level does at every label')
    t.same(differences(memory, classic), [], 'the references agree: memory-level answers as classic-level does')
  })
}

/** Keys with gaps, so that targets and bounds fall on keys and between them. */
const KEYS = ['b', 'd', 'f', 'h', 'j']
const put = (db: Db, keys: string[] = KEYS): Promise<void> => db.batch(keys.map((k) => ({ type: 'put' as const, key: k, value: k.toUpperCase() })))

interface Compactable { compactRange (start: string, end: string): Promise<void> }
const compactable = (db: object): db is Compactable => typeof (db as Partial<Compactable>).compactRange === 'function'

/** KEYS, some of them in a table (where the database has tables) and the rest in the memtable. */
async function fill (db: Db): Promise<void> {
  await put(db, ['b', 'f', 'j'])
  if (compactable(db)) await db.compactRange('a', 'z')
  await put(db, ['d', 'h'])
}

const RANGES: Range[] = [
  {}, { gt: 'd' }, { gte: 'd' }, { lt: 'h' }, { lte: 'h' }, { gt: 'd', lt: 'h' }, { gte: 'd', lte: 'h' },
  { gt: 'c', lt: 'g' }, { gte: 'c', lte: 'g' }, { gt: 'c', lte: 'h' }, { gte: 'd', lt: 'i' },
  // gte and lte take precedence over gt and lt.
  { gte: 'd', gt: 'f' }, { gte: 'f', gt: 'b' }, { lte: 'h', lt: 'f' }, { lte: 'f', lt: 'j' },
  // An empty range, a single key, and the empty key as a bound.
  { gt: 'e', lt: 'e' }, { gte: 'f', lte: 'f' }, { gt: '' }, { lte: '' }
]
const TARGETS = ['', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'z']
const showRange = (r: Range, reverse: boolean): string => JSON.stringify({ ...r, reverse })

function open (db: Db, mode: Mode, options: Range & { reverse?: boolean, limit?: number, snapshot?: AbstractSnapshot }) {
  return mode === 'iterator' ? db.iterator(options) : mode === 'keys' ? db.keys(options) : db.values(options)
}

compare('seek to every target against every bound kind, both directions, in iterator(), keys() and values()', async (db, a) => {
  await fill(db)
  for (const mode of ['iterator', 'keys', 'values'] as const) {
    for (const range of RANGES) {
      for (const reverse of [false, true]) {
        for (const target of TARGETS) {
          await a.at(`${mode} ${showRange(range, reverse)} seek(${JSON.stringify(target)}) all()`, async () => {
            const it = open(db, mode, { ...range, reverse })
            it.seek(target)
            return it.all()
          })
        }
      }
    }
  }
})

compare('one iterator sought again and again: after its end, out of range, back inside, between next() and nextv()', async (db, a) => {
  await fill(db)
  for (const range of RANGES) {
    for (const reverse of [false, true]) {
      const it = db.iterator({ ...range, reverse })
      const label = showRange(range, reverse)
      await a.at(`${label} next() before any seek`, () => it.next())
      for (const target of [...TARGETS, ...TARGETS.slice().reverse()]) {
        it.seek(target)
        await a.at(`${label} seek(${JSON.stringify(target)}) next() nextv(2) [${a.byLabel.size}]`, async () => [await it.next(), await it.nextv(2)])
      }
      await a.at(`${label} all() after the last seek`, () => it.all())
    }
  }
})

compare('seek with limit: the count carries across seeks, and a reached limit is not reset', async (db, a) => {
  await put(db)
  for (const limit of [0, 1, 2, 3, 7]) {
    for (const range of [{}, { gt: 'b', lte: 'h' }, { gte: 'd' }]) {
      for (const reverse of [false, true]) {
        const label = `limit ${limit} ${showRange(range, reverse)}`
        const it = db.iterator({ ...range, reverse, limit })
        await a.at(`${label} next()`, () => it.next())
        it.seek(reverse ? 'z' : 'a')
        await a.at(`${label} seek to the far end, nextv(2)`, () => it.nextv(2))
        it.seek('f')
        await a.at(`${label} seek('f'), all(), count`, async () => [await it.all(), it.count])
        const again = db.keys({ ...range, reverse, limit })
        again.seek('c')
        await a.at(`${label} keys() seek('c') nextv(10) then seek('z') next()`, async () => {
          const first = await again.nextv(10)
          again.seek('z')
          const second = await again.next()
          const count = again.count
          await again.close()
          return [first, second, count]
        })
      }
    }
  }
})

compare('seek on explicit and implicit snapshots sees neither later puts nor later deletes', async (db, a) => {
  await put(db)
  const snapshot = db.snapshot()
  const implicit = [db.iterator(), db.iterator({ reverse: true }), db.keys({ gt: 'b' }), db.values({ lt: 'j', reverse: true })]
  await db.batch([
    { type: 'put', key: 'c', value: 'C2' }, { type: 'del', key: 'd' }, { type: 'put', key: 'f', value: 'F2' },
    { type: 'put', key: 'k', value: 'K2' }, { type: 'del', key: 'j' }
  ])
  for (const [i, it] of implicit.entries()) {
    it.seek('c')
    await a.at(`implicit ${i}: seek('c') all()`, () => it.all())
  }
  for (const mode of ['iterator', 'keys', 'values'] as const) {
    for (const range of [{}, { gte: 'c' }, { gt: 'b', lt: 'k' }]) {
      for (const reverse of [false, true]) {
        for (const target of ['a', 'c', 'd', 'e', 'j', 'k', 'z']) {
          await a.at(`snapshot ${mode} ${showRange(range, reverse)} seek(${JSON.stringify(target)}) all()`, () => {
            const it = open(db, mode, { ...range, reverse, snapshot })
            it.seek(target)
            return it.all()
          })
          await a.at(`now ${mode} ${showRange(range, reverse)} seek(${JSON.stringify(target)}) all()`, () => {
            const it = open(db, mode, { ...range, reverse })
            it.seek(target)
            return it.all()
          })
        }
      }
    }
  }
  await a.at('snapshot get, getSync, has, getMany, hasMany', async () => [
    await db.get('d', { snapshot }), db.getSync('f', { snapshot }), await db.has('k', { snapshot }),
    await db.getMany(['c', 'd', 'f', 'j', 'k'], { snapshot }), await db.hasMany(['c', 'd', 'j', 'k'], { snapshot })
  ])
  await snapshot.close()
})

compare('clear with every bound kind, reverse and limit, and with a snapshot', async (db, a) => {
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']
  for (const range of RANGES) {
    for (const reverse of [false, true]) {
      for (const limit of [undefined, -1, 0, 1, 2, 20]) {
        await db.clear()
        await put(db, keys)
        await a.at(`clear(${JSON.stringify({ ...range, reverse, limit })}) leaves`, async () => {
          await db.clear({ ...range, reverse, limit })
          return db.keys().all()
        })
      }
    }
  }
  await db.clear()
  await put(db, keys)
  const snapshot = db.snapshot()
  await db.batch([{ type: 'put', key: 'cc', value: 'new' }, { type: 'put', key: 'ee', value: 'new' }, { type: 'put', key: 'z', value: 'new' }])
  await a.at('clear({ gte: "b", lt: "g", snapshot }) leaves', async () => {
    await db.clear({ gte: 'b', lt: 'g', snapshot })
    return db.iterator().all()
  })
  await a.at('clear({ reverse: true, limit: 2, snapshot }) leaves', async () => {
    await db.clear({ reverse: true, limit: 2, snapshot })
    return db.iterator().all()
  })
  await snapshot.close()
})

compare('getMany and hasMany with duplicate and absent keys, before and after writes, in every value encoding', async (db, a) => {
  await put(db)
  const asked = ['b', 'b', 'x', 'd', 'b', 'x', '', 'j', 'd']
  for (const valueEncoding of ['utf8', 'buffer', 'view', 'hex', 'json'] as const) {
    await a.at(`getMany ${valueEncoding}`, () => valueEncoding === 'json' ? db.getMany(asked, { valueEncoding: 'utf8' }) : db.getMany<string, unknown>(asked, { valueEncoding }))
  }
  await a.at('hasMany', () => db.hasMany(asked))
  const snapshot = db.snapshot()
  await db.batch([{ type: 'del', key: 'b' }, { type: 'put', key: 'x', value: 'X' }, { type: 'put', key: 'd', value: 'D2' }])
  await a.at('getMany after writes', () => db.getMany(asked))
  await a.at('hasMany after writes', () => db.hasMany(asked))
  await a.at('getMany on the snapshot', () => db.getMany(asked, { snapshot }))
  await a.at('hasMany on the snapshot', () => db.hasMany(asked, { snapshot }))
  await a.at('getMany of no keys', () => db.getMany([]))
  await snapshot.close()
})

compare('seek targets in other encodings than the iterator\'s, and byte order beyond UTF-16 order', async (db, a) => {
  // Byte (UTF-8) order: 'é' (c3 a9) < '\uffff' (ef bf bf) < '😀' (f0 9f 98 80); UTF-16 order puts '😀' first.
  const keys = ['b', 'd', 'f', '\u00e9', '\uffff', '\u{1f600}']
  await put(db, keys)
  const targets: Array<[string, unknown, string]> = [
    ['buffer', Buffer.from('d'), 'buffer d'], ['buffer', Buffer.from('e'), 'buffer e'],
    ['view', new Uint8Array([0x66]), 'view f'], ['hex', '63', 'hex 63'], ['hex', 'efbfbf', 'hex efbfbf'],
    ['utf8', '\u{1f600}', 'utf8 U+1F600'], ['utf8', '\uffff', 'utf8 U+FFFF'], ['utf8', '\u00ea', 'utf8 U+00EA'],
    ['json', 'd', 'json "d"'], ['buffer', Buffer.from([0xf0]), 'buffer f0'], ['buffer', Buffer.alloc(0), 'buffer empty']
  ]
  for (const reverse of [false, true]) {
    for (const iteratorEncoding of ['utf8', 'buffer', 'view', 'hex'] as const) {
      for (const [encoding, target, name] of targets) {
        for (const range of [{}, { gt: 'c', lt: '\uffff' }]) {
          await a.at(`iterator keyEncoding ${iteratorEncoding} ${showRange(range, reverse)} seek(${name})`, () => {
            const encodedRange = Object.fromEntries(Object.entries(range).map(([k, v]) => [k, iteratorEncoding === 'hex' ? Buffer.from(v).toString('hex') : iteratorEncoding === 'utf8' ? v : Buffer.from(v)]))
            const it = db.iterator<unknown, string>({ ...encodedRange, reverse, keyEncoding: iteratorEncoding })
            it.seek(target, { keyEncoding: encoding })
            return it.all()
          })
        }
      }
    }
    await a.at(`values valueEncoding hex seek(utf8 "e") ${reverse}`, () => {
      const it = db.values<string, string>({ reverse, valueEncoding: 'hex' })
      it.seek('e')
      return it.all()
    })
    await a.at(`keys keyEncoding buffer seek(string "e") ${reverse}`, () => {
      const it = db.keys<Buffer>({ reverse, keyEncoding: 'buffer' })
      it.seek(Buffer.from('e'))
      return it.all()
    })
  }
  await a.at('json keys: seek(2) over 1, 10, 2 stored as JSON text', async () => {
    await db.batch<number, string>([1, 10, 2].map((n) => ({ type: 'put' as const, key: n, value: String(n) })), { keyEncoding: 'json' })
    const it = db.iterator<number, string>({ keyEncoding: 'json', gte: 0, lt: 3 })
    it.seek(2)
    return (await it.all()).map(([k, v]) => `${k}=${v}`)
  })
})

compare('sublevel iterators with seek: targets outside the sublevel\'s range or the iterator\'s end the iterator', async (db, a) => {
  // Parent keys just around the sublevel's prefix '!s!', so that a seek escaping the prefix would find them.
  await db.batch(['!r!z', '!s', '!t!a', '"'].map((k) => ({ type: 'put' as const, key: k, value: 'parent' })))
  const sub = db.sublevel('s')
  await put(sub as unknown as Db)
  for (const range of [{}, { gt: 'b', lt: 'j' }, { gte: 'd' }, { lte: 'f' }]) {
    for (const reverse of [false, true]) {
      for (const target of ['', '!', 'a', 'c', 'f', 'i', 'j', 'z', '\u00ff']) {
        await a.at(`sublevel ${showRange(range, reverse)} seek(${JSON.stringify(target)})`, () => {
          const it = sub.iterator({ ...range, reverse })
          it.seek(target)
          return it.all()
        })
      }
    }
  }
})
