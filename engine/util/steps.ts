// Work cut into steps: a generator that yields between small pieces of its work (a MANIFEST record, a
// table's block) and returns its result. The main thread drives one with runSteps, which gives the event
// loop a turn whenever the slice is spent (event-loop-budget.ts); tools, workers and synchronous callers
// drive the same generator to its end at once with finishSteps. One generator, two drivers: the work is
// written once, whichever thread runs it.
//
// Each step must be small (microseconds to tens of them): runSteps looks at the clock every few steps
// (EventLoopBudget.tick), so a step's length times that count is how far a slice may overrun.
import { eventLoopBudget } from './event-loop-budget'

/** Drives steps to their end, with a turn of the event loop whenever the slice is spent; returns their result. */
export async function runSteps<T> (steps: Generator<unknown, T, void>): Promise<T> {
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
    if (eventLoopBudget.tick()) await eventLoopBudget.turn()
  }
}

/** Drives steps to their end at once, without a turn; returns their result. */
export function finishSteps<T> (steps: Generator<unknown, T, void>): T {
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
  }
}
