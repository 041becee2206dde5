// tape inside a browser (a worker or a page), and the abstract-level 3 suite run with it, its TAP posted line
// by line: { type: 'tap', line }, then { type: 'done' }. tape expects a `process`: a minimal one is
// installed first, after the package has loaded without it. Used by suite-worker.ts, facade-page.ts and
// engine-worker.ts.
import type { Tape } from './tape-events'

interface TapeStream {
  on (event: 'data', listener: (line: string) => void): void
  on (event: 'end', listener: () => void): void
}

/** tape's default harness, with the `process` it needs installed. */
export function browserTape (): Tape & ((...args: unknown[]) => void) {
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
  return require('tape') as Tape & ((...args: unknown[]) => void)
}

export function runAbstractLevelSuite (factory: (options?: object) => unknown, post: (message: object) => void, onEnd: () => void): void {
  const tape = browserTape()
  const suite = require('abstract-level/test') as (options: { test: unknown, factory: (options?: object) => unknown }) => void
  const stream = tape.createStream() as unknown as TapeStream
  stream.on('data', (line) => post({ type: 'tap', line }))
  stream.on('end', () => {
    onEnd()
    post({ type: 'done' })
  })
  suite({ test: tape, factory })
}
