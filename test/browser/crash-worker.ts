// The worker side of crash.test.ts. Told { cmd: 'write', from }, it opens the database and puts keys
// from, from + 1, ... with sync: true, posting { type: 'ack', i } as each put resolves, until the page
// terminates it. Told { cmd: 'check' }, it opens the pool (waiting while a terminated writer's handles
// are still held), reads every entry and posts { type: 'contents', entries }. No tape, no `process`:
// this is the package as a user's bundle has it.
import { openOpfs, RoughLevel } from '../../browser'
import { decodeUtf8 } from '../../engine/util/bytes'
import { catchEverything, reportError, scope } from './worker-scope'
import { crashKey, crashValue, CRASH_DB, CRASH_POOL, CRASH_OPTIONS } from './crash-workload'

catchEverything()

/** A terminated worker's sync access handles are freed up to ~2 s later (busy writing): wait for them. */
async function openPool (): Promise<Awaited<ReturnType<typeof openOpfs>>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await openOpfs({ pool: CRASH_POOL })
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'LEVEL_LOCKED' || attempt >= 100) throw err
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

async function write (from: number): Promise<void> {
  await openPool()
  const db = new RoughLevel(CRASH_DB, CRASH_OPTIONS)
  await db.open()
  scope.postMessage({ type: 'writing', process: typeof process, sharedMemory: typeof SharedArrayBuffer })
  for (let i = from; ; i++) {
    await db.put(crashKey(i), crashValue(i), { sync: true })
    scope.postMessage({ type: 'ack', i })
  }
}

async function check (): Promise<void> {
  const fs = await openPool()
  const db = new RoughLevel(CRASH_DB, CRASH_OPTIONS)
  await db.open()
  const entries = await db.iterator().all()
  await db.close()
  // The terminated writer's LOG, rotated by this open: what its flushes and compactions did.
  const log = fs.exists(`${CRASH_DB}/LOG.old`) ? decodeUtf8(fs.readFile(`${CRASH_DB}/LOG.old`)) : ''
  fs.close()
  const count = (pattern: RegExp): number => log.match(pattern)?.length ?? 0
  scope.postMessage({ type: 'contents', entries, flushes: count(/Level-0 table #\d+: \d+ bytes OK/g), compactions: count(/Compacted /g) })
}

scope.addEventListener('message', (event) => {
  const { cmd, from } = event.data as { cmd: string, from: number }
  const job = cmd === 'write' ? write(from) : check()
  job.catch(reportError)
})
