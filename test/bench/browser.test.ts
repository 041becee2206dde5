// A run of `npm run bench:browser` at a tiny size, so that the browser benchmark cannot silently measure nothing:
// both engines run every workload on on-disk storage, every get returned the value written, every scan returned
// all entries in order with their values, and the random reads drew the keys Node draws from the same seed.
import test from 'tape'
import fs = require('node:fs')
import { runBrowserBench } from '../../bench/browser/run'
import { BROWSER_ENGINES, BROWSER_WORKLOADS, type BrowserBenchOptions } from '../../bench/browser/protocol'
import { distinct, mulberry32, sample, streamSeed } from '../../bench/data'
import { CHROMIUM, INSTALL_HINT } from '../browser/harness'

const OPTIONS: BrowserBenchOptions = { entries: 300, puts: 100, reads: 300, seed: 7, rounds: 2 }

test('bench:browser at 300 entries, 2 rounds: both engines, every answer right, storage on disk', async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.fail(INSTALL_HINT)
  const results = await runBrowserBench(OPTIONS)
  const drawn = distinct(sample(OPTIONS.entries, OPTIONS.reads, mulberry32(streamSeed(OPTIONS.seed, 'reads'))))
  for (let round = 0; round < OPTIONS.rounds; round++) for (const engine of BROWSER_ENGINES) {
    const ran = results.figures.filter((f) => f.engine === engine && f.round === round)
    const expected = BROWSER_WORKLOADS.filter((w) => engine === 'rough' || w !== 'getSync')
    t.same(ran.map((f) => f.workload), expected, `${engine} ${round} ran ${expected.join(', ')}`)
    t.same(ran.filter((f) => f.mismatches > 0).map((f) => `${f.workload}: ${f.mismatches}`), [], `${engine} ${round}: no wrong answer in any workload`)
    const ops = Object.fromEntries(ran.map((f) => [f.workload, f.ops]))
    t.same(ops, {
      put: OPTIONS.puts,
      'batch-1000': OPTIONS.entries,
      reopen: 1,
      get: OPTIONS.reads,
      ...(engine === 'rough' ? { getSync: OPTIONS.reads } : {}),
      'nextv-1000': OPTIONS.entries
    }, `${engine} ${round}: every put and read counted, the scan saw all ${OPTIONS.entries} entries`)
    t.ok(ran.every((f) => f.ms > 0), `${engine} ${round}: every workload took time`)
    const reads = ran.filter((f) => f.workload === 'get' || f.workload === 'getSync')
    t.ok(reads.every((f) => f.distinctKeys === drawn), `${engine} ${round}: the reads drew ${drawn} distinct keys, as Node draws from seed ${OPTIONS.seed}`)
  }
  // IndexedDB's own compactions may shrink it within a later round: a round's growth is checked on the fresh
  // profile, then what each engine's storage holds after every round.
  for (const d of results.disk) {
    const store = d.engine === 'rough' ? 'opfs' : 'indexedDb'
    const grew = d.after[store] - d.before[store]
    if (d.round === 0) t.ok(grew > OPTIONS.entries * 100, `${d.engine} 0: its storage (${store}) grew on disk by ${grew} bytes`)
    t.ok(d.after[store] > OPTIONS.entries * 100 * (d.round + 1), `${d.engine} ${d.round}: its storage (${store}) holds ${d.after[store]} bytes on disk`)
  }
  t.equal(results.disk.length, OPTIONS.rounds * BROWSER_ENGINES.length, 'the growth measured after every engine\'s every round')
})
