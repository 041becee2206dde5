// Background threads run below the main thread's CPU priority (engine/background/thread-priority.ts), so
// that on a machine with few cores a flush or a compaction does not keep the main thread (every API call
// and the application's timers) waiting on the run queue. Linux only, as the mechanism: each thread's nice
// value is field 19 of /proc/self/task/<tid>/stat.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { backgroundNice } from '../../engine/background/thread-priority'
import { drain } from '../../engine/background/thread-pool'
import { RoughLevel } from '../../index'

/** The nice value of each of this process's threads, by thread id. */
function threadNice (): Map<number, number> {
  const out = new Map<number, number>()
  for (const tid of fs.readdirSync('/proc/self/task')) {
    let stat: string
    try {
      stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    } catch {
      continue // a thread that ended meanwhile
    }
    // Fields after the command name (which may hold spaces and parentheses) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    out.set(Number(tid), Number(fields[19 - 3]))
  }
  return out
}

test('thread priority: the flush and compaction threads run BACKGROUND_NICE_STEPS below the main thread', { skip: process.platform !== 'linux' }, async (t) => {
  await drain()
  const mainNice = os.getPriority()
  const lower = backgroundNice(mainNice)
  const before = [...threadNice().values()].filter((n) => n === lower).length
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-thread-priority-'))
  try {
    const db = new RoughLevel(dir, { writeBufferSize: 64 * 1024 })
    await db.open()
    const value = 'v'.repeat(100)
    for (let i = 0; i < 20_000; i++) await db.put(String(i * 7919 % 20_011).padStart(10, '0'), value)
    const compactions = Number(db.getProperty('leveldb.num-files-at-level1')) + Number(db.getProperty('leveldb.num-files-at-level2'))
    t.ok(compactions > 0, `the workload flushed and compacted (${compactions} tables below level 0)`)
    const during = threadNice()
    const lowered = [...during.values()].filter((n) => n === lower).length - before
    t.ok(lowered >= 2, `${lowered} threads run at nice ${lower} (the flush and the compaction thread)`)
    t.is(during.get(process.pid), mainNice, `the main thread keeps its nice value (${mainNice})`)
    await db.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await drain()
  }
})
