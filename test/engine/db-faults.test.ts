// Faults and crashes in the flush and recovery paths (design.md "Durable", "Files from elsewhere"; reference §12):
// - a table or MANIFEST write that fails during a flush puts the Db in its error state, keeps every write
//   readable, leaves no partial table in the MANIFEST, and a reopen returns every acknowledged write;
// - a failed open leaves the directory as it was, and a later open succeeds with all data;
// - after a crash at any I/O call of a scripted workload, reopening gives a consistent database holding every
//   write acknowledged with sync (and all before it), no write that was never issued, and never corruption;
// - obsolete logs and MANIFESTs are deleted only after the MANIFEST durably records that they are obsolete, and an
//   iterator keeps reading what it saw across a flush.
// Every Db here runs its flushes inline through a CrashFileSystem (test/engine/helpers/crash-file-system.ts).
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { Db } from '../../engine/db/db'
import { eventLoopBudget, SLICE_MS } from '../../engine/util/event-loop-budget'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import type { FileSystem } from '../../engine/fs/file-system'
import { LogReader } from '../../engine/log/reader'
import { NUM_LEVELS, VersionEdit } from '../../engine/version/version-edit'
import { CrashFileSystem, previousMutation, type CrashState, type FaultSpec, type FsCall } from './helpers/crash-file-system'
import { Random } from './helpers/random'

const WRITE_BUFFER = 64 * 1024
const root = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'rough-faults-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))

let dirs = 0
function newDir (label: string): string {
  return path.join(root, `${label}-${++dirs}`)
}

function openDb (dir: string, fsys: FileSystem = new PosixFileSystem()): Promise<Db> {
  return Db.open(dir, { fs: fsys, flushInline: true, writeBufferSize: WRITE_BUFFER })
}

/** What a test reads from an error it caught. */
interface Caught {
  code?: string
  message?: string
}

const isIoError = (err: Caught | undefined): boolean => err?.code === 'LEVEL_IO_ERROR'

/** Runs a write call, turning a synchronous throw (the Db's error state) into a rejection. */
function attempt (write: () => Promise<void>): Promise<void> {
  try {
    return write()
  } catch (err) {
    return Promise.reject(err)
  }
}

/** The error a call fails with, or undefined if it succeeds. */
async function failure (write: () => Promise<void>): Promise<Caught | undefined> {
  try {
    await attempt(write)
    return undefined
  } catch (err: any) {
    return err
  }
}

function read (db: Db, key: string): string | undefined {
  if (!db.get(key, db.lastSequence)) return undefined
  return Buffer.from(db.valueBuf.subarray(db.valueOff, db.valueOff + db.valueLen)).toString('latin1')
}

/** Every live entry, through an iterator. */
function contents (db: Db): Map<string, string> {
  const out = new Map<string, string>()
  const it = db.iterator()
  try {
    for (it.seekToFirst(); it.valid(); it.next()) {
      out.set(Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)).toString('latin1'),
        Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen)).toString('latin1'))
    }
  } finally {
    it.close()
  }
  return out
}

/** Keys whose values differ between a and b (at most `limit` of them). */
function differences (a: Map<string, string>, b: Map<string, string>, limit = 5): string[] {
  const out: string[] = []
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(key) !== b.get(key)) out.push(key)
    if (out.length >= limit) break
  }
  return out
}

function sameContents (t: test.Test, actual: Map<string, string>, expected: Map<string, string>, message: string): void {
  const diff = differences(actual, expected)
  t.ok(actual.size === expected.size && diff.length === 0,
    `${message} (${actual.size} entries, expected ${expected.size}${diff.length > 0 ? `; differ at ${diff.join(', ')}` : ''})`)
}

function tableCount (db: Db): number {
  let n = 0
  for (let level = 0; level < NUM_LEVELS; level++) n += db.numFilesAtLevel(level)
  return n
}

/** A value that names its key and the write that made it, padded to `length`. */
function makeValue (key: string, writeIndex: number, length: number): string {
  const head = `${key}@${writeIndex}:`
  return head + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(length / 36)).slice(0, Math.max(0, length - head.length))
}

interface ManifestState {
  name: string
  /** Where a torn tail began (-1 when none). */
  tornAt: number
  records: number
  logNumber: number | undefined
  nextFileNumber: number | undefined
  lastSequence: number | undefined
  /** Live table number -> recorded size. */
  tables: Map<number, number>
}

/** Reads CURRENT and replays the MANIFEST it names (throws LEVEL_CORRUPTION on damage). */
function readManifestFrom (current: Buffer, manifest: (name: string) => Buffer | undefined): ManifestState {
  const text = current.toString('latin1')
  if (!/^MANIFEST-\d+\n$/.test(text)) throw new Error(`CURRENT holds ${JSON.stringify(text)}`)
  const name = text.slice(0, -1)
  const data = manifest(name)
  if (data === undefined) throw new Error(`CURRENT names ${name}, which does not exist`)
  const reader = new LogReader(data, name)
  const state: ManifestState = {
    name, tornAt: -1, records: 0, logNumber: undefined, nextFileNumber: undefined, lastSequence: undefined, tables: new Map()
  }
  for (let record = reader.readRecord(); record !== undefined; record = reader.readRecord()) {
    const edit = VersionEdit.decode(record, `${name} at ${reader.recordOffset}`)
    state.records++
    for (const [, number] of edit.deletedFiles) state.tables.delete(number)
    for (const { file } of edit.newFiles) state.tables.set(file.number, file.fileSize)
    state.logNumber = edit.logNumber ?? state.logNumber
    state.nextFileNumber = edit.nextFileNumber ?? state.nextFileNumber
    state.lastSequence = edit.lastSequence ?? state.lastSequence
  }
  state.tornAt = reader.tornAt
  return state
}

function readManifest (dir: string): ManifestState {
  return readManifestFrom(fs.readFileSync(path.join(dir, 'CURRENT')), (name) => {
    const file = path.join(dir, name)
    return fs.existsSync(file) ? fs.readFileSync(file) : undefined
  })
}

