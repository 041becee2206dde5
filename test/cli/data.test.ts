// get, put, del, scan, compact, destroy, export and import as child processes, checked against a model
// of what the test wrote; a directory written by classic-level (Chromium Local Storage's layout, binary
// keys and values) exported and imported into a fresh directory comes back entry by entry.
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')
import { ClassicLevel } from 'classic-level'
import { RoughLevel } from '../../index'
import { fieldBytes, jsonLines, noStack, removeDir, runCli, tempDir } from './run-cli'

/** hex of key -> [key, value], and the model's entries in key order (bytewise). */
type Model = Map<string, [Buffer, Buffer]>
const sorted = (m: Model): Array<[Buffer, Buffer]> => [...m.values()].sort((a, b) => Buffer.compare(a[0], b[0]))

function modelOf (count: number): Model {
  const m: Model = new Map()
  for (let i = 0; i < count; i++) {
    const key = i % 4 === 0 ? Buffer.from([0xff, i & 0xff, 0x00, 0x0a]) : Buffer.from(`user:${String(i).padStart(4, '0')}`)
    const value = i % 3 === 0 ? Buffer.from([0x09, 0x5c, 0x80, i & 0xff]) : Buffer.from(JSON.stringify({ n: i }))
    m.set(key.toString('hex'), [key, value])
  }
  return m
}

async function writeModel (dir: string, m: Model): Promise<void> {
  const db = new RoughLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 64 * 1024 })
  await db.batch([...m.values()].map(([key, value]) => ({ type: 'put' as const, key, value })))
  await db.close()
}

/** [key, value] pairs from NDJSON lines, decoded here. */
function decodeLines (stdout: string): Array<[Buffer, Buffer]> {
  return jsonLines(stdout).map((l) => [fieldBytes(l.key, l.keyEncoding), fieldBytes(l.value, l.valueEncoding)])
}

const hexPairs = (pairs: Array<[Buffer, Buffer]>): string[][] => pairs.map(([k, v]) => [k.toString('hex'), v.toString('hex')])

test('cli scan: ranges, prefix, reverse, limit, keys, values and formats match the model', async (t) => {
  const dir = tempDir('scan')
  const m = modelOf(400)
  await writeModel(dir, m)
  const all = sorted(m)
  let r = await runCli(['scan', dir, '--json'])
  t.is(r.status, 0)
  t.same(hexPairs(decodeLines(r.stdout)), hexPairs(all), 'every entry, in byte order, binary keys and values lossless')

  const gte = Buffer.from('user:0100')
  const lt = Buffer.from('user:0200')
  r = await runCli(['scan', dir, '--json', '--gte', 'user:0100', '--lt', 'user:0200', '--reverse', '--limit', '7'])
  t.same(hexPairs(decodeLines(r.stdout)), hexPairs(all.filter(([k]) => Buffer.compare(k, gte) >= 0 && Buffer.compare(k, lt) < 0).reverse().slice(0, 7)), '--gte --lt --reverse --limit')
  r = await runCli(['scan', dir, '--json', '--gt', 'ff04000a', '--lte', 'ff10000a', '--key-format', 'hex'])
  t.same(hexPairs(decodeLines(r.stdout)), hexPairs(all.filter(([k]) => Buffer.compare(k, Buffer.from('ff04000a', 'hex')) > 0 && Buffer.compare(k, Buffer.from('ff10000a', 'hex')) <= 0)), '--gt --lte in hex')
  r = await runCli(['scan', dir, '--prefix', 'ff', '--keys', '--format', 'hex'])
  t.same(r.stdout.trim().split('\n'), all.filter(([k]) => k[0] === 0xff).map(([k]) => k.toString('hex')), '--prefix --keys in hex')
  r = await runCli(['scan', dir, '--prefix', 'user:00', '--values', '--value-format', 'base64'])
  t.same(r.stdout.trim().split('\n'), all.filter(([k]) => k.toString('latin1').startsWith('user:00')).map(([, v]) => v.toString('base64')), '--values in base64')
  r = await runCli(['scan', dir, '--gte', '\\xff\\xfc', '--limit', '2'])
  t.is(r.stdout, '\\xff\\xfc\\x00\\x0a\t\\x09\\\\\\x80\\xfc\n', 'utf8 text escapes tab, backslash and non-UTF-8 bytes (and reads them in --gte); TAB separates key and value')
  r = await runCli(['scan', dir, '--prefix', 'user:0001', '--value-format', 'json', '--json'])
  t.same(jsonLines(r.stdout), [{ key: 'user:0001', keyEncoding: 'utf8', value: { n: 1 }, valueEncoding: 'json' }], '--value-format json parses values')
  r = await runCli(['scan', dir, '--format', 'json'])
  t.ok(r.status === 1 && /LEVEL_DECODE_ERROR/.test(r.stderr) && noStack(r.stderr), `keys that are not JSON: one error line (${r.stderr.trim()})`)
  removeDir(dir)
})

