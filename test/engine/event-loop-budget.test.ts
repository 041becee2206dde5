// The main thread's time budget (engine/util/event-loop-budget.ts): every wait for a turn of the event loop
// ends, after a macrotask, however the waits are made: from a fresh slice, from an open one, from inside a
// resumed waiter, many in a chain. A wait that never resumed would hang whatever awaited it (an open's replay,
// a commit): each check here races a timer, so such a wait fails instead of hanging the test. Also the two
// drivers of work cut into steps (engine/util/steps.ts), which run on the thread's budget.
import test from 'tape'
import { EventLoopBudget } from '../../engine/util/event-loop-budget'
import { finishSteps, runSteps } from '../../engine/util/steps'

/** True if p settles within ms. */
async function settles (p: Promise<unknown>, ms = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  return await Promise.race([p.then(() => true), late]).finally(() => clearTimeout(timer))
}

test('event-loop budget: a wait resumes after a macrotask, whether or not a slice was open', async (t) => {
  const budget = new EventLoopBudget()
  let immediateRan = false
  setImmediate(() => { immediateRan = true })
  t.ok(await settles(budget.turn()), 'turn() with no slice open resumes')
  t.ok(immediateRan, 'after a macrotask queued before it')
  t.notOk(budget.spent(), 'the first spent() after a turn opens a slice and says go on')
  // The slice's turn was queued when it opened: the wait ends at that turn, not in this run of microtasks.
  let microtasksDone = false
  queueMicrotask(() => queueMicrotask(() => { microtasksDone = true }))
  t.ok(await settles(budget.turn()), 'turn() with a slice open resumes')
  t.ok(microtasksDone, 'after the microtasks queued before it')
})

test('event-loop budget: waits made from inside a resumed waiter, and a chain of 1000 turns, all resume', async (t) => {
  const budget = new EventLoopBudget()
  budget.sliceMs = 0
  const nested = new Promise<void>((resolve) => {
    budget.afterTurn(() => {
      budget.spent() // opens the next slice from inside the turn
      budget.afterTurn(() => budget.afterTurn(resolve))
    })
  })
  t.ok(await settles(nested), 'afterTurn from inside a waiter, with and without spent() first')
  const chain = (async () => {
    for (let i = 0; i < 1000; i++) {
      if (budget.spent()) await budget.turn()
      else await budget.pause()
    }
  })()
  t.ok(await settles(chain, 10_000), '1000 turns in a chain')
  const many = Promise.all(Array.from({ length: 100 }, () => budget.turn()))
  t.ok(await settles(many), '100 waiters of one turn')
})

test('event-loop budget: tick() reads the clock every few calls, and at the next call after longWork()', async (t) => {
  const budget = new EventLoopBudget()
  budget.sliceMs = 0 // every read of the clock finds the slice spent
  await budget.turn()
  t.notOk(budget.spent(), 'spent() opens a slice')
  let calls = 0
  while (!budget.tick()) calls++
  t.ok(calls > 0 && calls < 16, `tick() skipped the clock ${calls} times, then read it`)
  await budget.turn()
  budget.spent()
  t.notOk(budget.tick(), 'a tick right after the slice opened skips the clock')
  budget.longWork()
  t.ok(budget.tick(), 'the tick after longWork() reads it')
})

test('event-loop budget: after exhaust() the slice is spent, from inside a resumed waiter too, and the next turn opens a new one', async (t) => {
  const budget = new EventLoopBudget()
  t.notOk(budget.spent(), 'a fresh slice')
  budget.exhaust()
  t.ok(budget.spent(), 'spent once exhausted')
  t.ok(await settles(budget.turn()), 'a wait still resumes')
  let after: boolean | undefined
  budget.afterTurn(() => { budget.exhaust(); after = budget.spent() })
  t.ok(await settles(budget.turn()), 'a turn follows a waiter that exhausted the slice it was resumed in')
  t.is(after, true, 'work after exhaust() in the same macrotask finds the slice spent')
  t.ok(budget.spent(), 'and so does this continuation, resumed in that macrotask')
  t.ok(await settles(budget.turn()), 'the turn the exhausting waiter queued comes')
  t.notOk(budget.spent(), 'the first spent() after it opens a new slice')
})

test('steps: runSteps gives the event loop turns while it drives a generator, finishSteps none; both return its result', async (t) => {
  // 1,000 steps of 20 us each: 20 ms of work, 20 slices of the real budget's 1 ms.
  function * work (): Generator<void, number, void> {
    let sum = 0
    for (let i = 0; i < 1000; i++) {
      const until = performance.now() + 0.02
      while (performance.now() < until) sum++
      yield
    }
    return sum > 0 ? 1000 : -1
  }
  const watch = (): { stop: () => { turns: number, longest: number } } => {
    let turns = 0
    let longest = 0
    let last = performance.now()
    let on = true
    const next = (): void => {
      if (!on) return
      const now = performance.now()
      longest = Math.max(longest, now - last)
      last = now
      turns++
      setImmediate(next)
    }
    setImmediate(next)
    return { stop: () => { on = false; longest = Math.max(longest, performance.now() - last); return { turns, longest } } }
  }
  let w = watch()
  t.is(await runSteps(work()), 1000, 'runSteps returns the result')
  const stepped = w.stop()
  t.ok(stepped.turns >= 5, `the event loop turned ${stepped.turns} times during 20 ms of steps`)
  t.ok(stepped.longest < 15, `its longest wait was ${stepped.longest.toFixed(1)} ms (a generous bound: the slice is 1 ms)`)
  w = watch()
  t.is(finishSteps(work()), 1000, 'finishSteps returns the same result')
  const finished = w.stop()
  t.is(finished.turns, 0, 'without a turn')
})