const tableName = (n: number): string => `${String(n).padStart(6, '0')}.ldb`

/**
 * Checks that CURRENT names a complete MANIFEST: it replays without damage, holds the log number, next file
 * and last sequence, and every table it names exists at the size it records.
 */
function checkManifestComplete (t: test.Test, dir: string, label: string): ManifestState | undefined {
  let state: ManifestState
  try {
    state = readManifest(dir)
  } catch (err: any) {
    t.fail(`${label}: CURRENT names a readable MANIFEST (${err.message})`)
    return undefined
  }
  t.ok(state.logNumber !== undefined && state.nextFileNumber !== undefined && state.lastSequence !== undefined,
    `${label}: ${state.name} holds the log number, next file and last sequence`)
  const bad = [...state.tables].filter(([n, size]) => {
    const file = path.join(dir, tableName(n))
    return !fs.existsSync(file) || fs.statSync(file).size !== size
  })
  t.same(bad.map(([n]) => tableName(n)), [], `${label}: every table ${state.name} names exists, complete`)
  return state
}

function tablesOnDisk (dir: string): number[] {
  return fs.readdirSync(dir).filter((n) => /^\d+\.ldb$/.test(n)).map((n) => Number(n.slice(0, -4))).sort((a, b) => a - b)
}

/** Every file of dir: name -> bytes. */
function snapshotDir (dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const name of fs.readdirSync(dir).sort()) out.set(name, fs.readFileSync(path.join(dir, name)))
  return out
}

function sameFiles (t: test.Test, after: Map<string, Buffer>, before: Map<string, Buffer>, message: string): void {
  const added = [...after.keys()].filter((n) => !before.has(n))
  const removed = [...before.keys()].filter((n) => !after.has(n))
  const changed = [...before.keys()].filter((n) => after.has(n) && !after.get(n)!.equals(before.get(n)!))
  t.ok(added.length === 0 && removed.length === 0 && changed.length === 0,
    `${message}${added.length + removed.length + changed.length > 0 ? ` (added ${added.join(', ') || '-'}; removed ${removed.join(', ') || '-'}; changed ${changed.join(', ') || '-'})` : ''}`)
}

// --- a flush that fails -------------------------------------------------------------------------------------

/**
 * Writes until the first flush succeeds, then arms `spec` and writes until a write fails (the flush the fault
 * breaks puts the Db in its error state). Checks the error state, the reads, the MANIFEST and a reopen.
 */
async function flushFailure (t: test.Test, spec: FaultSpec): Promise<void> {
  const dir = newDir('flush-fault')
  const fsys = new CrashFileSystem()
  const db = await openDb(dir, fsys)
  const model = new Map<string, string>()
  let n = 0
  const put = async (sync: boolean): Promise<void> => {
    const key = `key${String(n % 150).padStart(4, '0')}`
    const value = makeValue(key, n, 900 + (n * 37) % 400)
    n++
    await attempt(() => db.put(key, value, sync))
    model.set(key, value)
  }
  for (let i = 0; i < 100; i++) await put(i % 5 === 0)
  await db.del('key0003')
  model.delete('key0003')
  t.ok(tableCount(db) >= 1, `a flush succeeded before the fault (${tableCount(db)} tables)`)
  const tablesBefore = tableCount(db)
  const sstablesBefore = db.getProperty('leveldb.sstables')
  const manifestBefore = readManifest(dir)

  const fault = fsys.fail(spec)
  let failed: Caught | undefined
  for (let i = 0; i < 400 && failed === undefined; i++) {
    try {
      await put(i % 4 === 0)
    } catch (err: any) {
      failed = err
    }
  }
  t.is(fault.fired, 1, 'the fault fired once, during a flush')
  t.ok(isIoError(failed), `a later write fails with LEVEL_IO_ERROR (${failed?.message})`)
  t.ok(isIoError(await failure(() => db.put('after', 'x'))), 'a put fails with LEVEL_IO_ERROR')
  t.ok(isIoError(await failure(() => db.del('key0001', true))), 'a sync del fails with LEVEL_IO_ERROR')
  t.ok(isIoError(await failure(() => db.write((b) => { b.put('batch', 'x') }))), 'a batch fails with LEVEL_IO_ERROR')
  t.ok(isIoError(await failure(() => db.flush())), 'flush() fails with LEVEL_IO_ERROR')

  const missing = [...model].filter(([k, v]) => read(db, k) !== v).map(([k]) => k)
  t.same(missing.slice(0, 5), [], `get serves all ${model.size} acknowledged keys`)
  sameContents(t, contents(db), model, 'an iterator serves exactly the acknowledged writes')

  t.is(tableCount(db), tablesBefore, 'the current version holds no new table')
  t.is(db.getProperty('leveldb.sstables'), sstablesBefore, 'leveldb.sstables is unchanged')
  const manifest = checkManifestComplete(t, dir, 'after the failed flush')
  if (manifest !== undefined) {
    const added = [...manifest.tables.keys()].filter((k) => !manifestBefore.tables.has(k))
    if (spec.op === 'sync' && spec.kind === 'manifest') {
      // The edit's bytes reached the file before its fdatasync failed: the table it names must be complete
      // (checked above) and kept.
      t.ok(added.length <= 1, `the MANIFEST names at most the flushed table (${added.map(tableName).join(', ') || 'none'})`)
    } else {
      t.same(added.map(tableName), [], 'the MANIFEST names no new table')
    }
    const orphans = tablesOnDisk(dir).filter((k) => !manifest.tables.has(k))
    if (spec.kind === 'manifest') {
      // The flushed table was complete before its edit failed; the next open deletes it as garbage.
      t.ok(orphans.length <= 1, `at most the flushed table is on disk unnamed (${orphans.map(tableName).join(', ') || 'none'})`)
    } else {
      t.same(orphans.map(tableName), [], 'no partial table is left on disk')
    }
  }
  await db.close()

  const reopened = await openDb(dir)
  sameContents(t, contents(reopened), model, 'a reopen with a healthy file system returns every acknowledged write')
  await reopened.put('key0001', 'new', true)
  await reopened.close()
  const reopenedManifest = checkManifestComplete(t, dir, 'after the reopen')
  t.same(tablesOnDisk(dir), [...(reopenedManifest?.tables.keys() ?? [])].sort((a, b) => a - b), 'the tables on disk are those the MANIFEST names')
  const again = await openDb(dir)
  t.is(read(again, 'key0001'), 'new', 'and the reopened database takes new writes that survive another reopen')
  await again.close()
}

