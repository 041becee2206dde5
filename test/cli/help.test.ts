// The tool as installed: package.json's bin names the compiled entry (with its shebang, inside "files"),
// --help lists every command with an example, each command's --help lists its options.
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')
import { commandHelp } from '../../cli/command'
import { COMMANDS as ALL } from '../../cli/commands'
import { CLI, runCli } from './run-cli'

const root = path.resolve(__dirname, '..', '..', '..')
const COMMANDS = ['info', 'get', 'put', 'del', 'scan', 'dump', 'verify', 'compact', 'backup', 'repair', 'destroy', 'export', 'import']

test('cli: package.json bin runs dist/cli/main.js, which "files" ships', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>, files: string[] }
  t.is(path.resolve(root, pkg.bin['rough-level']), CLI, 'bin rough-level is the compiled entry')
  t.ok(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'), 'which starts with a node shebang')
  t.ok(pkg.files.includes('dist/cli'), '"files" includes it')
  t.end()
})

test('cli --help lists every command with an example; <command> --help its options and examples', async (t) => {
  const r = await runCli(['--help'])
  t.is(r.status, 0)
  for (const c of COMMANDS) t.ok(new RegExp(`^  ${c} <`, 'm').test(r.stdout) && r.stdout.includes(`e.g. rough-level ${c} `), `${c} is listed with an example`)
  t.same(ALL.map((c) => c.name), COMMANDS, 'the commands')
  for (const command of ALL) {
    const h = commandHelp(command)
    const options = Object.keys(command.options)
    t.ok(h.startsWith(`rough-level ${command.name} <`) && options.every((o) => h.includes(`--${o}`)) && /\nExamples?:\n  rough-level /.test(h), `${command.name} --help: usage, ${options.length} options, examples`)
  }
  const h = await runCli(['scan', '--help'])
  t.is(h.stdout, commandHelp(ALL.find((c) => c.name === 'scan')!), 'rough-level scan --help prints it')
  const none = await runCli([])
  t.is(none.status, 2, 'no command: usage, exit 2')
  const unknown = await runCli(['frobnicate'])
  t.ok(unknown.status === 2 && unknown.stderr === 'rough-level: unknown command "frobnicate" (see rough-level --help)\n', unknown.stderr.trim())
  const bad = await runCli(['scan', '/tmp', '--limit', 'x'])
  t.ok(bad.status === 2 && /--limit must be a non-negative integer/.test(bad.stderr), bad.stderr.trim())
})
