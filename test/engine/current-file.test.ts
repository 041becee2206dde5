// engine/version/current-file (setCurrentFile) and version-set's installNewManifest, the one way CURRENT is
// switched (a new database, every open, repair): what they leave on disk, in the crash model's durable
// names, and after each fault.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import type { EngineError } from '../../engine/errors'
import { PosixFileSystem } from '../../engine/fs/posix-file-system'
import { LogReader } from '../../engine/log/reader'
import { currentManifestPath, readCurrentFile, setCurrentFile } from '../../engine/version/current-file'
import { VersionEdit } from '../../engine/version/version-edit'
import { installNewManifest } from '../../engine/version/version-set'
import { CrashFileSystem, type FsCall } from './helpers/crash-file-system'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-current-'))
test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))
let dirs = 0
function newDir (): string {
  const dir = path.join(root, `d${++dirs}`)
  fs.mkdirSync(dir)
  return dir
}

function edit (): VersionEdit {
  const e = new VersionEdit()
  e.comparator = 'leveldb.BytewiseComparator'
  e.logNumber = 0
  e.nextFileNumber = 8
  e.lastSequence = 41
  return e
}

async function failure (fn: () => Promise<void>): Promise<(EngineError & { code?: string }) | undefined> {
  try {
    await fn()
  } catch (err) {
    return err as EngineError
  }
  return undefined
}

test('setCurrentFile: CURRENT holds the MANIFEST\'s name and a newline, no temp file is left, and the names are durable', async (t) => {
  const dir = newDir()
  const fsys = new CrashFileSystem()
  await setCurrentFile(fsys, dir, 7)
  t.same(fs.readdirSync(dir), ['CURRENT'], 'only CURRENT')
  t.is(fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), 'MANIFEST-000007\n', 'naming MANIFEST-000007')
  t.same(fsys.list(dir, 'durable'), ['CURRENT'], 'the rename is durable (the directory was fsynced after it)')
  t.is(fsys.contentAfterCrash(path.join(dir, 'CURRENT'), { data: 'synced', names: 'durable' })?.toString('latin1'), 'MANIFEST-000007\n', 'and so are its bytes')
})

test('setCurrentFile: a failure before the rename leaves CURRENT as it was and no temp file; one after it is marked committed', async (t) => {
  for (const [label, op] of [['creating the temp file', 'openWritable'], ['writing it', 'append'], ['syncing it', 'sync'], ['renaming it', 'rename']] as const) {
    const dir = newDir()
    fs.writeFileSync(path.join(dir, 'CURRENT'), 'MANIFEST-000002\n')
    const fsys = new CrashFileSystem()
    const fault = fsys.fail({ op })
    const err = await failure(() => setCurrentFile(fsys, dir, 9))
    t.ok(fault.fired === 1 && err !== undefined && err.committed !== true, `${label}: fails, not committed (${err?.message})`)
    t.same(fs.readdirSync(dir), ['CURRENT'], `${label}: no temp file left`)
    t.is(fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), 'MANIFEST-000002\n', `${label}: CURRENT unchanged`)
  }
  const dir = newDir()
  const fsys = new CrashFileSystem()
  fsys.fail({ op: 'syncDir' })
  const err = await failure(() => setCurrentFile(fsys, dir, 9))
  t.ok(err?.code === 'LEVEL_IO_ERROR' && err.committed === true, `the directory fsync after the rename: LEVEL_IO_ERROR marked committed (${err?.message})`)
  t.is(fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), 'MANIFEST-000009\n', 'CURRENT names the new MANIFEST')
})

test('installNewManifest: the MANIFEST holds the one edit, and it and every file created before are durable names before CURRENT is renamed', async (t) => {
  const dir = newDir()
  const fsys = new CrashFileSystem()
  const table = path.join(dir, '000005.ldb')
  fsys.openWritable(table).close()
  const durableAtRename: string[][] = []
  fsys.onCall = (call: FsCall) => {
    if (call.op === 'rename' && path.basename(call.to ?? '') === 'CURRENT') durableAtRename.push(fsys.list(dir, 'durable'))
  }
  await installNewManifest(fsys, dir, 7, edit())
  t.same(fs.readdirSync(dir).sort(), ['000005.ldb', 'CURRENT', 'MANIFEST-000007'], 'the MANIFEST and CURRENT, no temp file')
  t.is(fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), 'MANIFEST-000007\n', 'CURRENT names it')
  const reader = new LogReader(fs.readFileSync(path.join(dir, 'MANIFEST-000007')), 'MANIFEST-000007')
  const records: Uint8Array[] = []
  for (let r = reader.readRecord(); r !== undefined; r = reader.readRecord()) records.push(r)
  t.is(records.length, 1, 'one record')
  const decoded = VersionEdit.decode(records[0], 'MANIFEST-000007')
  t.same([decoded.comparator, decoded.logNumber, decoded.nextFileNumber, decoded.lastSequence], ['leveldb.BytewiseComparator', 0, 8, 41], 'the edit')
  t.same(durableAtRename, [['000005.ldb', 'MANIFEST-000007']], 'when CURRENT is renamed, the MANIFEST and the table are durable names already')
  t.same(fsys.list(dir, 'durable'), ['000005.ldb', 'CURRENT', 'MANIFEST-000007'], 'and CURRENT after it')
})