const TABLE_FAULTS: Array<[string, FaultSpec]> = [
  ['ENOSPC on the first append to the table', { op: 'append', kind: 'table', code: 'ENOSPC' }],
  ['ENOSPC after half of the table\'s append', { op: 'append', kind: 'table', code: 'ENOSPC', partial: true }],
  ['EIO on the table fdatasync', { op: 'sync', kind: 'table', code: 'EIO' }],
  ['ENOSPC creating the table', { op: 'openWritable', kind: 'table', code: 'ENOSPC' }]
]

for (const [label, spec] of TABLE_FAULTS) {
  test(`flush: ${label} puts the Db in its error state, reads serve everything, the MANIFEST is unchanged, a reopen returns every acknowledged write`,
    (t) => flushFailure(t, spec))
}

const MANIFEST_FAULTS: Array<[string, FaultSpec]> = [
  ['ENOSPC on the MANIFEST append', { op: 'append', kind: 'manifest', code: 'ENOSPC' }],
  ['ENOSPC after half of the MANIFEST append', { op: 'append', kind: 'manifest', code: 'ENOSPC', partial: true }],
  ['EIO on the MANIFEST fdatasync', { op: 'sync', kind: 'manifest', code: 'EIO' }]
]

for (const [label, spec] of MANIFEST_FAULTS) {
  test(`flush: ${label} puts the Db in its error state; CURRENT still names a complete MANIFEST; a reopen returns every acknowledged write`,
    (t) => flushFailure(t, spec))
}

test('flush: ENOSPC creating the new WAL at the memtable switch puts the Db in its error state and loses no acknowledged write', async (t) => {
  const dir = newDir('switch-fault')
  const fsys = new CrashFileSystem()
  const db = await openDb(dir, fsys)
  const model = new Map<string, string>()
  const fault = fsys.fail({ op: 'openWritable', kind: 'log', code: 'ENOSPC' })
  let failed: Caught | undefined
  for (let i = 0; i < 400 && failed === undefined; i++) {
    const key = `k${i}`
    const value = makeValue(key, i, 1000)
    try {
      await attempt(() => db.put(key, value, i % 3 === 0))
      model.set(key, value)
    } catch (err: any) {
      failed = err
    }
  }
  t.is(fault.fired, 1, 'the fault fired')
  t.ok(isIoError(failed), 'the write that needed the switch fails with LEVEL_IO_ERROR')
  t.ok(isIoError(await failure(() => db.put('after', 'x'))), 'later writes fail with LEVEL_IO_ERROR')
  sameContents(t, contents(db), model, 'reads serve every acknowledged write')
  await db.close()
  const reopened = await openDb(dir)
  sameContents(t, contents(reopened), model, 'a reopen returns every acknowledged write')
  await reopened.close()
})

// --- an open that fails -------------------------------------------------------------------------------------

let template: { dir: string, model: Map<string, string> } | undefined

/**
 * A database of two flushed tables and a log still holding writes (close does not flush), made once and copied
 * for each test.
 */
async function existingDatabase (): Promise<{ dir: string, model: Map<string, string> }> {
  if (template === undefined) {
    const dir = newDir('template')
    const db = await openDb(dir)
    const model = new Map<string, string>()
    for (let i = 0; i < 170; i++) {
      const key = `key${String((i * 7) % 120).padStart(4, '0')}`
      const value = makeValue(key, i, 1000)
      await db.put(key, value, i % 10 === 0)
      model.set(key, value)
      if (i % 13 === 0) {
        await db.del(`key${String(i % 120).padStart(4, '0')}`)
        model.delete(`key${String(i % 120).padStart(4, '0')}`)
      }
    }
    if (tableCount(db) < 2) throw new Error(`expected two flushes, got ${tableCount(db)} tables`)
    await db.close()
    const logs = fs.readdirSync(dir).filter((n) => n.endsWith('.log'))
    if (logs.length !== 1 || fs.statSync(path.join(dir, logs[0])).size === 0) throw new Error('expected a non-empty log')
    template = { dir, model }
  }
  const dir = newDir('existing')
  fs.cpSync(template.dir, dir, { recursive: true })
  return { dir, model: template.model }
}

const RECOVERY_FAULTS: Array<[string, FaultSpec]> = [
  ['EIO reading the log', { op: 'readFile', kind: 'log' }],
  ['EIO reading the MANIFEST', { op: 'readFile', kind: 'manifest' }],
  ['ENOSPC on the table write during log replay', { op: 'append', kind: 'table', code: 'ENOSPC' }],
  ['ENOSPC creating the table during log replay', { op: 'openWritable', kind: 'table', code: 'ENOSPC' }],
  ['EIO on the fdatasync of the table written during log replay', { op: 'sync', kind: 'table' }],
  ['ENOSPC creating the new WAL', { op: 'openWritable', kind: 'log', code: 'ENOSPC' }],
  ['ENOSPC creating the new MANIFEST', { op: 'openWritable', kind: 'manifest', code: 'ENOSPC' }],
  ['ENOSPC after half of the new MANIFEST\'s first append', { op: 'append', kind: 'manifest', code: 'ENOSPC', partial: true }],
  ['ENOSPC on the new MANIFEST\'s second append', { op: 'append', kind: 'manifest', nth: 2, code: 'ENOSPC' }],
  ['EIO on the new MANIFEST\'s fdatasync', { op: 'sync', kind: 'manifest' }],
  ['EIO on the directory fsync before CURRENT is switched', { op: 'syncDir', when: (_, calls) => !calls.some((c) => c.op === 'rename') }],
  ['ENOSPC creating CURRENT\'s temp file', { op: 'openWritable', kind: 'temp', code: 'ENOSPC' }],
  ['ENOSPC writing CURRENT\'s temp file', { op: 'append', kind: 'temp', code: 'ENOSPC' }],
  ['EIO on the fdatasync of CURRENT\'s temp file', { op: 'sync', kind: 'temp' }],
  ['EIO renaming the temp file over CURRENT', { op: 'rename', kind: 'current' }]
]