test('cli get, put, del: binary keys through hex and escapes; a missing key is LEVEL_NOT_FOUND', async (t) => {
  const dir = tempDir('kv')
  let r = await runCli(['put', dir, '00ff0a5c', 'c328', '--format', 'hex'])
  t.is(r.status, 0, 'put creates the database')
  r = await runCli(['get', dir, '\\x00\\xff\\x0a\\\\', '--value-format', 'hex'])
  t.is(r.stdout, 'c328\n', 'get by the escaped utf8 form of the same key')
  r = await runCli(['put', dir, 'name', 'Zoë\t1'])
  r = await runCli(['get', dir, 'name', '--json'])
  t.same(jsonLines(r.stdout), [{ key: 'name', keyEncoding: 'utf8', value: 'Zoë\t1', valueEncoding: 'utf8' }])
  r = await runCli(['del', dir, 'name'])
  t.is(r.status, 0)
  r = await runCli(['get', dir, 'name'])
  t.is(r.status, 1, 'exit 1')
  t.is(r.stderr, "rough-level get: LEVEL_NOT_FOUND: key 'name' not found\n", 'one line with the code')
  const db = new RoughLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  t.same(hexPairs(await db.iterator().all()), [['00ff0a5c', 'c328']], 'the database holds exactly what the commands wrote')
  await db.close()
  removeDir(dir)
})

test('cli: the writing commands refuse a database open in another process in one line with LEVEL_LOCKED', async (t) => {
  const dir = tempDir('locked')
  const db = new RoughLevel(dir)
  await db.put('a', '1')
  for (const args of [['put', dir, 'b', '2'], ['del', dir, 'a'], ['compact', dir], ['repair', dir], ['destroy', dir, '--yes']]) {
    const r = await runCli(args)
    t.ok(r.status === 1 && /^rough-level \w+: LEVEL_LOCKED: .* is open in another process: \w+ needs it closed/.test(r.stderr) && r.stderr.trim().split('\n').length === 1, `${args[0]}: ${r.stderr.trim()}`)
  }
  t.is(await db.get('a'), '1', 'and nothing changed for the holder')
  await db.close()
  removeDir(dir)
})

