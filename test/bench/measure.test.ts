// The bench's instruments against what is known to have happened while they watched: a loop held for a known
// time, a known number of bytes written to a file, a known amount of memory touched.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import v8 = require('node:v8')
import vm = require('node:vm')
import { Meter } from '../../bench/measure'

// A collection on demand, to free a large buffer before the next workload (tape runs without --expose-gc).
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const HOLD_MS = 60

function hold (ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end);
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

test('a loop held for 60 ms shows a gap and a p99 delay of at least that; an idle loop does not', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-bench-meter-'))
  try {
    const meter = new Meter(dir)
    const held = await meter.timed(async () => {
      await sleep(20)
      hold(HOLD_MS)
      await sleep(5)
    })
    t.ok(held.loop.maxGapMs >= HOLD_MS, `longest gap ${held.loop.maxGapMs.toFixed(1)} ms >= ${HOLD_MS} ms`)
    t.ok(held.loop.p99Ms >= HOLD_MS - 2, `p99 delay ${held.loop.p99Ms.toFixed(1)} ms: the held stretch is in the top 1%`)
    t.ok(held.ms >= HOLD_MS + 20, 'the clock covered the whole body')

    // Idle for 150 ms: the timer fires throughout (on a busy shared machine a gap may still reach tens of ms).
    const free = await meter.timed(() => sleep(150))
    t.ok(free.loop.maxGapMs < 100, `an idle loop's longest gap is a fraction of the workload (${free.loop.maxGapMs.toFixed(1)} ms)`)
    t.ok(free.loop.samples > 10, `the delay histogram sampled the idle loop (${free.loop.samples} samples)`)

    // A body that never lets the loop turn: no sample at all, so the whole body is the delay.
    const blocked = await meter.timed(async () => hold(HOLD_MS))
    t.ok(blocked.loop.maxGapMs >= HOLD_MS && blocked.loop.p99Ms >= HOLD_MS, 'a workload that never yields shows its whole length')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('timedCalls counts only the calls, while the monitors see the preparation too', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-bench-meter-'))
  try {
    const timing = await new Meter(dir).timedCalls(async (call) => {
      hold(HOLD_MS) // preparation: not on the clock
      await call(() => sleep(10))
    })
    t.ok(timing.ms >= 9 && timing.ms < HOLD_MS, `the clock shows the call alone (${timing.ms.toFixed(1)} ms)`)
    t.ok(timing.loop.maxGapMs >= HOLD_MS, 'the loop monitor saw the preparation hold the loop')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('bytes written and peak RSS are those of the workload, not of what came before', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-bench-meter-'))
  try {
    const meter = new Meter(dir)
    const size = 4 << 20
    const wrote = await meter.timed(async () => {
      fs.writeFileSync(path.join(dir, 'data'), Buffer.alloc(size, 1))
    })
    t.ok(wrote.usage.writtenBytes >= size && wrote.usage.writtenBytes < 2 * size,
      `4 MiB written is counted (${wrote.usage.writtenBytes} bytes, ${wrote.usage.writtenSource})`)
    const idle = await meter.timed(() => sleep(5))
    t.ok(idle.usage.writtenBytes < size / 4, `a workload that writes nothing is charged (almost) nothing (${idle.usage.writtenBytes})`)

    // 200 MB touched, then dropped: that workload's peak holds it; with a per-workload peak the next does not.
    const big = 200 * 1024 * 1024
    const grew = await meter.timed(async () => {
      const block = Buffer.alloc(big, 7)
      t.is(block[big - 1], 7, 'the memory was touched')
    })
    gc()
    const after = await meter.timed(() => sleep(5))
    t.ok(grew.usage.peakRssMB >= after.usage.peakRssMB + 150 || after.usage.peakRssScope === 'process',
      `a workload's peak RSS is its own (${grew.usage.peakRssMB} MB while holding 200 MB, then ${after.usage.peakRssMB} MB)`)
    t.ok(meter.processPeakRssMB() >= grew.usage.peakRssMB, 'the process peak keeps the largest workload peak')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
