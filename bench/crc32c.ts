// What the native crc32c (@node-rs/crc32) buys over the pure-TypeScript fallback: the checksum of one 4 KiB
// block, then reads over tables in child processes with and without the binding (ROUGH_LEVEL_PURE_CRC=1
// keeps it from loading): getSync of random keys with a block cache too small to hold the data (most reads
// verify a block from disk), and a full scan with nextv(1000) (iterators bypass the block cache, so every
// block is read and verified). Rounds alternate between the two; each figure is its best round.
//
//   npm run build && node dist/bench/crc32c.js [--n=200000] [--reads=100000] [--rounds=3]
//
// Not a test: it prints figures and ratios, nothing passes or fails.
import { fork } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../index'
import { crc32c, crc32cPure, nativeCrc32c } from '../engine/util/crc32c'
import { numberArg } from './args'
import { keyOf, mulberry32, sample, ValuePool } from './data'

interface ChildResult { native: boolean, getSyncPerSec: number, scanPerSec: number }

/** Nanoseconds per call of fn over a 4 KiB block, best of `rounds`. */
function nsPerBlock (fn: (data: Uint8Array, initial: number) => number, rounds: number): number {
  const block = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff)
  const calls = 20000
  let best = Infinity
  let sink = 0
  for (let r = 0; r < rounds + 1; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) sink ^= fn(block, i)
    const ns = Number(process.hrtime.bigint() - start) / calls
    if (r > 0) best = Math.min(best, ns) // round 0 warms up the JIT
  }
  if (sink === 0.5) console.log(sink) // never true: only keeps the loop's results alive
  return best
}

async function child (dir: string, reads: number, n: number): Promise<void> {
  const db = new RoughLevel(dir, { cacheSize: 64 * 1024 })
  await db.open()
  const order = sample(n, reads, mulberry32(7))
  const keys = Array.from(order, keyOf)
  for (let i = 0; i < 2000; i++) db.getSync(keys[i]) // warm-up
  let start = process.hrtime.bigint()
  let found = 0
  for (const key of keys) if (db.getSync(key) !== undefined) found++
  const getMs = Number(process.hrtime.bigint() - start) / 1e6
  start = process.hrtime.bigint()
  const it = db.iterator()
  let scanned = 0
  for (let batch = await it.nextv(1000); batch.length > 0; batch = await it.nextv(1000)) scanned += batch.length
  await it.close()
  const scanMs = Number(process.hrtime.bigint() - start) / 1e6
  await db.close()
  if (found !== reads || scanned !== n) throw new Error(`wrong answers: ${found} of ${reads} found, ${scanned} of ${n} scanned`)
  const result: ChildResult = { native: nativeCrc32c, getSyncPerSec: reads / getMs * 1000, scanPerSec: n / scanMs * 1000 }
  process.send?.(result)
}

function runChild (dir: string, reads: number, n: number, pure: boolean): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env }
    if (pure) env.ROUGH_LEVEL_PURE_CRC = '1'
    else delete env.ROUGH_LEVEL_PURE_CRC
    const proc = fork(__filename, ['child', dir, String(reads), String(n)], { env })
    let result: ChildResult | undefined
    proc.on('message', (m) => { result = m as ChildResult })
    proc.on('exit', (code) => result === undefined ? reject(new Error(`child exited with ${String(code)}`)) : resolve(result))
  })
}

async function main (): Promise<void> {
  if (process.argv[2] === 'child') return child(process.argv[3], Number(process.argv[4]), Number(process.argv[5]))
  const n = numberArg('n', 200000)
  const reads = numberArg('reads', 100000)
  const rounds = numberArg('rounds', 3)
  console.log(`${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)

  const pureNs = nsPerBlock(crc32cPure, rounds)
  const nativeNs = nativeCrc32c ? nsPerBlock(crc32c, rounds) : NaN
  console.log(`crc32c of a 4 KiB block: native ${nativeNs.toFixed(0)} ns, pure ${pureNs.toFixed(0)} ns (pure/native ${(pureNs / nativeNs).toFixed(1)}x)`)

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-bench-crc-'))
  try {
    const db = new RoughLevel(dir)
    const values = new ValuePool(mulberry32(1))
    for (let i = 0; i < n; i += 1000) {
      await db.batch(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ type: 'put' as const, key: keyOf(i + j), value: values.value(i + j) })))
    }
    await db.compactRange(keyOf(0), keyOf(n))
    await db.close()

    const best = { native: { getSyncPerSec: 0, scanPerSec: 0 }, pure: { getSyncPerSec: 0, scanPerSec: 0 } }
    for (let r = 0; r < rounds; r++) {
      for (const pure of [false, true]) {
        const res = await runChild(dir, reads, n, pure)
        if (res.native === pure) throw new Error(`child meant to run ${pure ? 'without' : 'with'} the binding reports native=${String(res.native)}`)
        const b = pure ? best.pure : best.native
        b.getSyncPerSec = Math.max(b.getSyncPerSec, res.getSyncPerSec)
        b.scanPerSec = Math.max(b.scanPerSec, res.scanPerSec)
      }
    }
    const line = (name: string, a: number, b: number): string =>
      `${name}: native ${Math.round(a).toLocaleString('en')}/s, pure ${Math.round(b).toLocaleString('en')}/s (pure/native ${(b / a).toFixed(2)})`
    console.log(`${n.toLocaleString('en')} entries in tables (16-byte keys, 100-byte values, snappy), best of ${rounds}:`)
    console.log(line('getSync, 64 KiB block cache', best.native.getSyncPerSec, best.pure.getSyncPerSec))
    console.log(line('scan nextv(1000)', best.native.scanPerSec, best.pure.scanPerSec))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