const DEFERRED_TABLE_FAULTS: Array<[string, FaultSpec]> = [
  ['ENOSPC on the append to', { op: 'append', kind: 'table', code: 'ENOSPC' }],
  ['ENOSPC creating', { op: 'openWritable', kind: 'table', code: 'ENOSPC' }],
  ['EIO on the fdatasync of', { op: 'sync', kind: 'table' }]
]

for (const [label, spec] of DEFERRED_TABLE_FAULTS) {
  test(`open with room on the disk: ${label} of the recovered memtable's table, written after the open, puts the Db in its error state; reads serve everything, the log stays, a healthy reopen has all data`, async (t) => {
    const { dir, model } = await existingDatabase()
    const log = fs.readdirSync(dir).find((n) => n.endsWith('.log'))!
    const fsys = new CrashFileSystem()
    const fault = fsys.fail(spec)
    const db = await openDb(dir, fsys)
    // approximateSize answers once the recovered memtable's flush has ended (installed or failed).
    await db.approximateSize(Buffer.from('a'), Buffer.from('z'))
    t.is(fault.fired, 1, 'the fault fired after the open resolved')
    sameContents(t, contents(db), model, 'an iterator serves every acknowledged write')
    const err = await failure(() => db.put('key0001', 'after'))
    t.ok(isIoError(err), `a write fails with LEVEL_IO_ERROR (${err?.message})`)
    await db.close()
    t.ok(fs.existsSync(path.join(dir, log)), `the recovered log ${log} is still there`)
    const manifest = checkManifestComplete(t, dir, 'after the failed flush')
    t.same(tablesOnDisk(dir).filter((k) => manifest !== undefined && !manifest.tables.has(k)), [], 'no table the MANIFEST does not name is on disk')
    const again = await openDb(dir)
    sameContents(t, contents(again), model, 'a healthy reopen has every write')
    await again.close()
  })
}

test('a reopen fdatasyncs the recovered log before its new log takes a write: power loss at that first append keeps every earlier write', async (t) => {
  const dir = newDir('recovered-log-sync')
  const fsys = new CrashFileSystem()
  const model = new Map<string, string>()
  const first = await openDb(dir, fsys)
  for (let i = 0; i < 50; i++) {
    await first.put(`key${i}`, `v${i}`)
    model.set(`key${i}`, `v${i}`)
  }
  await first.close()
  const log = fs.readdirSync(dir).find((n) => n.endsWith('.log'))!
  const inode = fsys.inode(path.join(dir, log))!
  t.ok(inode.synced < inode.length, `the first session left its log unsynced (${inode.synced} of ${inode.length} bytes)`)
  // The disk as a power loss would leave it just before the first write reaches the reopened database's log.
  const crashed = newDir('recovered-log-sync-crashed')
  let captured = false
  fsys.onCall = (call) => {
    if (captured || call.op !== 'append' || call.kind !== 'log' || path.basename(call.path) === log) return
    captured = true
    fsys.materialise(dir, crashed, { data: 'synced', names: 'durable' })
  }
  const second = await openDb(dir, fsys)
  await second.put('after', 'sync', true)
  await second.close()
  t.ok(captured, 'the new log took a write')
  const reopened = await openDb(crashed)
  sameContents(t, contents(reopened), model, 'after power loss at that point: every write of the first session')
  await reopened.close()
})

/** The directory fsync right after a rename over CURRENT. */
function afterCurrentRename (_: FsCall, calls: readonly FsCall[]): boolean {
  const previous = previousMutation(calls)
  return previous?.op === 'rename' && path.basename(previous.to ?? '') === 'CURRENT'
}

for (const [label, spec] of RECOVERY_FAULTS) {
  test(`open: ${label} fails the open with LEVEL_IO_ERROR, leaves every file as it was, and a healthy open then has all data`, async (t) => {
    const { dir, model } = await existingDatabase()
    const before = snapshotDir(dir)
    const fsys = new CrashFileSystem()
    // A disk that reports no room left: the open writes the recovered memtable's table itself (rather than
    // after it resolves), so that a fault on that table fails the open as in LevelDB.
    if (spec.kind === 'table') fsys.room = 0
    const fault = fsys.fail(spec)
    const err = await failure(async () => { await openDb(dir, fsys) })
    t.is(fault.fired, 1, 'the fault fired')
    t.ok(isIoError(err), `the open fails with LEVEL_IO_ERROR (${err?.message})`)
    sameFiles(t, snapshotDir(dir), before, 'the directory holds the same files with the same bytes')
    const db = await openDb(dir)
    sameContents(t, contents(db), model, 'a healthy open has every write')
    await db.close()
  })
}

test('open: EIO on the directory fsync after CURRENT is renamed never leaves CURRENT naming a deleted MANIFEST', async (t) => {
  const { dir, model } = await existingDatabase()
  const fsys = new CrashFileSystem()
  const fault = fsys.fail({ op: 'syncDir', when: afterCurrentRename })
  const err = await failure(async () => { const db = await openDb(dir, fsys); await db.close() })
  t.is(fault.fired, 1, 'the fault fired after the rename')
  t.ok(err === undefined || isIoError(err), `the open succeeds or fails with LEVEL_IO_ERROR (${err?.message ?? 'succeeded'})`)
  checkManifestComplete(t, dir, 'after the open')
  const reopen = await failure(async () => {
    const db = await openDb(dir)
    sameContents(t, contents(db), model, 'a healthy open has every write')
    await db.close()
  })
  t.is(reopen?.message, undefined, 'a healthy open succeeds')
})

