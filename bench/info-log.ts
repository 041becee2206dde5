// What LevelDB's info log (LOG) costs the write path: the same fill with `infoLog` on (the default) and off,
// in alternating child processes, each with a small write buffer so that it flushes and compacts often (every
// flush, compaction, deletion and stall is a LOG line; a write that fills no memtable writes none). Each
// figure is its best round; the LOG's line count says how much it wrote.
//
//   npm run build && node dist/bench/info-log.js [--n=300000] [--rounds=3]
//
// Not a test: it prints figures and the ratio, nothing passes or fails.
import { fork } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../index'
import { numberArg } from './args'
import { keyOf, mulberry32, sample, ValuePool } from './data'

interface ChildResult { putsPerSec: number, batchPerSec: number, logLines: number }

async function child (dir: string, n: number, infoLog: boolean): Promise<void> {
  const db = new RoughLevel(dir, { infoLog, writeBufferSize: 256 * 1024 })
  await db.open()
  const values = new ValuePool(mulberry32(1))
  const order = sample(n, n, mulberry32(3))
  // Awaited single puts (a fifth of the keys), then batches of 1000 (the rest): random keys.
  const singles = Math.floor(n / 5)
  let start = process.hrtime.bigint()
  for (let i = 0; i < singles; i++) await db.put(keyOf(order[i]), values.value(i))
  const putMs = Number(process.hrtime.bigint() - start) / 1e6
  start = process.hrtime.bigint()
  for (let i = singles; i < n; i += 1000) {
    const ops = []
    for (let j = i; j < Math.min(n, i + 1000); j++) ops.push({ type: 'put' as const, key: keyOf(order[j]), value: values.value(j) })
    await db.batch(ops)
  }
  const batchMs = Number(process.hrtime.bigint() - start) / 1e6
  await db.close()
  const logPath = path.join(dir, 'LOG')
  const logLines = fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8').split('\n').length - 1 : 0
  const result: ChildResult = { putsPerSec: singles / putMs * 1000, batchPerSec: (n - singles) / batchMs * 1000, logLines }
  process.send?.(result)
}

function runChild (dir: string, n: number, infoLog: boolean): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(__filename, ['child', dir, String(n), infoLog ? 'on' : 'off'])
    let result: ChildResult | undefined
    proc.on('message', (m) => { result = m as ChildResult })
    proc.on('exit', (code) => result === undefined ? reject(new Error(`child exited with ${String(code)}`)) : resolve(result))
  })
}

async function main (): Promise<void> {
  if (process.argv[2] === 'child') return child(process.argv[3], Number(process.argv[4]), process.argv[5] === 'on')
  const n = numberArg('n', 300000)
  const rounds = numberArg('rounds', 3)
  console.log(`${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-bench-infolog-'))
  try {
    const best = { on: { putsPerSec: 0, batchPerSec: 0, logLines: 0 }, off: { putsPerSec: 0, batchPerSec: 0, logLines: 0 } }
    for (let r = 0; r < rounds; r++) {
      for (const on of [true, false]) {
        const dir = path.join(root, `${r}-${on ? 'on' : 'off'}`)
        const res = await runChild(dir, n, on)
        fs.rmSync(dir, { recursive: true, force: true })
        const b = on ? best.on : best.off
        b.putsPerSec = Math.max(b.putsPerSec, res.putsPerSec)
        b.batchPerSec = Math.max(b.batchPerSec, res.batchPerSec)
        b.logLines = Math.max(b.logLines, res.logLines)
      }
    }
    if (best.off.logLines !== 0) throw new Error(`infoLog: false wrote ${best.off.logLines} LOG lines`)
    const line = (name: string, on: number, off: number): string =>
      `${name}: LOG on ${Math.round(on).toLocaleString('en')}/s, off ${Math.round(off).toLocaleString('en')}/s (on/off ${(on / off).toFixed(3)})`
    console.log(`${n.toLocaleString('en')} random puts (16-byte keys, 100-byte values), 256 KiB write buffer, best of ${rounds}; LOG held ${best.on.logLines} lines:`)
    console.log(line('awaited put', best.on.putsPerSec, best.off.putsPerSec))
    console.log(line('batches of 1000', best.on.batchPerSec, best.off.batchPerSec))
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
