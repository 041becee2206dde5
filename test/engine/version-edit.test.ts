// engine/version: VersionEdit encoding against LevelDB's MANIFEST bytes (reference §9.1, §14.2, §14.3),
// decode(encode(x)) round trips, decode's rejections (LEVEL_CORRUPTION); parseFileName against
// LevelDB's ParseFileName rules (reference §1).
import test from 'tape'
import path = require('path')  // Not 'node:': run in the browser too, where package.json's `browser` field swaps 'path'
import { LogWriter } from '../../engine/log/writer'
import { VersionEdit, type FileMetaData } from '../../engine/version/version-edit'
import {
  FileType, currentFileName, descriptorFileName, lockFileName, logFileName, parseFileName, sstTableFileName,
  tableFileName, tempFileName
} from '../../engine/filename'
import { fromHex, hex, internalKey, lp, varint } from './helpers/bytes'
import { MemoryWritableFile } from './helpers/memory-file'
import { Random } from './helpers/random'

const COMPARATOR = 'leveldb.BytewiseComparator'
const FOO_1 = fromHex('66 6f 6f 01 01 00 00 00 00 00 00') // 'foo'@1:value

/** The §14.3 payload: log 11, prev log 0, next file 14, last sequence 1, compact pointer, deleted file, new file. */
const COMPACTION_EDIT = fromHex(`
  02 0b 09 00 03 0e 04 01
  05 00 0b 66 6f 6f 01 01 00 00 00 00 00 00
  06 00 07
  07 01 0d b4 01 0b 66 6f 6f 01 01 00 00 00 00 00 00 0b 66 6f 6f 01 01 00 00 00 00 00 00`)

function compactionEdit (): VersionEdit {
  const edit = new VersionEdit()
  edit.logNumber = 11
  edit.prevLogNumber = 0
  edit.nextFileNumber = 14
  edit.lastSequence = 1
  edit.compactPointers.push({ level: 0, key: FOO_1 })
  edit.deleteFile(0, 7)
  edit.addFile(1, { number: 13, fileSize: 180, smallest: FOO_1, largest: FOO_1 })
  return edit
}

function frame (records: Uint8Array[]): Buffer {
  const file = new MemoryWritableFile('/db/MANIFEST')
  const writer = new LogWriter(file)
  for (const r of records) writer.addRecord(r, 0, r.length)
  return file.contents()
}

interface PlainEdit {
  comparator?: string
  logNumber?: number
  prevLogNumber?: number
  nextFileNumber?: number
  lastSequence?: number
  compactPointers: Array<{ level: number, key: string }>
  deletedFiles: string[]
  newFiles: Array<{ level: number, number: number, fileSize: number, smallest: string, largest: string }>
}

/** A plain, comparable picture of an edit (byte fields as hex). */
function plain (edit: VersionEdit): PlainEdit {
  return {
    comparator: edit.comparator,
    logNumber: edit.logNumber,
    prevLogNumber: edit.prevLogNumber,
    nextFileNumber: edit.nextFileNumber,
    lastSequence: edit.lastSequence,
    compactPointers: edit.compactPointers.map((p) => ({ level: p.level, key: hex(p.key) })),
    deletedFiles: edit.deletedFiles.map(([l, n]) => `${l}:${n}`),
    newFiles: edit.newFiles.map(({ level, file }) => ({ level, number: file.number, fileSize: file.fileSize, smallest: hex(file.smallest), largest: hex(file.largest) }))
  }
}

const isCorruption = (what: string) => (err: any): boolean =>
  err?.code === 'LEVEL_CORRUPTION' && String(err.message).includes(what) && /offset \d+/.test(String(err.message))

test('MANIFEST-000002 of a fresh database encodes byte for byte as reference §14.2 (50 bytes)', (t) => {
  const snapshot = new VersionEdit()
  snapshot.comparator = COMPARATOR
  const open = new VersionEdit()
  open.logNumber = 3
  open.prevLogNumber = 0
  open.nextFileNumber = 4
  open.lastSequence = 0
  t.is(hex(snapshot.encode()), '011a' + hex(Buffer.from(COMPARATOR)), 'record 1: the snapshot (tag 1)')
  t.is(hex(open.encode()), '0203090003040400', 'record 2: log 3, previous log 0, next file 4, last sequence 0')
  const file = frame([snapshot.encode(), open.encode()])
  const expected = Buffer.concat([
    fromHex('56 f9 b8 f8 1c 00 01'), fromHex('01 1a'), Buffer.from(COMPARATOR),
    fromHex('a4 9c 8b be 08 00 01'), fromHex('02 03 09 00 03 04 04 00')
  ])
  t.is(file.length, 50, '50 bytes')
  t.is(hex(file), hex(expected), 'the whole file')
  t.end()
})