for (const holder of ['rough-level', 'classic-level']) {
  test(`cli get, scan, export and info read a database that ${holder} has open for writing, change no file, and leave the writer writing`, async (t) => {
    const dir = tempDir('held')
    const m = modelOf(300)
    const options = { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 64 * 1024 } as const
    const db = holder === 'rough-level' ? new RoughLevel<Buffer, Buffer>(dir, options) : new ClassicLevel<Buffer, Buffer>(dir, options)
    await db.open()
    const entries = sorted(m)
    // Tables first, then writes left in the holder's log (a table of them does not exist yet).
    await db.batch(entries.slice(0, 200).map(([key, value]) => ({ type: 'put' as const, key, value })))
    await db.compactRange(Buffer.alloc(0), Buffer.alloc(8, 0xff))
    for (const [key, value] of entries.slice(200)) await db.put(key, value)
    const files = (): Record<string, string> => Object.fromEntries(fs.readdirSync(dir).map((f) => {
      const st = fs.statSync(path.join(dir, f))
      return [f, `${st.size} ${st.mtimeMs}`]
    }))
    const before = files()

    const [key, value] = entries[250]
    const get = await runCli(['get', dir, key.toString('hex'), '--key-format', 'hex', '--value-format', 'hex'])
    t.ok(get.status === 0 && get.stdout.trim() === value.toString('hex'), `get: a value still in the holder's log (${get.stderr.trim()})`)
    const scan = await runCli(['scan', dir, '--json'])
    t.same(hexPairs(decodeLines(scan.stdout)), hexPairs(entries), `scan: every entry, in order ${scan.stderr.trim()}`)
    const exported = await runCli(['export', dir])
    t.same(hexPairs(decodeLines(exported.stdout)), hexPairs(entries), `export: every entry ${exported.stderr.trim()}`)
    const info = await runCli(['info', dir, '--json'])
    t.is(jsonLines(info.stdout)[0]?.lastSequence, entries.length, `info: the last sequence counts the writes in the log ${info.stderr.trim()}`)
    const verify = await runCli(['verify', dir])
    t.ok(verify.status === 0 && /OK: no damage found/.test(verify.stdout), `verify: no damage ${verify.stderr.trim()}`)
    for (const file of fs.readdirSync(dir).filter((f) => /\.(log|ldb|sst)$|^MANIFEST-/.test(f))) {
      const dump = await runCli(['dump', path.join(dir, file), '--json'])
      t.ok(dump.status === 0 && jsonLines(dump.stdout).length > 0, `dump ${file} ${dump.stderr.trim()}`)
    }
    t.same(files(), before, 'no file was created, removed, resized or touched (by get, scan, export, info, verify, dump)')

    await db.put(Buffer.from('after'), Buffer.from('1'))
    t.is((await db.get(Buffer.from('after')))?.toString(), '1', 'the holder writes on')
    await db.close()
    removeDir(dir)
  })
}

test('cli compact then destroy: content unchanged, one level, then nothing left', async (t) => {
  const dir = tempDir('compact')
  const m = modelOf(3000)
  await writeModel(dir, m)
  let r = await runCli(['compact', dir])
  t.is(r.status, 0, `compact exits 0 ${r.stderr}`)
  const info = jsonLines((await runCli(['info', dir, '--json'])).stdout)[0]
  const levels = (info.levels as Array<Record<string, number>>).filter((l) => l.files > 0)
  t.is(levels.length, 1, `every table on one level (${levels.map((l) => l.level).join(', ')})`)
  r = await runCli(['scan', dir, '--json'])
  t.same(hexPairs(decodeLines(r.stdout)), hexPairs(sorted(m)), 'content unchanged')
  r = await runCli(['destroy', dir])
  t.ok(r.status === 2 && fs.existsSync(dir), 'destroy without --yes refuses and deletes nothing')
  r = await runCli(['destroy', dir, '--yes'])
  t.ok(r.status === 0 && !fs.existsSync(dir), 'destroy --yes removes the directory')
})

test('cli compact --gte --lt compacts only the tables that overlap the range', async (t) => {
  const dir = tempDir('compact-range')
  // Three level-0 tables, one per prefix: each reopen writes the previous run's log as a table.
  const expected: Array<[string, string]> = []
  for (const prefix of ['a', 'm', 'z']) {
    const db = new RoughLevel(dir)
    const batch = Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: `${prefix}${String(i).padStart(4, '0')}`, value: `${prefix}-value-${i}` }))
    await db.batch(batch)
    await db.close()
    for (const op of batch) expected.push([op.key, op.value])
  }
  const r = await runCli(['compact', dir, '--gte', 'm', '--lt', 'n'])
  t.is(r.status, 0, `compact exits 0 ${r.stderr}`)
  const info = jsonLines((await runCli(['info', dir, '--json'])).stdout)[0]
  const levels = (info.levels as Array<Record<string, unknown>>).filter((l) => (l.files as number) > 0)
  t.same(levels.map((l) => [l.level, l.files, l.smallest, l.largest]), [[0, 2, 'a0000', 'z0199'], [1, 1, 'm0000', 'm0199']],
    'the m table went down to level 1; the a and z tables stayed in level 0')
  const scan = await runCli(['scan', dir])
  t.is(scan.stdout, expected.map(([k, v]) => `${k}\t${v}\n`).join(''), 'content unchanged')
  removeDir(dir)
})

