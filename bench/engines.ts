// The three engines and their databases. Each engine is loaded only inside the child that runs it (so
// classic-level's native addon is not in the memory of the memory-level child, and a RoughLevel that does not
// build yet only disables its own column); its databases live in a scratch directory removed at the end.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { AbstractBatchPutOperation, AbstractDatabaseOptions, AbstractLevel } from 'abstract-level'
import { chunk } from './measure'
import type { EngineName } from './protocol'

/** The storage format type all three engines share (classic-level and memory-level declare exactly this union). */
export type Format = string | Buffer | Uint8Array
export type Db<K, V> = AbstractLevel<Format, K, V>

export interface Engine {
  name: EngineName
  version: string
  /** A new, unopened database in dir (memory-level ignores dir). */
  create<K, V>(dir: string, options: AbstractDatabaseOptions<K, V>): Db<K, V>
}

/** What the bench expects of rough-level's compiled index.js; the one untyped boundary of the harness. */
type RoughConstructor = new <K, V>(location: string, options?: AbstractDatabaseOptions<K, V>) => Db<K, V>

function packageVersion (packageJsonPath: string): string {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8'))
    const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined
    return typeof version === 'string' ? version : '?'
  } catch {
    return '?'
  }
}

/** Both dependencies keep index.js at the package root, beside package.json. */
function dependencyVersion (name: string): string {
  return packageVersion(path.join(path.dirname(require.resolve(name)), 'package.json'))
}

function firstLine (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.split('\n')[0]
}

/** Loads one engine, or returns why it cannot be used. */
export function loadEngine (name: EngineName): Engine | { unavailable: string } {
  try {
    return load(name)
  } catch (err) {
    return { unavailable: firstLine(err) }
  }
}

function load (name: EngineName): Engine | { unavailable: string } {
  switch (name) {
    case 'classic': {
      const { ClassicLevel } = require('classic-level') as typeof import('classic-level')
      return {
        name,
        version: dependencyVersion('classic-level'),
        // ClassicLevel<K, V> is an AbstractLevel<Format, K, V>, but abstract-level's self-referential `hooks` and
        // `sublevel` types make tsc reject the upcast (a sublevel's parent would have to be a ClassicLevel).
        create: <K, V>(dir: string, options: AbstractDatabaseOptions<K, V>): Db<K, V> =>
          new ClassicLevel<K, V>(dir, options) as unknown as Db<K, V>
      }
    }
    case 'memory': {
      const { MemoryLevel } = require('memory-level') as typeof import('memory-level')
      return {
        name,
        version: dependencyVersion('memory-level'),
        create: <K, V>(_dir: string, options: AbstractDatabaseOptions<K, V>): Db<K, V> => new MemoryLevel<K, V>(options)
      }
    }
    case 'rough': {
      // A plain require at run time: the harness compiles and runs while index.ts does not exist or does not yet
      // export RoughLevel. From dist/bench/ (or dist-bench/bench/) '../index' is the compiled package entry.
      let mod: unknown
      try {
        mod = require('../index')
      } catch (err) {
        return { unavailable: firstLine(err) }
      }
      const ctor: unknown = typeof mod === 'object' && mod !== null ? (mod as { RoughLevel?: unknown }).RoughLevel : undefined
      if (typeof ctor !== 'function') return { unavailable: 'index does not export a RoughLevel class' }
      const RoughLevel = ctor as RoughConstructor
      return {
        name,
        version: packageVersion(path.join(__dirname, '..', '..', 'package.json')),
        create: <K, V>(dir: string, options: AbstractDatabaseOptions<K, V>): Db<K, V> => new RoughLevel<K, V>(dir, options)
      }
    }
  }
}

/** Databases as the workloads see them, and the encodings they are opened with. */
export type Utf8Db = Db<string, string>
export type BufferDb = Db<Buffer, Buffer>
export type PutOp<K, V> = AbstractBatchPutOperation<Db<K, V>, K, V>

export const UTF8: AbstractDatabaseOptions<string, string> = { keyEncoding: 'utf8', valueEncoding: 'utf8' }
export const BUFFER: AbstractDatabaseOptions<Buffer, Buffer> = { keyEncoding: 'buffer', valueEncoding: 'buffer' }

/** Where databases live: one mkdtemp directory per child, a subdirectory per database, all removed at the end. */
export class Dirs {
  readonly base = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-bench-'))
  private count = 0
  next (label: string): string {
    return path.join(this.base, `${this.count++}-${label}`)
  }

  remove (dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true })
  }

  removeAll (): void {
    fs.rmSync(this.base, { recursive: true, force: true })
  }
}

/** Writes ops in batches of 1000 (untimed preparation of a read fixture). */
export async function fill<K, V> (db: Db<K, V>, ops: ReadonlyArray<PutOp<K, V>>): Promise<void> {
  for (const batch of chunk(ops, 1000)) await db.batch(batch)
}
