// Runs the abstract-level 3 suite inside a browser (a worker or a page) and posts its TAP line by line:
// { type: 'tap', line }, then { type: 'done' }. tape expects a `process`: a minimal one is installed first,
// after the package has loaded without it. Used by suite-worker.ts and facade-page.ts.

interface TapeStream {
  on (event: 'data', listener: (line: string) => void): void
  on (event: 'end', listener: () => void): void
}
interface Tape {
  createStream (): TapeStream
}

export function runAbstractLevelSuite (factory: (options?: object) => unknown, post: (message: object) => void, onEnd: () => void): void {
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
  stream.on('data', (line) => post({ type: 'tap', line }))
  stream.on('end', () => {
    onEnd()
    post({ type: 'done' })
  })
  suite({ test: tape, factory })
}