test('open of a new database: EIO on the directory fsync after CURRENT is written leaves an openable directory', async (t) => {
  const dir = newDir('create-fault')
  const fsys = new CrashFileSystem()
  const fault = fsys.fail({ op: 'syncDir', when: afterCurrentRename })
  const err = await failure(async () => { const db = await openDb(dir, fsys); await db.close() })
  t.is(fault.fired, 1, 'the fault fired (the fsync after CURRENT\'s rename in NewDB)')
  t.ok(err === undefined || isIoError(err), `the open succeeds or fails with LEVEL_IO_ERROR (${err?.message ?? 'succeeded'})`)
  const reopen = await failure(async () => {
    const db = await openDb(dir)
    await db.put('a', '1', true)
    t.is(read(db, 'a'), '1', 'and takes writes')
    await db.close()
  })
  t.is(reopen?.message, undefined, 'a healthy open succeeds')
})

test('open of a new database: ENOSPC creating MANIFEST-000001 leaves only LOCK behind, and a healthy open then creates it', async (t) => {
  const dir = newDir('create-fault')
  const fsys = new CrashFileSystem()
  const fault = fsys.fail({ op: 'openWritable', kind: 'manifest', code: 'ENOSPC' })
  const err = await failure(async () => { await openDb(dir, fsys) })
  t.is(fault.fired, 1, 'the fault fired')
  t.ok(isIoError(err), `the open fails with LEVEL_IO_ERROR (${err?.message})`)
  t.same(fs.readdirSync(dir), ['LOCK'], 'only LOCK is left')
  const db = await openDb(dir)
  await db.put('a', '1', true)
  await db.close()
  const again = await openDb(dir)
  t.is(read(again, 'a'), '1', 'the database works')
  await again.close()
})

// --- crashes ------------------------------------------------------------------------------------------------

interface ScriptWrite {
  kind: 'put' | 'del' | 'batch'
  ops: Array<[string, string | undefined]>
  sync: boolean
}

type Step = ScriptWrite[] | 'reopen'

/**
 * Sync and plain puts, deletes and batches of 1-3 writes per tick; values of 200-2200 bytes so that a 64 KiB
 * memtable fills every ~50 writes; a close and reopen in the middle (so the crash points cover recovery too).
 */
function makeScript (seed: number): Step[] {
  const rnd = new Random(seed)
  const steps: Step[] = []
  let index = 0
  const key = (): string => `key${String(rnd.int(80)).padStart(3, '0')}`
  const phase = (count: number): void => {
    for (let s = 0; s < count; s++) {
      const step: ScriptWrite[] = []
      for (let w = rnd.range(1, 3); w > 0; w--) {
        const sync = rnd.chance(0.3)
        const r = rnd.u32() / 0x100000000
        if (r < 0.55) {
          const k = key()
          step.push({ kind: 'put', ops: [[k, makeValue(k, index, rnd.range(200, 2200))]], sync })
        } else if (r < 0.7) {
          step.push({ kind: 'del', ops: [[key(), undefined]], sync })
        } else {
          const ops: Array<[string, string | undefined]> = []
          for (let o = rnd.range(2, 5); o > 0; o--) {
            const k = key()
            ops.push([k, rnd.chance(0.25) ? undefined : makeValue(k, index, rnd.range(100, 800))])
          }
          step.push({ kind: 'batch', ops, sync })
        }
        index++
      }
      steps.push(step)
    }
  }
  phase(90)
  steps.push('reopen')
  phase(70)
  return steps
}

interface History {
  /** Writes issued (their call returned a promise), in sequence order. */
  issued: ScriptWrite[]
  /** Writes [0, durable) must survive any crash: acknowledged with sync, or before one, or recovered by an open. */
  durable: number
  /** Sync writes acknowledged. */
  syncAcks: number
  /** Tables written (flushes and recovery). */
  tables: number
}

function issue (db: Db, w: ScriptWrite): Promise<void> {
  switch (w.kind) {
    case 'put': return db.put(w.ops[0][0], w.ops[0][1]!, w.sync)
    case 'del': return db.del(w.ops[0][0], w.sync)
    case 'batch': return db.write((b) => {
      for (const [k, v] of w.ops) {
        if (v === undefined) b.del(k)
        else b.put(k, v)
      }
    }, w.sync)
  }
}

/** Runs the script until it ends or a call fails (as every call does once the file system has crashed). */
async function runScript (dir: string, fsys: CrashFileSystem, script: Step[]): Promise<History> {
  const history: History = { issued: [], durable: 0, syncAcks: 0, tables: 0 }
  let db: Db
  try {
    db = await openDb(dir, fsys)
  } catch {
    return history
  }
  try {
    for (const step of script) {
      if (step === 'reopen') {
        await db.close()
        db = await openDb(dir, fsys)
        // The open wrote what it recovered to synced tables and a new MANIFEST before deleting the logs.
        history.durable = history.issued.length
        continue
      }
      const writes: Array<Promise<void>> = []
      for (const w of step) {
        let p: Promise<void>
        try {
          p = issue(db, w)
        } catch {
          break
        }
        const index = history.issued.push(w) - 1
        writes.push(p.then(() => {
          if (!w.sync) return
          history.syncAcks++
          history.durable = Math.max(history.durable, index + 1)
        }))
      }
      const results = await Promise.allSettled(writes)
      if (writes.length < step.length || results.some((r) => r.status === 'rejected')) break
    }
  } catch {
    // The reopen's open failed: nothing to close.
    return history
  } finally {
    history.tables = fsys.calls.filter((c) => c.op === 'openWritable' && c.kind === 'table').length
  }
  await db.close().catch(() => {})
  return history
}

