// The worker side of abstract-level.test.ts: the abstract-level 3 suite against RoughLevel on OPFS, its
// TAP posted line by line. The package is loaded first and on its own (no process, no Buffer until its
// entry installs Buffer), then a minimal `process` for tape, which expects one.
import { openOpfs, RoughLevel } from '../../browser'
import { catchEverything, reportError, scope } from './worker-scope'

catchEverything()

interface TapeStream {
  on (event: 'data', listener: (line: string) => void): void
  on (event: 'end', listener: () => void): void
}
interface Tape {
  createStream (): TapeStream
}

async function main (): Promise<void> {
  const fs = await openOpfs({ pool: 'suite' })
  scope.postMessage({ type: 'ready', crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true })
  Object.assign(globalThis, {
    process: {
      env: {},
      argv: [],
      browser: true,
      platform: 'browser',
      version: '',
      versions: {},
      cwd: () => '/',
      exit: () => {},
      on: () => {},
      removeAllListeners: () => {},
      nextTick: (fn: (...args: unknown[]) => void, ...args: unknown[]) => queueMicrotask(() => fn(...args))
    }
  })
  const tape = require('tape') as Tape & ((...args: unknown[]) => void)
  const suite = require('abstract-level/test') as (options: { test: unknown, factory: (options?: object) => unknown }) => void
  const stream = tape.createStream()
  stream.on('data', (line) => scope.postMessage({ type: 'tap', line }))
  stream.on('end', () => {
    fs.close()
    scope.postMessage({ type: 'done' })
  })
  let n = 0
  suite({ test: tape, factory: (options?: object) => new RoughLevel(`/suite/${n++}`, options) })
}

main().catch(reportError)