test('cli export and import: a classic-level Local Storage-style directory, binary keys and values, comes back entry by entry', async (t) => {
  const source = tempDir('classic')
  // Chromium's Local Storage layout: VERSION, META:<origin> (protobuf bytes), _<origin>\x00\x01<key>
  // -> \x01 + Latin-1 text, or \x00 + UTF-16LE.
  const m: Model = new Map()
  const add = (key: Buffer, value: Buffer): void => { m.set(key.toString('hex'), [key, value]) }
  add(Buffer.from('VERSION'), Buffer.from('1'))
  for (const origin of ['https://example.com', 'https://a.example:8443']) {
    add(Buffer.from(`META:${origin}`), Buffer.from([0x08, 0x80, 0x80, 0x04, 0x10, 0xe8, 0x07]))
    for (let i = 0; i < 150; i++) {
      const key = Buffer.concat([Buffer.from(`_${origin}`), Buffer.from([0, 1]), Buffer.from(`item${i}`)])
      const value = i % 2 === 0 ? Buffer.concat([Buffer.from([1]), Buffer.from(`value ${i} \u00e9`, 'latin1')]) : Buffer.concat([Buffer.from([0]), Buffer.from(`värde ${i} \u{1f600}`, 'utf16le')])
      add(key, value)
    }
  }
  for (let b = 0; b < 256; b++) add(Buffer.from([0xfe, b]), Buffer.from([b, 0xff - b]))
  const classic = new ClassicLevel<Buffer, Buffer>(source, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await classic.batch([...m.values()].map(([key, value]) => ({ type: 'put' as const, key, value })))
  await classic.close()

  const file = path.join(tempDir('ndjson'), 'export.ndjson')
  let r = await runCli(['export', source, '--out', file])
  t.is(r.status, 0, `export exits 0 ${r.stderr}`)
  t.same(hexPairs(decodeLines(fs.readFileSync(file, 'utf8'))), hexPairs(sorted(m)), 'the export holds every entry, in order')
  const lines = jsonLines(fs.readFileSync(file, 'utf8'))
  t.ok(lines.some((l) => l.valueEncoding === 'base64') && lines.some((l) => l.keyEncoding === 'utf8'), 'text stays text, other bytes are base64')

  const target = path.join(tempDir('import'), 'db')
  r = await runCli(['import', target, '--in', file, '--batch', '100'])
  t.is(r.status, 0, `import exits 0 ${r.stderr}`)
  t.is(r.stdout, `imported ${m.size} entries (${m.size} puts, 0 deletes) from ${m.size} lines\n`)
  // Read back by classic-level: LevelDB itself agrees.
  const check = new ClassicLevel<Buffer, Buffer>(target, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  t.same(hexPairs(await check.iterator().all()), hexPairs(sorted(m)), 'classic-level reads every entry back, byte for byte')
  await check.close()

  // Piped: export | import, and a bad line stops the import with the lines before it written.
  const piped = path.join(tempDir('piped'), 'db')
  r = await runCli(['import', piped], '{"key":"a","value":"1"}\n{"key":"b","value":"2","type":"del"}\n{"key":"c"}\n{"key":"d","value":"4"}\n')
  t.ok(r.status === 1 && /^rough-level import: LEVEL_INVALID_ARGUMENT: line 3 has no "value"/.test(r.stderr), `bad line: ${r.stderr.trim()}`)
  const db = new RoughLevel(piped)
  t.same(await db.iterator().all(), [['a', '1']], 'the lines before it are written, nothing after')
  await db.close()
  for (const d of [source, path.dirname(file), path.dirname(target), path.dirname(piped)]) removeDir(d)
})