function apply (model: Map<string, string>, w: ScriptWrite): void {
  for (const [k, v] of w.ops) {
    if (v === undefined) model.delete(k)
    else model.set(k, v)
  }
}

/**
 * Whether `actual` is the state after some prefix of the issued writes no shorter than history.durable: returns
 * undefined if so, else a description of the closest prefix.
 */
function explainNotAPrefix (actual: Map<string, string>, history: History): string | undefined {
  const model = new Map<string, string>()
  for (let i = 0; i < history.durable; i++) apply(model, history.issued[i])
  const mismatched = new Set<string>()
  for (const key of new Set([...actual.keys(), ...model.keys()])) {
    if (actual.get(key) !== model.get(key)) mismatched.add(key)
  }
  let best = { k: history.durable, count: mismatched.size, keys: [...mismatched].slice(0, 3) }
  for (let k = history.durable; ; k++) {
    if (mismatched.size === 0) return undefined
    if (mismatched.size < best.count) best = { k, count: mismatched.size, keys: [...mismatched].slice(0, 3) }
    if (k === history.issued.length) break
    apply(model, history.issued[k])
    for (const [key] of history.issued[k].ops) {
      if (actual.get(key) !== model.get(key)) mismatched.add(key)
      else mismatched.delete(key)
    }
  }
  const shown = best.keys.map((key) => `${key}: found ${JSON.stringify(actual.get(key)?.slice(0, 16))}`).join('; ')
  return `no prefix of the ${history.issued.length} issued writes from ${history.durable} on matches; closest is ${best.k} ` +
    `with ${best.count} keys differing (${shown})`
}

/** Opens the crashed state, checks it against the history, then checks that it takes writes that survive a reopen. */
async function verifyRecovered (dir: string, history: History): Promise<string | undefined> {
  let db: Db
  try {
    db = await openDb(dir)
  } catch (err: any) {
    return `open failed: ${err.code} ${err.message}`
  }
  try {
    const problem = explainNotAPrefix(contents(db), history)
    if (problem !== undefined) return problem
    // New writes must get sequence numbers above every recovered one (or they would be shadowed).
    await db.put('key000', 'after the crash', true)
    await db.put('post', 'crash', true)
  } catch (err: any) {
    return `reading or writing the recovered database failed: ${err.code} ${err.message}`
  } finally {
    await db.close()
  }
  try {
    db = await openDb(dir)
  } catch (err: any) {
    return `the second open failed: ${err.code} ${err.message}`
  }
  const after = [read(db, 'key000'), read(db, 'post')]
  await db.close()
  if (after[0] !== 'after the crash' || after[1] !== 'crash') return `writes after recovery lost on reopen: ${JSON.stringify(after)}`
  return undefined
}

const CRASH_STATES: Array<[string, CrashState]> = [
  ['process killed: every written byte and name change survives', { data: 'written', names: 'current' }],
  ['power loss, metadata journaled: unsynced bytes are zeros', { data: 'zeroed', names: 'current' }],
  ['power loss, metadata journaled: unsynced appends torn in half', { data: 'torn', names: 'current' }],
  ['power loss, strict POSIX: only synced bytes, and only names a directory fsync made durable', { data: 'synced', names: 'durable' }]
]

