// The worker side of engine.test.ts: runs one of the engine's own test files (named by the worker's URL,
// /worker.js?<name>) with tape and posts its events (tape-events.ts). Each file runs in a worker of its own,
// as each runs in a process of its own in Node. The browser build's globals are installed before any
// engine module loads (the test files are required only when run).
import { installGlobals } from '../../engine/browser/globals'
import { browserTape } from './browser-suite'
import { recordTape } from './tape-events'
import { catchEverything, reportError, scope } from './worker-scope'

installGlobals()
catchEverything()

// Static requires, for the bundler; engine-files.ts lists the same names.
const FILES: Record<string, () => unknown> = {
  block: () => require('../engine/block.test'),
  bloom: () => require('../engine/bloom.test'),
  coding: () => require('../engine/coding.test'),
  crc32c: () => require('../engine/crc32c.test'),
  'db-iterator': () => require('../engine/db-iterator.test'),
  'event-loop-budget': () => require('../engine/event-loop-budget.test'),
  'filter-block': () => require('../engine/filter-block.test'),
  hash: () => require('../engine/hash.test'),
  'key-shortening': () => require('../engine/key-shortening.test'),
  log: () => require('../engine/log.test'),
  'lru-cache': () => require('../engine/lru-cache.test'),
  memtable: () => require('../engine/memtable.test'),
  'merging-iterator': () => require('../engine/merging-iterator.test'),
  'read-ahead': () => require('../engine/read-ahead.test'),
  snappy: () => require('../engine/snappy.test'),
  'version-edit': () => require('../engine/version-edit.test'),
  'write-batch': () => require('../engine/write-batch.test')
}

const name = (globalThis as unknown as { location: { search: string } }).location.search.slice(1)
const load = FILES[name]
if (load === undefined) reportError(new Error(`no test file ${name} in engine-worker.ts`))
else {
  try {
    recordTape(browserTape(), load, (event) => scope.postMessage(event))
  } catch (err) {
    reportError(err)
  }
}
