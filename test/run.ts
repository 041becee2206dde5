// npm test's runner: tape over every compiled test file, its TAP passed through unchanged, then every failed
// assertion repeated at the end with the test it belongs to and tape's diagnostics. A CI log is often kept
// only by its tail, and a failure 8,000 lines up is otherwise lost there. The exit code is tape's.
//
//   node dist/test/run.js [glob]    (default: dist/test/**/*.test.js, run with this process's node)
import { spawn } from 'node:child_process'
import path = require('node:path')
import readline = require('node:readline')
import { POISON_ENV } from '../engine/table/block-memory'

const glob = process.argv[2] ?? 'dist/test/**/*.test.js'
const tape = path.join(path.dirname(require.resolve('tape/package.json')), 'bin', 'tape')
// Every test runs with released block memory poisoned, so that a read of a block after its release
// (block-memory.ts) fails where it happens instead of reading whatever block was read into it next.
const env = { ...process.env, [POISON_ENV]: '1' }
const child = spawn(process.execPath, [tape, glob], { stdio: ['ignore', 'pipe', 'inherit'], env })

/** Each failure: the test's title, the `not ok` line, and the indented diagnostics block after it. */
const failures: string[][] = []
let title = ''
let current: string[] | undefined
readline.createInterface({ input: child.stdout }).on('line', (line) => {
  process.stdout.write(line + '\n')
  if (line.startsWith('# ')) title = line
  if (line.startsWith('not ok ')) {
    current = [title, line]
    failures.push(current)
  } else if (current !== undefined && line.startsWith('  ')) {
    current.push(line)
  } else {
    current = undefined
  }
})
child.on('close', (code, signal) => {
  if (failures.length > 0) {
    process.stdout.write(`\n# ${failures.length} failed assertion(s), repeated from above:\n`)
    // The title, the assertion and the first lines of its diagnostics (operator, expected, actual, where).
    for (const failure of failures) process.stdout.write(failure.slice(0, 10).join('\n') + '\n')
  }
  process.exitCode = code ?? (signal !== null ? 1 : 0)
})