test('crash at every I/O call of a workload (flushes, a reopen): reopening keeps every sync-acknowledged write, invents none, and never reports corruption', async (t) => {
  // Every run must make the same calls up to its crash: commits and syncs may not depend on the clock.
  eventLoopBudget.sliceMs = Infinity
  t.teardown(() => { eventLoopBudget.sliceMs = SLICE_MS })
  const script = makeScript(20240611)
  const dryDir = newDir('crash-dry')
  const dry = new CrashFileSystem()
  const full = await runScript(dryDir, dry, script)
  const total = dry.mutations
  const mutating = dry.calls.filter((c) => c.mutation > 0)
  t.ok(full.tables >= 5, `the workload flushes several memtables (${full.tables} tables written)`)
  t.ok(full.syncAcks > 20, `it acknowledges sync writes (${full.syncAcks} of ${full.issued.length} writes)`)
  t.is(await verifyRecovered(copyState(dry, dryDir, CRASH_STATES[0][1]), { ...full, durable: full.issued.length }), undefined,
    'the uncrashed run, its files as written, recovers every write')

  // Every mutating call, and once more after the last (a crash once the script has ended).
  const points = Array.from({ length: total + 1 }, (_, i) => i + 1)

  const failures = CRASH_STATES.map(() => [] as string[])
  let diverged = 0
  for (const n of points) {
    const dir = newDir('crash-run')
    const fsys = new CrashFileSystem()
    fsys.crashAt = n
    const history = await runScript(dir, fsys, script)
    const seen = fsys.calls.filter((c) => c.mutation > 0 && c.mutation < n)
    if (seen.some((c, i) => c.op !== mutating[i].op || path.relative(dir, c.path) !== path.relative(dryDir, mutating[i].path))) diverged++
    const at = mutating[n - 1] === undefined ? 'after the end' : `${mutating[n - 1].op} ${path.relative(dryDir, mutating[n - 1].path) || 'the directory'}`
    for (let s = 0; s < CRASH_STATES.length; s++) {
      const copy = copyState(fsys, dir, CRASH_STATES[s][1])
      const problem = await verifyRecovered(copy, history)
      if (problem !== undefined) failures[s].push(`crash at call ${n} (${at}; ${history.durable}/${history.issued.length} durable): ${problem}`)
      else fs.rmSync(copy, { recursive: true, force: true })
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
  t.is(diverged, 0, `every run repeats the dry run's calls up to its crash (${points.length} crash points of ${total} calls)`)
  CRASH_STATES.forEach(([label], s) => {
    for (const f of failures[s].slice(0, 4)) t.comment(f)
    t.is(failures[s].length, 0, `${label}: every crash point recovers (${failures[s].length} of ${points.length} fail)`)
  })
})

/** Materialises the crashed state of dir in a new directory and returns it. */
function copyState (fsys: CrashFileSystem, dir: string, state: CrashState): string {
  const copy = newDir(`crashed-${state.data}-${state.names}`)
  fsys.materialise(dir, copy, state)
  return copy
}

// --- obsolete files -----------------------------------------------------------------------------------------

test('obsolete logs, MANIFESTs (and tables) are deleted only after the MANIFEST durably records that they are obsolete', async (t) => {
  const dir = newDir('obsolete')
  const fsys = new CrashFileSystem()
  const problems: string[] = []
  let checked = 0
  fsys.onCall = (call: FsCall) => {
    if (call.op !== 'unlink' || (call.kind !== 'log' && call.kind !== 'manifest' && call.kind !== 'table')) return
    checked++
    const number = Number(/(\d+)(\.log|\.ldb)?$/.exec(path.basename(call.path))![1])
    // What the disk holds if the machine fails right after this unlink: synced bytes, every name change so far.
    const state: CrashState = { data: 'synced', names: 'current' }
    let manifest: ManifestState
    try {
      manifest = readManifestFrom(fsys.contentAfterCrash(path.join(dir, 'CURRENT'), state) ?? Buffer.alloc(0),
        (name) => fsys.contentAfterCrash(path.join(dir, name), state))
    } catch (err: any) {
      problems.push(`unlink ${path.basename(call.path)}: no durable MANIFEST (${err.message})`)
      return
    }
    if (call.kind === 'log' && !(manifest.logNumber !== undefined && manifest.logNumber > number)) {
      problems.push(`unlink ${path.basename(call.path)} while the durable ${manifest.name} has log number ${manifest.logNumber}`)
    }
    if (call.kind === 'manifest' && manifest.name === path.basename(call.path)) {
      problems.push(`unlink ${manifest.name} while the durable CURRENT names it`)
    }
    if (call.kind === 'table' && manifest.tables.has(number)) {
      problems.push(`unlink ${path.basename(call.path)} while the durable ${manifest.name} names it`)
    }
  }
  const script = makeScript(7)
  const history = await runScript(dir, fsys, script)
  t.ok(history.tables >= 4, `the workload flushed (${history.tables} tables)`)
  const unlinks = fsys.calls.filter((c) => c.op === 'unlink')
  t.ok(unlinks.filter((c) => c.kind === 'log').length >= history.tables - 1, `old logs were deleted (${unlinks.filter((c) => c.kind === 'log').length})`)
  t.ok(unlinks.some((c) => c.kind === 'manifest'), 'the reopen deleted the old MANIFEST')
  t.same(problems, [], `each of the ${checked} deletions came after the MANIFEST durably recorded it`)

  // The same from the order of calls: no MANIFEST append is still unsynced when a file is unlinked.
  let unsynced = false
  let misordered = 0
  for (const c of fsys.calls) {
    if (c.kind === 'manifest' && c.op === 'append') unsynced = true
    if (c.kind === 'manifest' && c.op === 'sync') unsynced = false
    if (c.op === 'unlink' && (c.kind === 'log' || c.kind === 'manifest' || c.kind === 'table') && unsynced) misordered++
  }
  t.is(misordered, 0, 'in the call log every unlink follows the MANIFEST sync after its last append')

  const names = fs.readdirSync(dir).sort()
  t.same(names.filter((n) => n.endsWith('.log')).length, 1, `one log is left (${names.join(' ')})`)
  t.same(names.filter((n) => n.startsWith('MANIFEST-')).length, 1, 'one MANIFEST is left')
  const manifest = checkManifestComplete(t, dir, 'at the end')
  t.same(tablesOnDisk(dir), [...(manifest?.tables.keys() ?? [])].sort((a, b) => a - b), 'the tables on disk are exactly those the MANIFEST names')
})

test('a flush deletes the flushed memtable\'s WAL once installed, and an iterator made before it still reads everything', async (t) => {
  const dir = newDir('pinned')
  const fsys = new CrashFileSystem()
  const db = await openDb(dir, fsys)
  const model = new Map<string, string>()
  for (let i = 0; i < 30; i++) {
    const key = `a${String(i).padStart(3, '0')}`
    model.set(key, makeValue(key, i, 500))
    await db.put(key, model.get(key)!, i === 29)
  }
  const wal = fs.readdirSync(dir).filter((n) => n.endsWith('.log'))
  t.is(wal.length, 1, `one WAL before the flush (${wal.join(' ')})`)
  const it = db.iterator()
  const before = new Map(model)

  fsys.calls.length = 0
  await db.flush()
  t.is(tableCount(db), 1, 'the flush installed a table')
  t.notOk(fs.existsSync(path.join(dir, wal[0])), `the flushed memtable's WAL ${wal[0]} is deleted`)
  const order = fsys.calls.filter((c) => (c.kind === 'manifest' && c.op === 'sync') || (c.op === 'unlink' && path.basename(c.path) === wal[0]))
  t.same(order.map((c) => `${c.op} ${path.basename(c.path)}`).map((s) => s.split(' ')[0]), ['sync', 'unlink'], 'its unlink follows the MANIFEST sync')

  // Writes after the iterator was made: invisible to it; more flushes: its memtable and version stay pinned.
  for (let i = 0; i < 200; i++) {
    const key = `a${String(i % 60).padStart(3, '0')}`
    model.set(key, makeValue(key, 1000 + i, 900))
    await db.put(key, model.get(key)!)
  }
  await db.del('a001')
  model.delete('a001')
  await db.flush()
  const flushes = fsys.calls.filter((c) => c.op === 'openWritable' && c.kind === 'table').length
  t.ok(flushes >= 3, `more flushes happened (${flushes} tables written)`)
  const seen = new Map<string, string>()
  for (it.seekToFirst(); it.valid(); it.next()) {
    seen.set(Buffer.from(it.keyBuf.subarray(it.keyOff, it.keyOff + it.keyLen)).toString('latin1'),
      Buffer.from(it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen)).toString('latin1'))
  }
  it.close()
  sameContents(t, seen, before, 'the iterator reads exactly what existed when it was made')
  sameContents(t, contents(db), model, 'a new iterator reads the current state')

  // An iterator over tables keeps them while newer flushes install new versions.
  const it2 = db.iterator()
  const tables = tablesOnDisk(dir)
  for (let i = 0; i < 100; i++) await db.put(`b${i}`, makeValue(`b${i}`, i, 900))
  await db.flush()
  t.ok(tables.every((n) => fs.existsSync(path.join(dir, tableName(n)))), 'every table the iterator\'s version names still exists')
  let count = 0
  for (it2.seekToFirst(); it2.valid(); it2.next()) count++
  it2.close()
  t.is(count, model.size, 'the second iterator reads its snapshot')
  await db.close()
})

// --- durable prefixes ---------------------------------------------------------------------------------------

test('a sync write made while an fdatasync runs and just before a log switch is acknowledged only once its own log is synced', async (t) => {
  // S's fdatasync of log A is running when G (sync) is written to A and fills the memtable; the next write
  // switches to log B, and the switch syncs A again (held here: a slow disk). The sync loop's next round
  // syncs the current log, B: that must not acknowledge G, whose bytes are in A. The MANIFEST's syncs are
  // held too, so that the flush of A's memtable cannot make G durable in a table instead.
  // Each write below must be its own commit, at once: no commit deferred to a turn of the event loop.
  eventLoopBudget.sliceMs = Infinity
  t.teardown(() => { eventLoopBudget.sliceMs = SLICE_MS })
  const dir = newDir('sync-across-switch')
  const fsys = new CrashFileSystem()
  const db = await openDb(dir, fsys)
  let i = 0
  while (db.memoryUsage < WRITE_BUFFER - 8 * 1024) {
    const key = `key${String(i).padStart(5, '0')}`
    await db.put(key, makeValue(key, i++, 1000))
  }
  const logA = fsys.calls.filter((c) => c.op === 'openWritable' && c.kind === 'log').pop()?.path ?? ''
  const acked = new Set<string>()
  const sync = (key: string, length: number): Promise<void> => db.put(key, makeValue(key, i++, length), true).then(() => { acked.add(key) })
  const microtasks = async (): Promise<void> => { for (let n = 0; n < 10; n++) await undefined }
  const s = sync('s', 100)
  await microtasks() // S is in A and its fdatasync has begun
  const releaseManifest = fsys.holdSyncs('manifest')
  const releaseA = fsys.holdSyncs(logA)
  const g = sync('g', 16 * 1024)
  await microtasks() // G is in A, which is now full
  const h = db.put('h', 'after the switch').catch(() => {})
  // Long enough for S's fdatasync and B's (one macrotask each in this file system), and more.
  for (let n = 0; n < 20; n++) await new Promise((resolve) => setImmediate(resolve))
  t.ok(fsys.calls.filter((c) => c.op === 'openWritable' && c.kind === 'log').length >= 2, 'the write after G switched to a new log')
  t.notOk(acked.has('g'), 'G is not acknowledged while the fdatasync of its log is held')
  fsys.crash()
  releaseA()
  releaseManifest()
  await Promise.allSettled([s, g, h])
  await db.close().catch(() => {})
  const copy = newDir('sync-across-switch-synced')
  fsys.materialise(dir, copy, { data: 'synced', names: 'durable' })
  const reopened = await openDb(copy)
  const actual = contents(reopened)
  await reopened.close()
  const lost = [...acked].filter((k) => !actual.has(k))
  t.same(lost, [], `power loss: no acknowledged sync write is lost (acknowledged: ${[...acked].join(', ')})`)
})

test('a sync write acknowledged makes every write before it durable, also those in a log whose flush is not installed yet', async (t) => {
  // The MANIFEST's fdatasync is held (a slow disk; with the worker, the flush itself takes that long), so
  // the retired log's writes are only in that log when a sync write in the next log is acknowledged.
  // LevelDB recommends "every Nth write synchronous; after a crash, restart just after the last
  // synchronous write": that needs every write before the sync write to survive a power loss with it.
  const dir = newDir('durable-prefix')
  const fsys = new CrashFileSystem()
  const db = await openDb(dir, fsys)
  const model = new Map<string, string>()
  let i = 0
  // Non-sync writes until the memtable is full: the next commit switches to a new log.
  while (db.memoryUsage < WRITE_BUFFER) {
    const key = `key${String(i).padStart(5, '0')}`
    const value = makeValue(key, i++, 1000)
    await db.put(key, value)
    model.set(key, value)
  }
  const release = fsys.holdSyncs('manifest')
  await db.put('sync', 'written with sync', true)
  model.set('sync', 'written with sync')
  t.ok(fsys.calls.filter((c) => c.op === 'openWritable' && c.kind === 'log').length >= 2, 'the sync write went to a new log')
  t.is(db.numFilesAtLevel(0) + db.numFilesAtLevel(1) + db.numFilesAtLevel(2), 0, 'the flush of the retired log is not installed')
  fsys.crash()
  release()
  await db.close().catch(() => {})
  for (const names of ['current', 'durable'] as const) {
    const copy = newDir(`durable-prefix-${names}`)
    fsys.materialise(dir, copy, { data: 'synced', names })
    const reopened = await openDb(copy)
    const actual = contents(reopened)
    await reopened.close()
    const lost = [...model.keys()].filter((k) => actual.get(k) !== model.get(k))
    t.same(lost.slice(0, 3), [], `power loss (synced data, ${names} names): none of the ${model.size} writes before and up to the sync write is lost (${lost.length} lost)`)
  }
})
