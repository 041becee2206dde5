// A database's life in brief, for test/engine/browser-bundle.test.ts to run both in Node and bundled for the
// browser in a context without Buffer (there on a MemoryFileSystem, exported for it): string and byte keys
// (some beyond ASCII) written in groups and batches through enough memtables to flush tables and compact
// them, some deleted, then read by get and by a scan before and after a reopen (log replay, MANIFEST and
// CURRENT read back). test/browser/bundlers.test.ts has a consumer's bundle write the same entries, and
// checks what it reads against modelEntries().
import { Db } from '../../../engine/db/db'
import type { FileSystem } from '../../../engine/fs/file-system'
import { decodeUtf8 } from '../../../engine/util/bytes'
import { NUM_LEVELS } from '../../../engine/version/version-edit'
export { MemoryFileSystem } from './memory-file-system'

export const ENTRIES = 3000
export const DELETED_EVERY = 7

/** The workload's i-th key and value; a multiple of DELETED_EVERY is deleted after it is written. */
export function entry (i: number): [key: string, value: string] {
  return [`key-${String(i).padStart(5, '0')}-ключ-🔑`, `value ${i} `.repeat(1 + (i % 13)) + 'é'.repeat(i % 5)]
}

/** What the workload leaves in the database, as [key, value] pairs in key order. */
export function modelEntries (): Array<[string, string]> {
  const model = new Map<string, string>()
  for (let i = 0; i < ENTRIES; i++) if (i % DELETED_EVERY !== 0) model.set(...entry(i))
  // Bytewise order of UTF-8 keys; these differ first at an ASCII digit, so UTF-16 order agrees.
  return [...model].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
}

/** The keys the workload reads back one by one: every 250th written, and one never written. */
export function sampleKeys (): string[] {
  const keys: string[] = []
  for (let i = 0; i <= ENTRIES; i += 250) keys.push(entry(i)[0])
  return keys
}

export interface RoundTrip {
  /** What a scan read, as [key, value] pairs in order: before the reopen, then after it. */
  scans: Array<Array<[string, string]>>
  /** get() of each of sampleKeys(), after the reopen: the value or null. */
  gets: Array<string | null>
  /** Tables in the database before the compaction of everything, and after it. */
  tables: [before: number, after: number]
}

/** The workload on a new database at `dir` on `fs`. */
export async function roundTrip (fs: FileSystem, dir: string): Promise<RoundTrip> {
  const options = { fs, writeBufferSize: 32 * 1024, blockSize: 1024, infoLog: true }
  let db = await Db.open(dir, options)
  const encoder = new TextEncoder()
  const writes: Array<Promise<void>> = []
  for (let i = 0; i < ENTRIES; i++) {
    const [key, value] = entry(i)
    // Odd entries as bytes, even ones as strings: both of the write batch's paths.
    if (i % 2 === 0) writes.push(db.put(key, value))
    else writes.push(db.write((batch) => batch.put(encoder.encode(key), encoder.encode(value))))
    if (i % 500 === 499) await Promise.all(writes.splice(0))
  }
  await Promise.all(writes)
  for (let i = 0; i < ENTRIES; i += DELETED_EVERY) await db.del(entry(i)[0])
  const before = tableCount(db)
  await db.compactRange()
  const tables: [number, number] = [before, tableCount(db)]
  const scans = [scan(db)]
  await db.close()
  db = await Db.open(dir, options)
  scans.push(scan(db))
  const gets: Array<string | null> = []
  for (const key of sampleKeys()) {
    gets.push(db.get(key, db.lastSequence) ? decodeUtf8(db.valueBuf, db.valueOff, db.valueOff + db.valueLen) : null)
  }
  await db.close()
  return { scans, gets, tables }
}

function tableCount (db: Db): number {
  let n = 0
  for (let level = 0; level < NUM_LEVELS; level++) n += db.numFilesAtLevel(level)
  return n
}

function scan (db: Db): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const it = db.iterator()
  for (it.seekToFirst(); it.valid(); it.next()) {
    out.push([decodeUtf8(it.keyBuf, it.keyOff, it.keyOff + it.keyLen), decodeUtf8(it.valueBuf, it.valueOff, it.valueOff + it.valueLen)])
  }
  it.close()
  return out
}
