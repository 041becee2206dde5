// The package entry works as users load it: require('rough-level') and `import { RoughLevel } from
// 'rough-level'` (resolved through package.json "exports", as from an installed copy).
import test from 'tape'
import { execFileSync } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'
import { RoughLevelClient } from '../../adapter/browser/client'

const root = path.resolve(__dirname, '..', '..', '..')

test('require("rough-level") exports the RoughLevel class', (t) => {
  const pkg = require('rough-level') as { RoughLevel: unknown }
  t.is(pkg.RoughLevel, RoughLevel, 'same class as index.ts')
  t.end()
})

test('require("rough-level/client") exports the main-thread facade alone', (t) => {
  const pkg = require('rough-level/client') as { RoughLevelClient: unknown }
  t.is(pkg.RoughLevelClient, RoughLevelClient, 'same class as adapter/browser/client.ts')
  t.end()
})

test('an ES module can import { RoughLevel } from "rough-level"', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-esm-'))
  const out = execFileSync(process.execPath, [
    '--input-type=module', '-e',
    `import { RoughLevel } from 'rough-level'; const db = new RoughLevel(${JSON.stringify(dir)}); await db.open(); console.log(typeof RoughLevel, db.supports.getSync, db.status); await db.close()`
  ], { cwd: root, encoding: 'utf8' })
  fs.rmSync(dir, { recursive: true, force: true })
  t.is(out.trim(), 'function true open', 'named import works and the database opens')
  t.end()
})
