// The tool on directories other programs wrote: the committed LevelDB 1.23 and goleveldb fixtures (tables, a
// live log, LOG; test/fixtures/*-fixture.*), checked against the entries those programs read back
// (test/fixtures/*.expected: hex key TAB hex value). Inspection changes no file; export then import gives a
// directory with the same entries.
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')
import { snapshotDir } from '../fixtures/dir-snapshot'
import { jsonLines, removeDir, runCli, tempDir } from './run-cli'

const FIXTURE_DIR = path.join(__dirname, '..', '..', '..', 'test', 'fixtures')

/** The fixture's entries as `hexkey\thexvalue` lines in key order. */
function expectedLines (name: string): string[] {
  const pairs = fs.readFileSync(path.join(FIXTURE_DIR, `${name}.expected`), 'latin1').split('\n').filter((l) => l.includes('\t'))
  return pairs.sort((a, b) => Buffer.compare(Buffer.from(a.split('\t')[0], 'hex'), Buffer.from(b.split('\t')[0], 'hex')))
}

for (const [name, writer] of [['leveldb-1.23', 'LevelDB 1.23'], ['goleveldb', 'goleveldb']]) {
  test(`cli on a directory ${writer} wrote: scan, export, info, verify and dump read it without changing a file; import of the export gives the same entries`, async (t) => {
    const root = tempDir(`fixture-${name}`)
    const dir = path.join(root, 'db')
    fs.cpSync(path.join(FIXTURE_DIR, name), dir, { recursive: true })
    const before = snapshotDir(dir)
    const expected = expectedLines(name)

    const scan = await runCli(['scan', dir, '--format', 'hex'])
    t.is(scan.status, 0, `scan exits 0 ${scan.stderr.trim()}`)
    t.same(scan.stdout.split('\n').filter((l) => l !== ''), expected, `scan: the ${expected.length} entries ${writer} reads back`)
    const verify = await runCli(['verify', dir])
    t.ok(verify.status === 0 && /OK: no damage found/.test(verify.stdout), `verify: ${verify.stdout.trim().split('\n').pop() ?? ''} ${verify.stderr.trim()}`)
    const info = jsonLines((await runCli(['info', dir, '--json'])).stdout)[0]
    t.is(info?.comparator, 'leveldb.BytewiseComparator', 'info: the comparator')
    for (const file of fs.readdirSync(dir).filter((f) => /\.(log|ldb|sst)$|^MANIFEST-/.test(f))) {
      const dump = await runCli(['dump', path.join(dir, file), '--json'])
      t.ok(dump.status === 0 && jsonLines(dump.stdout).length > 0, `dump ${file} ${dump.stderr.trim()}`)
    }
    const exported = path.join(root, 'export.ndjson')
    const exp = await runCli(['export', dir, '--out', exported])
    t.is(exp.status, 0, `export exits 0 ${exp.stderr.trim()}`)
    t.same(snapshotDir(dir), before, 'no file of the directory was created, removed, changed or touched')

    const copy = path.join(root, 'copy')
    const imp = await runCli(['import', copy, '--in', exported])
    t.is(imp.status, 0, `import exits 0 ${imp.stderr.trim()}`)
    const again = await runCli(['scan', copy, '--format', 'hex'])
    t.same(again.stdout.split('\n').filter((l) => l !== ''), expected, 'the imported copy holds the same entries')
    removeDir(root)
  })
}