test('MANIFEST-000001 written by NewDB encodes as reference §14.2', (t) => {
  const edit = new VersionEdit()
  edit.comparator = COMPARATOR
  edit.logNumber = 0
  edit.nextFileNumber = 2
  edit.lastSequence = 0
  const payload = edit.encode()
  t.is(hex(payload), '011a' + hex(Buffer.from(COMPARATOR)) + '020003020400', 'payload')
  t.is(hex(frame([payload])), '957cb9c5220001' + hex(payload), 'record with header 95 7c b9 c5 22 00 01')
  t.end()
})

test('a compaction edit encodes as the 54 bytes of reference §14.3, whatever order its fields were set in', (t) => {
  const edit = compactionEdit()
  t.is(hex(edit.encode()), hex(COMPACTION_EDIT), '§14.3 payload')
  t.is(hex(frame([edit.encode()]).subarray(0, 7)), '5074e8aa360001', 'log header 50 74 e8 aa 36 00 01')

  // Same content, fields assigned in reverse order.
  const reversed = new VersionEdit()
  reversed.addFile(1, { number: 13, fileSize: 180, smallest: FOO_1, largest: FOO_1 })
  reversed.deleteFile(0, 7)
  reversed.compactPointers.push({ level: 0, key: FOO_1 })
  reversed.lastSequence = 1
  reversed.nextFileNumber = 14
  reversed.prevLogNumber = 0
  reversed.logNumber = 11
  t.is(hex(reversed.encode()), hex(COMPACTION_EDIT), 'written in LevelDB order 2, 9, 3, 4, 5, 6, 7')
  t.end()
})

test('deleted files are written sorted by (level, number); new files and compact pointers in insertion order', (t) => {
  const edit = new VersionEdit()
  edit.deleteFile(2, 5)
  edit.deleteFile(0, 300)
  edit.deleteFile(0, 3)
  edit.deleteFile(1, 9)
  const k = (s: string, seq: number): Buffer => internalKey(s, seq, 1)
  edit.compactPointers.push({ level: 3, key: k('z', 1) }, { level: 1, key: k('a', 2) })
  edit.addFile(4, { number: 20, fileSize: 1, smallest: k('m', 5), largest: k('n', 6) })
  edit.addFile(0, { number: 10, fileSize: 2, smallest: k('a', 7), largest: k('b', 8) })
  const expected = Buffer.concat([
    Buffer.of(5, 3), lp(k('z', 1)), Buffer.of(5, 1), lp(k('a', 2)),
    Buffer.of(6, 0, 3), Buffer.of(6, 0), varint(300), Buffer.of(6, 1, 9), Buffer.of(6, 2, 5),
    Buffer.of(7, 4, 20, 1), lp(k('m', 5)), lp(k('n', 6)),
    Buffer.of(7, 0, 10, 2), lp(k('a', 7)), lp(k('b', 8))
  ])
  t.is(hex(edit.encode()), hex(expected), 'tag 5 in order, tag 6 sorted, tag 7 in order')
  t.end()
})

test('decode of LevelDB\'s records gives their fields', (t) => {
  const e = VersionEdit.decode(COMPACTION_EDIT, '§14.3')
  t.same(plain(e), plain(compactionEdit()), '§14.3')
  const m2 = VersionEdit.decode(fromHex('02 03 09 00 03 04 04 00'), 'MANIFEST-000002 record 2')
  t.same([m2.logNumber, m2.prevLogNumber, m2.nextFileNumber, m2.lastSequence, m2.comparator], [3, 0, 4, 0, undefined], 'MANIFEST-000002 record 2')
  const m1 = VersionEdit.decode(Buffer.concat([fromHex('01 1a'), Buffer.from(COMPARATOR)]), 'MANIFEST-000002 record 1')
  t.is(m1.comparator, COMPARATOR, 'comparator name')
  t.is(m1.logNumber, undefined, 'fields not present stay unset')
  t.end()
})

test('decode accepts fields in any order and repeated; the last scalar wins', (t) => {
  const e = VersionEdit.decode(fromHex('04 05 02 07 06 01 02 04 09 03 01 02 08 06 00 01'), 'any order')
  t.is(e.lastSequence, 9, 'last sequence: the second value')
  t.is(e.logNumber, 8, 'log number: the second value')
  t.is(e.nextFileNumber, 1, 'next file')
  t.same(e.deletedFiles.map(([l, n]) => `${l}:${n}`), ['1:2', '0:1'], 'both deleted files, in the order read')
  t.end()
})

