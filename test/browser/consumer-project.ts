// A consumer project in a temporary directory, for test/browser/bundlers.test.ts: its own files are
// test/fixtures/bundler-consumer, and node_modules/rough-level is this package as npm installs it, the
// tarball of `npm pack` (package.json's `files`, of the dist/ that npm test has just built) unpacked. Beside
// it are symlinks to this repository's copies of the package's declared runtime dependencies and of
// `events`, which README's browser section tells a user to install. The package's own files then resolve
// nothing through this repository: a module it requires without declaring it is not found, as under a
// strict installer. (The symlinked packages resolve their own dependencies where they really are.)
import { execFileSync } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')

const ROOT = path.join(__dirname, '..', '..', '..')
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'bundler-consumer')

/** The packages a user installs beside rough-level for its browser build (README, "In the browser"). */
const USER_INSTALLED = ['events']

export interface ConsumerProject {
  dir: string
  remove (): void
}

export function makeConsumerProject (): ConsumerProject {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-consumer-'))
  try {
    fs.cpSync(FIXTURE, dir, { recursive: true })
    // Without scripts: `prepare` would build again what npm test has built.
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim()
    const installed = path.join(dir, 'node_modules', 'rough-level')
    fs.mkdirSync(installed, { recursive: true })
    execFileSync('tar', ['-xzf', path.join(dir, packed), '-C', installed, '--strip-components=1'])
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    for (const name of [...Object.keys(manifest.dependencies), ...USER_INSTALLED]) {
      const link = path.join(dir, 'node_modules', name)
      fs.mkdirSync(path.dirname(link), { recursive: true })
      fs.symlinkSync(path.join(ROOT, 'node_modules', name), link)
    }
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}
