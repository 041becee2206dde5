// Randomized differential test: seeded sequences of every Level API call (put, del, batch as an array and
// chained, get, getSync, getMany, has, hasMany, iterators/keys/values with random bounds of every kind,
// reverse, limit, seek, next/nextv/all, explicit snapshots read after later writes, clear with bounds,
// reverse, limit and snapshots, close and reopen) run on rough-level with the smallest memtable (64 KiB),
// so that flushes and compactions run during the sequence, and on memory-level as the oracle: every answer
// must be identical. Block size, restart interval, compression and block cache vary by seed.
//
//   ROUGH_DIFF_SEEDS=n   run n seeds (default: 3), starting at ROUGH_DIFF_SEED (default: 1)
//   ROUGH_DIFF_OPS=n     operations per seed (default: 7000); a shorter run is a prefix of a longer one
//   ROUGH_DIFF_KEYS=n    distinct keys a seed draws from (default: 1500); more keys mean more live data, so
//                        that long runs reach deeper levels and larger compactions
// A mismatch names its seed and operation index; ROUGH_DIFF_SEED=<seed> ROUGH_DIFF_SEEDS=1
// ROUGH_DIFF_OPS=<index + 1> replays it (flush and compaction timing may still differ between runs).
import test from 'tape'
import crypto = require('node:crypto')
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import type { AbstractLevel, AbstractSnapshot } from 'abstract-level'
import { MemoryLevel } from 'memory-level'
import { RoughLevel } from '../../index'
import { prng } from '../fixtures/level-child'

type Db = AbstractLevel<string | Buffer | Uint8Array, Buffer, Buffer>