test('installNewManifest: a failure before CURRENT changes removes the new MANIFEST; one after it keeps it', async (t) => {
  const faults = [
    ['creating the MANIFEST', { op: 'openWritable', kind: 'manifest' }],
    ['writing it', { op: 'append', kind: 'manifest' }],
    ['syncing it', { op: 'sync', kind: 'manifest' }],
    ['the directory fsync before CURRENT', { op: 'syncDir' }],
    ['writing CURRENT\'s temp file', { op: 'append', kind: 'temp' }],
    ['renaming it over CURRENT', { op: 'rename', kind: 'current' }]
  ] as const
  for (const [label, spec] of faults) {
    const dir = newDir()
    fs.writeFileSync(path.join(dir, 'CURRENT'), 'MANIFEST-000002\n')
    const fsys = new CrashFileSystem()
    const fault = fsys.fail(spec)
    const err = await failure(() => installNewManifest(fsys, dir, 7, edit()))
    t.ok(fault.fired === 1 && err?.code === 'LEVEL_IO_ERROR' && err.committed !== true, `${label}: LEVEL_IO_ERROR, not committed (${err?.message})`)
    t.same(fs.readdirSync(dir), ['CURRENT'], `${label}: the new MANIFEST is removed, no temp file`)
    t.is(fs.readFileSync(path.join(dir, 'CURRENT'), 'latin1'), 'MANIFEST-000002\n', `${label}: CURRENT unchanged`)
  }
  const dir = newDir()
  const fsys = new CrashFileSystem()
  fsys.fail({ op: 'syncDir', nth: 2 })
  const err = await failure(() => installNewManifest(fsys, dir, 7, edit()))
  t.ok(err?.code === 'LEVEL_IO_ERROR' && err.committed === true, `the directory fsync after CURRENT's rename: committed (${err?.message})`)
  t.same(fs.readdirSync(dir).sort(), ['CURRENT', 'MANIFEST-000007'], 'the MANIFEST CURRENT names is kept')
})

test('readCurrentFile and currentManifestPath: no CURRENT, an unreadable one, bad contents and a good one', (t) => {
  const posix = new PosixFileSystem()
  const dir = newDir()
  t.is(readCurrentFile(posix, dir), undefined, 'no CURRENT: undefined (a follower retries, the tool says "no database")')
  const missing = attempt(() => currentManifestPath(posix, dir))
  t.is(missing?.code, 'LEVEL_IO_ERROR', 'no CURRENT: currentManifestPath is LEVEL_IO_ERROR')
  // A read that fails for another reason than a missing file is the file system's error, never "no CURRENT".
  const failing = Object.create(posix) as PosixFileSystem
  failing.readFile = () => { throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }) }
  const unreadable = attempt(() => readCurrentFile(failing, dir))
  t.is(unreadable?.code, 'LEVEL_IO_ERROR', 'EIO: LEVEL_IO_ERROR')
  t.ok(unreadable?.message.includes('CURRENT'), `naming the file (${unreadable?.message})`)
  const cases: Array<[string, RegExp]> = [
    ['MANIFEST-000001', /does not end with newline/],
    ['', /does not end with newline/],
    ['LOG\n', /CURRENT names "LOG", not a MANIFEST/],
    ['MANIFEST-000009\n', /CURRENT points to a non-existent file/]
  ]
  for (const [contents, message] of cases) {
    fs.writeFileSync(path.join(dir, 'CURRENT'), contents)
    t.is(readCurrentFile(posix, dir), contents, `readCurrentFile gives ${JSON.stringify(contents)} as it is`)
    const err = attempt(() => currentManifestPath(posix, dir))
    t.ok(err?.code === 'LEVEL_CORRUPTION' && message.test(err.message), `${JSON.stringify(contents)}: LEVEL_CORRUPTION, ${err?.message}`)
  }
  fs.writeFileSync(path.join(dir, 'MANIFEST-000009'), '')
  t.is(currentManifestPath(posix, dir), `${dir}/MANIFEST-000009`, 'a good CURRENT: the MANIFEST\'s path')
  t.end()
})

function attempt (fn: () => unknown): (EngineError & { code?: string }) | undefined {
  try {
    fn()
  } catch (err) {
    return err as EngineError
  }
  return undefined
}
