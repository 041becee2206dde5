// tape's results as plain events, the same in Node and in a browser worker, so that a run in each can be
// compared test by test (test/browser/engine.test.ts). tape's object stream is used rather than its TAP:
// in TAP a test's name and a t.comment() are both lines starting with '#'.

/** A test began, an assertion was made, or the run ended. */
export type TapeEvent =
  | { type: 'test', name: string }
  | { type: 'assert', ok: boolean, name: string }
  | { type: 'done' }

interface ObjectStream {
  on (event: 'data', listener: (row: unknown) => void): void
  on (event: 'end', listener: () => void): void
}
export interface Tape {
  createStream (options?: { objectMode: boolean }): ObjectStream
}

/**
 * Posts the events of the tests that `register` defines with tape's default harness (a test file required
 * there), then { type: 'done' }. Call before anything else uses that harness.
 */
export function recordTape (tape: Tape, register: () => void, post: (event: TapeEvent) => void): void {
  const stream = tape.createStream({ objectMode: true })
  stream.on('data', (row) => {
    // A t.comment() arrives as a string.
    if (typeof row !== 'object' || row === null) return
    const { type, name, ok } = row as { type?: unknown, name?: unknown, ok?: unknown }
    if (type === 'test') post({ type, name: String(name) })
    else if (type === 'assert') post({ type, ok: ok === true, name: String(name) })
  })
  stream.on('end', () => post({ type: 'done' }))
  register()
}

/** One test as a run saw it: its name, how many assertions it made, and what failed. */
export interface TestRecord {
  name: string
  assertions: number
  failures: string[]
}

/** Folds a run's events into its tests, in the order they ran. */
export function testRecords (events: TapeEvent[]): TestRecord[] {
  const tests: TestRecord[] = []
  for (const event of events) {
    if (event.type === 'test') {
      tests.push({ name: event.name, assertions: 0, failures: [] })
    } else if (event.type === 'assert') {
      const current = tests[tests.length - 1]
      if (current === undefined) continue
      current.assertions++
      if (!event.ok) current.failures.push(event.name)
    }
  }
  return tests
}