function envInt (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${raw}`)
  return n
}
const FIRST_SEED = envInt('ROUGH_DIFF_SEED', 1)
const SEEDS = envInt('ROUGH_DIFF_SEEDS', 3)
const OPS = envInt('ROUGH_DIFF_OPS', 7000)
/** Distinct keys a seed draws from: small enough that writes overwrite and delete live keys. */
const KEY_SPACE = Math.max(envInt('ROUGH_DIFF_KEYS', 1500), 10)
const MAX_SNAPSHOTS = 4

/**
 * rough-level's options for a seed: always the smallest memtable, so that flushes and compactions run; the
 * block size, restart interval, compression and block cache vary between seeds (from their own stream, so
 * that the operations do not depend on them).
 */
function roughOptions (seed: number): { writeBufferSize: number, blockSize: number, blockRestartInterval: number, compression: boolean, cacheSize: number } {
  const rnd = prng(seed ^ 0x5eed0b7)
  return {
    writeBufferSize: 64 * 1024,
    blockSize: rnd() < 0.5 ? 1024 : 4096,
    blockRestartInterval: rnd() < 0.3 ? 1 : 16,
    compression: rnd() < 0.7,
    cacheSize: rnd() < 0.3 ? 0 : 8 * 1024 * 1024
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-differential-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

// ---------------------------------------------------------------------------------------------------------
// Operations, drawn once and then run on each database.

type Write = { type: 'put', key: Buffer, value: Buffer } | { type: 'del', key: Buffer }
interface Range { gt?: Buffer, gte?: Buffer, lt?: Buffer, lte?: Buffer }
type Step = { type: 'next' } | { type: 'nextv', size: number } | { type: 'seek', target: Buffer } | { type: 'all' } | { type: 'close' }
type Op =
  | { type: 'put', key: Buffer, value: Buffer, sync: boolean }
  | { type: 'del', key: Buffer }
  | { type: 'batch', ops: Write[] }
  | { type: 'chained', ops: Write[], clearAfter: number }
  | { type: 'get' | 'getSync' | 'has', key: Buffer, snapshot: number }
  | { type: 'getMany' | 'hasMany', keys: Buffer[], snapshot: number }
  | { type: 'iterate', mode: 'iterator' | 'keys' | 'values', range: Range, reverse: boolean, limit: number | undefined, snapshot: number, write: Write | undefined, steps: Step[] }
  | { type: 'clear', range: Range, reverse: boolean, limit: number | undefined, snapshot: number }
  | { type: 'snapshot' }
  | { type: 'release', snapshot: number }
  | { type: 'reopen' }

/** What the generator draws, and what it records of its own draws (for the coverage checks). */
class Generator {
  readonly #rnd: () => number
  readonly #keys: Buffer[] = []
  readonly drawn = new Set<number>()
  draws = 0
  readonly opsOfType = new Map<string, number>()
  readonly boundsOfKind = new Map<string, number>()
  /** Live snapshots, as the sequence so far leaves them (-1 in an op: none). */
  liveSnapshots = 0

  constructor (seed: number) {
    this.#rnd = prng(seed)
    // Keys with shared prefixes (as an application's), short random bytes (0x00 and 0xff included), and the empty key.
    const seen = new Set<string>()
    while (this.#keys.length < KEY_SPACE) {
      const k = this.#rnd() < 0.7
        ? Buffer.from(`${['user', 'user:', 'item/', 'u'][this.#int(4)]}${this.#int(100000)}`)
        : this.#bytes(this.#int(12))
      if (!seen.has(k.toString('hex'))) {
        seen.add(k.toString('hex'))
        this.#keys.push(k)
      }
    }
  }

  #int (n: number): number {
    return Math.floor(this.#rnd() * n)
  }

  #chance (p: number): boolean {
    return this.#rnd() < p
  }

  #bytes (n: number): Buffer {
    const b = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) b[i] = this.#chance(0.1) ? [0, 0xff][this.#int(2)] : this.#int(256)
    return b
  }

  #key (): Buffer {
    const i = this.#int(KEY_SPACE)
    this.drawn.add(i)
    this.draws++
    return this.#keys[i]
  }

  /** A key of the key space, or now and then bytes that fall between its keys. */
  #target (): Buffer {
    return this.#chance(0.8) ? this.#key() : this.#bytes(this.#int(8))
  }

  #value (): Buffer {
    const r = this.#rnd()
    // Mostly small, now and then larger than a 4 KiB block or a 32 KiB log block.
    const size = r < 0.05 ? 0 : r < 0.85 ? this.#int(160) : r < 0.995 ? this.#int(1200) : 4000 + this.#int(36000)
    // A random head makes values distinct; the rest is one byte repeated (cheap to draw).
    const b = Buffer.alloc(size, this.#int(256))
    for (let i = 0; i < size && i < 8; i++) b[i] = this.#int(256)
    return b
  }

  #write (): Write {
    return this.#chance(0.7) ? { type: 'put', key: this.#key(), value: this.#value() } : { type: 'del', key: this.#key() }
  }

  #writes (): Write[] {
    return Array.from({ length: this.#int(24) }, () => this.#write())
  }

  /** Each bound kind alone or with the others, gte/lte together with gt/lt now and then (they win). */
  #range (): Range {
    const range: Range = {}
    for (const kind of ['gt', 'gte', 'lt', 'lte'] as const) {
      if (this.#chance(0.3)) {
        range[kind] = this.#target()
        this.boundsOfKind.set(kind, (this.boundsOfKind.get(kind) ?? 0) + 1)
      }
    }
    return range
  }

  #limit (): number | undefined {
    const r = this.#rnd()
    return r < 0.5 ? undefined : r < 0.55 ? -1 : r < 0.6 ? 0 : this.#int(60)
  }

  #snapshot (): number {
    return this.liveSnapshots > 0 && this.#chance(0.35) ? this.#int(this.liveSnapshots) : -1
  }

  next (): Op {
    const op = this.#draw()
    this.opsOfType.set(op.type, (this.opsOfType.get(op.type) ?? 0) + 1)
    if (op.type === 'snapshot') this.liveSnapshots++
    else if (op.type === 'release') this.liveSnapshots--
    else if (op.type === 'reopen') this.liveSnapshots = 0
    return op
  }

  #draw (): Op {
    const r = this.#rnd() * 100
    if (r < 22) return { type: 'put', key: this.#key(), value: this.#value(), sync: this.#chance(0.01) }
    if (r < 30) return { type: 'del', key: this.#key() }
    if (r < 37) return { type: 'batch', ops: this.#writes() }
    if (r < 42) {
      const ops = this.#writes()
      return { type: 'chained', ops, clearAfter: this.#chance(0.1) ? this.#int(ops.length + 1) : -1 }
    }
    if (r < 50) return { type: 'get', key: this.#key(), snapshot: this.#snapshot() }
    if (r < 56) return { type: 'getSync', key: this.#key(), snapshot: this.#snapshot() }
    if (r < 60) return { type: 'has', key: this.#key(), snapshot: this.#snapshot() }
    if (r < 64) return { type: 'getMany', keys: this.#keysWithRepeats(), snapshot: this.#snapshot() }
    if (r < 67) return { type: 'hasMany', keys: this.#keysWithRepeats(), snapshot: this.#snapshot() }
    if (r < 87) return this.#iterate()
    if (r < 90) return { type: 'clear', range: this.#range(), reverse: this.#chance(0.5), limit: this.#limit(), snapshot: this.#snapshot() }
    if (r < 94.5) return this.liveSnapshots < MAX_SNAPSHOTS ? { type: 'snapshot' } : { type: 'release', snapshot: this.#int(this.liveSnapshots) }
    if (r < 99.8) return this.liveSnapshots > 0 ? { type: 'release', snapshot: this.#int(this.liveSnapshots) } : { type: 'snapshot' }
    return { type: 'reopen' }
  }

  #keysWithRepeats (): Buffer[] {
    const keys = Array.from({ length: 1 + this.#int(12) }, () => this.#key())
    if (this.#chance(0.3)) keys.push(keys[this.#int(keys.length)])
    return keys
  }

  #iterate (): Op {
    const steps: Step[] = []
    const n = this.#int(5)
    for (let i = 0; i < n; i++) {
      const r = this.#rnd()
      steps.push(r < 0.3 ? { type: 'next' } : r < 0.6 ? { type: 'nextv', size: 1 + this.#int(40) } : { type: 'seek', target: this.#target() })
    }
    steps.push(this.#chance(0.8) ? { type: 'all' } : { type: 'close' })
    const modes = ['iterator', 'keys', 'values'] as const
    return {
      type: 'iterate',
      mode: modes[this.#int(3)],
      range: this.#range(),
      reverse: this.#chance(0.5),
      limit: this.#limit(),
      snapshot: this.#snapshot(),
      // A write between creating the iterator and reading it: the iterator must not see it.
      write: this.#chance(0.15) ? this.#write() : undefined,
      steps
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Running an operation on one database, its answer as text.

/** An answer as text; bytes longer than a key by their length and SHA-1, which is cheaper than hex and as exact here. */
function show (v: unknown): string {
  if (v === undefined) return 'undefined'
  if (Buffer.isBuffer(v)) return v.length > 32 ? `<${v.length} bytes sha1 ${crypto.createHash('sha1').update(v).digest('hex')}>` : `<${v.toString('hex')}>`
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`
  return String(v)
}

/** An op for a failure message, its bytes as show() gives them. */
function describe (op: Op): string {
  return JSON.stringify(op, (_key, v: unknown) => {
    const b = v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data) : undefined
    return b === undefined ? v : show(b)
  })
}

/** One database under test, with the explicit snapshots the sequence holds on it. */
class Subject {
  db: Db
  readonly snapshots: AbstractSnapshot[] = []

  /** `reopened` gives the handle to open after a close: the same one, or a new one on the same data. */
  constructor (db: Db, readonly reopened: () => Db) {
    this.db = db
  }

  async write (w: Write): Promise<void> {
    if (w.type === 'put') await this.db.put(w.key, w.value)
    else await this.db.del(w.key)
  }

  #snapshot (i: number): { snapshot?: AbstractSnapshot } {
    return i < 0 ? {} : { snapshot: this.snapshots[i] }
  }

  async run (op: Op): Promise<string> {
    try {
      return await this.#run(op)
    } catch (err) {
      return `error ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`
    }
  }

  async #run (op: Op): Promise<string> {
    const db = this.db
    switch (op.type) {
      case 'put': {
        // sync is rough-level's (classic-level's) option; memory-level ignores it.
        const putOptions = { keyEncoding: 'buffer', sync: op.sync }
        await db.put(op.key, op.value, putOptions)
        return ''
      }
      case 'del': await db.del(op.key); return ''
      case 'batch': await db.batch(op.ops); return ''
      case 'chained': {
        const batch = db.batch()
        op.ops.forEach((w, i) => {
          if (w.type === 'put') batch.put(w.key, w.value)
          else batch.del(w.key)
          if (i + 1 === op.clearAfter) batch.clear()
        })
        await batch.write()
        return ''
      }
      case 'get': return show(await db.get(op.key, this.#snapshot(op.snapshot)))
      case 'getSync': return show(db.getSync(op.key, this.#snapshot(op.snapshot)))
      case 'has': return show(await db.has(op.key, this.#snapshot(op.snapshot)))
      case 'getMany': return show(await db.getMany(op.keys, this.#snapshot(op.snapshot)))
      case 'hasMany': return show(await db.hasMany(op.keys, this.#snapshot(op.snapshot)))
      case 'iterate': {
        const options = { ...op.range, reverse: op.reverse, limit: op.limit, ...this.#snapshot(op.snapshot) }
        const it = op.mode === 'iterator' ? db.iterator(options) : op.mode === 'keys' ? db.keys(options) : db.values(options)
        if (op.write !== undefined) await this.write(op.write)
        const out: string[] = []
        for (const step of op.steps) {
          if (step.type === 'next') out.push(show(await it.next()))
          else if (step.type === 'nextv') out.push(show(await it.nextv(step.size)))
          else if (step.type === 'seek') it.seek(step.target)
          else if (step.type === 'all') out.push(show(await it.all()))
          else await it.close()
        }
        out.push(`count ${it.count}`)
        return out.join(' ')
      }
      case 'clear':
        await db.clear({ ...op.range, reverse: op.reverse, limit: op.limit, ...this.#snapshot(op.snapshot) })
        return ''
      case 'snapshot': this.snapshots.push(db.snapshot()); return ''
      case 'release': await this.snapshots.splice(op.snapshot, 1)[0].close(); return ''
      case 'reopen':
        // close() closes the snapshots; a fresh handle reads what the directory (or memory-level's tree) holds.
        await db.close()
        this.snapshots.length = 0
        this.db = this.reopened()
        await this.db.open()
        return ''
    }
  }
}

/** Table files seen in the directory over the run: created, deleted again by compaction, the deepest level reached. */
class TableWatch {
  readonly seen = new Set<string>()
  deleted = 0
  deepestLevel = -1
  #last = new Set<string>()

  constructor (readonly dir: string, readonly db: () => RoughLevel<Buffer, Buffer>) {}

  look (): void {
    for (let level = 6; level > this.deepestLevel; level--) {
      if (this.db().getProperty(`leveldb.num-files-at-level${level}`) !== '0') this.deepestLevel = level
    }
    const now = new Set(fs.readdirSync(this.dir).filter((f) => f.endsWith('.ldb')))
    for (const f of now) this.seen.add(f)
    for (const f of this.#last) if (!now.has(f)) this.deleted++
    this.#last = now
  }
}

for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
  const engineOptions = roughOptions(seed)
  test(`differential: seed ${seed}, ${OPS} operations on rough-level (${JSON.stringify(engineOptions)}) and memory-level answer alike`, async (t) => {
    const dir = path.join(root, String(seed))
    const options = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const
    // memory-level keeps its data across close and open of the same instance; rough-level reopens its directory.
    const memory = new MemoryLevel<Buffer, Buffer>(options) as unknown as Db
    const oracle = new Subject(memory, () => memory)
    let roughDb = new RoughLevel<Buffer, Buffer>(dir, { ...options, ...engineOptions })
    const rough = new Subject(roughDb as unknown as Db, () => {
      roughDb = new RoughLevel<Buffer, Buffer>(dir, { ...options, ...engineOptions })
      return roughDb as unknown as Db
    })
    await oracle.db.open()
    await rough.db.open()
    const gen = new Generator(seed)
    const tables = new TableWatch(dir, () => roughDb)
    let mismatch = ''
    let i = 0
    for (; i < OPS && mismatch === ''; i++) {
      const op = gen.next()
      const expected = await oracle.run(op)
      const actual = await rough.run(op)
      if (actual !== expected) {
        mismatch = `seed ${seed}, op ${i} (replay: ROUGH_DIFF_SEED=${seed} ROUGH_DIFF_SEEDS=1 ROUGH_DIFF_OPS=${i + 1}): ${describe(op)}\n` +
          `  rough-level:  ${actual.slice(0, 2000)}\n  memory-level: ${expected.slice(0, 2000)}`
      }
      if (i % 100 === 0) tables.look()
    }
    t.equal(mismatch, '', `seed ${seed}: every answer identical over ${i} operations`)
    if (mismatch === '') {
      const final: Op = { type: 'iterate', mode: 'iterator', range: {}, reverse: false, limit: undefined, snapshot: -1, write: undefined, steps: [{ type: 'all' }] }
      t.equal(await rough.run(final), await oracle.run(final), `seed ${seed}: the whole database reads alike at the end`)
    }
    tables.look()

    // The run reached what it is meant to: the key space, every call and bound kind, flushes and compactions.
    const types = ['put', 'del', 'batch', 'chained', 'get', 'getSync', 'has', 'getMany', 'hasMany', 'iterate', 'clear', 'snapshot', 'release', 'reopen']
    if (i >= 5000) {
      // Uniform draws reach K(1 - (1 - 1/K)^D) distinct keys of K in D draws.
      const expected = KEY_SPACE * (1 - Math.pow(1 - 1 / KEY_SPACE, gen.draws))
      t.ok(gen.drawn.size >= 0.97 * expected, `seed ${seed}: keys drawn cover the key space as uniform draws would (${gen.drawn.size} of ${KEY_SPACE} distinct in ${gen.draws} draws; ${expected.toFixed(0)} expected)`)
      t.same(types.filter((type) => (gen.opsOfType.get(type) ?? 0) === 0), [], `seed ${seed}: every call ran (${types.map((type) => `${type} ${gen.opsOfType.get(type) ?? 0}`).join(', ')})`)
      t.same(['gt', 'gte', 'lt', 'lte'].filter((k) => (gen.boundsOfKind.get(k) ?? 0) === 0), [], `seed ${seed}: every bound kind was used`)
      t.ok(tables.seen.size >= 10 && tables.deleted > 0, `seed ${seed}: flushes and compactions ran (${tables.seen.size} tables written, ${tables.deleted} deleted again, level ${tables.deepestLevel} reached)`)
    } else {
      t.comment(`seed ${seed}: ${i} operations, too few for the coverage checks (${gen.drawn.size} keys drawn, ${tables.seen.size} tables)`)
    }
    await rough.db.close()
    await oracle.db.close()
  })
}
