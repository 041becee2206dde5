// Runs a TAP suite in headless Chromium (one that posts { type: 'tap', line } then { type: 'done' }, from a
// worker or the page: browser-suite.ts) and judges it: it finished in time, without an error, with no failed
// assertion, to the end of its plan.
import type { Test } from 'tape'
import { openSession, type WorkerMessage } from './harness'

export interface SuiteRun {
  passed: number
  /** Each failed assertion with its YAML block (what was expected and what came). */
  failures: string[]
  errors: string[]
  plan: number | undefined
  timedOut: boolean
}

/**
 * Opens a session (`pageScript` on the page, if any), starts worker 'suite' unless the page starts its own,
 * and collects the TAP; `onMessage` sees every message as well.
 */
export async function runSuite (
  workerScript: string, pageScript: string | undefined, timeoutMs: number, onMessage: (message: WorkerMessage) => void = () => {}
): Promise<SuiteRun> {
  const run: SuiteRun = { passed: 0, failures: [], errors: [], plan: undefined, timedOut: false }
  let inFailure = false
  let finish!: () => void
  const finished = new Promise<void>((resolve) => { finish = resolve })
  const session = await openSession(workerScript, (message: WorkerMessage) => {
    onMessage(message)
    if (message.type === 'tap' && typeof message.line === 'string') for (const line of message.line.split('\n')) {
      if (line.startsWith('ok ')) {
        run.passed++
        inFailure = false
      } else if (line.startsWith('not ok ')) {
        run.failures.push(line)
        inFailure = true
      } else if (inFailure && line.startsWith('  ')) {
        run.failures[run.failures.length - 1] += '\n' + line
      }
      const planned = /^1\.\.(\d+)/.exec(line)
      if (planned !== null) run.plan = Number(planned[1])
    }
    if (message.type === 'error') {
      run.errors.push(String(message.message))
      finish()
    }
    if (message.type === 'done') finish()
  }, { pageScript })
  let timer: NodeJS.Timeout | undefined
  try {
    if (pageScript === undefined) await session.startWorker('suite')
    run.timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs) })
    ])
  } finally {
    clearTimeout(timer)
    await session.close()
  }
  return run
}

/** The assertions every suite run must pass; at least `minimum` assertions passed. */
export function judgeSuite (t: Test, run: SuiteRun, timeoutMs: number, minimum: number): void {
  t.notOk(run.timedOut, `the suite finished within ${timeoutMs / 1000} s (${run.passed} assertions passed by then)`)
  for (const error of run.errors) t.comment(`error: ${error}`)
  for (const failure of run.failures.slice(0, 20)) t.comment(failure)
  t.same(run.errors.length, 0, 'no error in the browser')
  t.equal(run.failures.length, 0, `no failed assertion (${run.failures.length} failed)`)
  t.equal(run.plan, run.passed + run.failures.length, `the suite's plan (${String(run.plan)}) was run to its end`)
  t.ok(run.passed >= minimum, `${run.passed} assertions passed`)
}