test('decode(encode(edit)) round-trips random edits, with numbers up to 2^53 - 1 and keys carrying the maximum tag', (t) => {
  const rnd = new Random(909)
  const bigNumber = (): number => rnd.pick([0, 1, 127, 128, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, rnd.int(1e6)])
  const ikey = (): Uint8Array => {
    const user = rnd.bytes(rnd.int(30))
    return rnd.chance(0.3)
      ? Buffer.concat([user, fromHex('01 ff ff ff ff ff ff ff')]) // (2^56 - 1, value): beyond 2^53
      : internalKey(user, rnd.int(2 ** 31) * 4096 + rnd.int(4096), rnd.int(2))
  }
  let wrong = 0
  for (let i = 0; i < 300; i++) {
    const edit = new VersionEdit()
    if (rnd.chance(0.5)) edit.comparator = rnd.chance(0.5) ? COMPARATOR : 'idb_cmp1 é€'
    if (rnd.chance(0.7)) edit.logNumber = bigNumber()
    if (rnd.chance(0.5)) edit.prevLogNumber = bigNumber()
    if (rnd.chance(0.7)) edit.nextFileNumber = bigNumber()
    if (rnd.chance(0.7)) edit.lastSequence = bigNumber()
    for (let n = rnd.int(4); n > 0; n--) edit.compactPointers.push({ level: rnd.int(7), key: ikey() })
    for (let n = rnd.int(6); n > 0; n--) edit.deleteFile(rnd.int(7), bigNumber())
    for (let n = rnd.int(6); n > 0; n--) {
      const file: FileMetaData = { number: bigNumber(), fileSize: bigNumber(), smallest: ikey(), largest: ikey() }
      edit.addFile(rnd.int(7), file)
    }
    const decoded = VersionEdit.decode(edit.encode(), `edit ${i}`)
    const expected = plain(edit)
    // Deleted files come back in the sorted order they were written in.
    expected.deletedFiles = [...edit.deletedFiles].sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([l, n]) => `${l}:${n}`)
    if (JSON.stringify(plain(decoded)) !== JSON.stringify(expected)) {
      wrong++
      if (wrong < 3) t.same(plain(decoded), expected, `edit ${i}`)
    }
    // And re-encoding the decoded edit gives the same bytes.
    if (hex(decoded.encode()) !== hex(edit.encode())) {
      wrong++
      if (wrong < 3) t.fail(`edit ${i}: re-encoding differs`)
    }
  }
  t.is(wrong, 0, '300 random edits round-trip')
  t.end()
})

test('decode rejects unknown tags, levels >= 7, empty or short internal keys and oversized numbers with LEVEL_CORRUPTION', (t) => {
  const key = lp(FOO_1)
  const cases: Array<[string, Buffer]> = [
    ['tag 8 (obsolete large value refs)', fromHex('08 00')],
    ['tag 8 after valid fields', fromHex('02 03 08 01 02 03')],
    ['tag 0', fromHex('00')],
    ['tag 10', fromHex('0a 01')],
    ['a two-byte unknown tag', fromHex('80 01 00')],
    ['compact pointer at level 7', Buffer.concat([fromHex('05 07'), key])],
    ['deleted file at level 7', fromHex('06 07 07')],
    ['new file at level 7', Buffer.concat([fromHex('07 07 0d b4 01'), key, key])],
    ['a level as a two-byte varint (128)', fromHex('06 80 01 07')],
    ['a compact pointer with an empty key', fromHex('05 00 00')],
    ['a new file with an empty smallest key', Buffer.concat([fromHex('07 01 0d b4 01 00'), key])],
    ['a new file with an empty largest key', Buffer.concat([fromHex('07 01 0d b4 01'), key, fromHex('00')])],
    ['a compact pointer with a 7-byte key', fromHex('05 00 07 66 6f 6f 01 01 00 00')],
    ['a new file with a 1-byte largest key', Buffer.concat([fromHex('07 01 0d b4 01'), key, fromHex('01 66')])],
    ['a log number of 2^53', Buffer.concat([fromHex('02'), varint(2n ** 53n)])],
    ['a file size of 2^64 - 1', Buffer.concat([fromHex('07 01 0d'), varint(2n ** 64n - 1n), key, key])],
    ['a key length past the end', fromHex('05 00 20 66 6f 6f')],
    ['a comparator name past the end', Buffer.concat([fromHex('01 1a'), Buffer.from('leveldb')])]
  ]
  for (const [name, data] of cases) {
    t.throws(() => VersionEdit.decode(data, `/db/MANIFEST-000009 ${name}`), isCorruption(`/db/MANIFEST-000009 ${name}`), name)
  }
  t.end()
})

