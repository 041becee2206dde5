// The package entry works as users load it: require('rough-level') and `import { RoughLevel } from
// 'rough-level'` (resolved through package.json "exports", as from an installed copy).
import test from 'tape'
import { execFileSync } from 'node:child_process'
import path = require('node:path')
import { RoughLevel } from '../../index'

const root = path.resolve(__dirname, '..', '..', '..')

test('require("rough-level") exports the RoughLevel class', (t) => {
  const pkg = require('rough-level') as { RoughLevel: unknown }
  t.is(pkg.RoughLevel, RoughLevel, 'same class as index.ts')
  t.end()
})

test('an ES module can import { RoughLevel } from "rough-level"', (t) => {
  const out = execFileSync(process.execPath, [
    '--input-type=module', '-e',
    "import { RoughLevel } from 'rough-level'; const db = new RoughLevel('x'); console.log(typeof RoughLevel, db.supports.getSync, db.supports.explicitSnapshots)"
  ], { cwd: root, encoding: 'utf8' })
  t.is(out.trim(), 'function true true', 'named import works and the manifest is there')
  t.end()
})