test('every truncation of the §14.3 edit inside a field is LEVEL_CORRUPTION; at a field boundary it decodes the fields before it', (t) => {
  const boundaries = [0, 2, 4, 6, 8, 22, 25, 54]
  const wrong: string[] = []
  for (let n = 0; n < COMPACTION_EDIT.length; n++) {
    const data = COMPACTION_EDIT.subarray(0, n)
    let error: any
    let edit: VersionEdit | undefined
    try {
      edit = VersionEdit.decode(data, `cut ${n}`)
    } catch (err: any) {
      error = err
    }
    if (boundaries.includes(n)) {
      if (error !== undefined) wrong.push(`cut at boundary ${n}: ${String(error.message)}`)
      else if (hex(edit!.encode()) !== hex(data)) wrong.push(`cut at boundary ${n}: decoded ${hex(edit!.encode())}`)
    } else if (error === undefined || !isCorruption(`cut ${n}`)(error)) {
      wrong.push(`cut ${n}: ${error === undefined ? 'decoded' : `${String(error.code)} ${String(error.message)}`}`)
    }
  }
  t.same(wrong, [], `all ${COMPACTION_EDIT.length} truncations`)
  t.end()
})

test('parseFileName recognises every kind of name LevelDB writes, with numbers of any length', (t) => {
  const cases: Array<[string, FileType, number]> = [
    ['CURRENT', FileType.Current, 0],
    ['LOCK', FileType.DbLock, 0],
    ['LOG', FileType.InfoLog, 0],
    ['LOG.old', FileType.InfoLog, 0],
    ['MANIFEST-000002', FileType.Descriptor, 2],
    ['MANIFEST-1', FileType.Descriptor, 1],
    ['MANIFEST-1234567', FileType.Descriptor, 1234567],
    ['000003.log', FileType.Log, 3],
    ['3.log', FileType.Log, 3],
    ['0.log', FileType.Log, 0],
    ['000007.ldb', FileType.Table, 7],
    ['000007.sst', FileType.Table, 7],
    ['000009.dbtmp', FileType.Temp, 9],
    ['1234567.ldb', FileType.Table, 1234567],
    ['12345678901.log', FileType.Log, 12345678901],
    ['0000000000000000000000000042.ldb', FileType.Table, 42],
    ['9007199254740991.log', FileType.Log, Number.MAX_SAFE_INTEGER]
  ]
  for (const [name, type, number] of cases) t.same(parseFileName(name), { type, number }, name)
  t.end()
})

test('parseFileName ignores names LevelDB would not recognise, and numbers beyond 2^53', (t) => {
  const ignored = [
    '', 'MANIFEST', 'MANIFEST-', 'MANIFEST-abc', 'MANIFEST-00000a', 'MANIFEST-000002x', 'MANIFEST-000002.log',
    'MANIFEST--1', 'MANIFEST-+1', 'MANIFEST- 1', 'manifest-000002', 'current', 'CURRENT.bak', 'LOCK2', 'LOG.old2',
    'LOG.older', 'log', '.log', 'x000003.log', '000003', '000003.', '000003.LOG', '000003.log.bak', '000003.logx',
    '000003.ldb.tmp', '000003.tmp', '-1.log', '+1.log', ' 1.log', '1 .log', '1e3.log', '0x10.log', '٣.log',
    '000003.log\n', 'lost', '9007199254740992.log', '18446744073709551615.ldb', '99999999999999999999999.log',
    'MANIFEST-9007199254740992'
  ]
  const recognised = ignored.filter((name) => parseFileName(name) !== undefined)
  t.same(recognised, [], `${ignored.length} names ignored`)
  t.end()
})

test('names built for each file kind parse back to their kind and number', (t) => {
  const dir = path.join('/tmp', 'db')
  for (const n of [0, 5, 123456, 1234567, 2 ** 40]) {
    t.same(parseFileName(path.basename(logFileName(dir, n))), { type: FileType.Log, number: n }, `log ${n}`)
    t.same(parseFileName(path.basename(tableFileName(dir, n))), { type: FileType.Table, number: n }, `table ${n}`)
    t.same(parseFileName(path.basename(sstTableFileName(dir, n))), { type: FileType.Table, number: n }, `sst ${n}`)
    t.same(parseFileName(path.basename(tempFileName(dir, n))), { type: FileType.Temp, number: n }, `temp ${n}`)
    t.same(parseFileName(path.basename(descriptorFileName(dir, n))), { type: FileType.Descriptor, number: n }, `manifest ${n}`)
  }
  t.is(path.basename(logFileName(dir, 5)), '000005.log', 'six-digit zero padding')
  t.is(path.basename(descriptorFileName(dir, 2)), 'MANIFEST-000002', 'manifest padding')
  t.is(path.basename(tableFileName(dir, 1234567)), '1234567.ldb', 'longer numbers are not truncated')
  t.same(parseFileName(path.basename(currentFileName(dir))), { type: FileType.Current, number: 0 }, 'CURRENT')
  t.same(parseFileName(path.basename(lockFileName(dir))), { type: FileType.DbLock, number: 0 }, 'LOCK')
  t.end()
})
