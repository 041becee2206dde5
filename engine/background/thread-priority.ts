// A background thread's CPU priority below the main thread's. On two cores the main thread, a flush and a
// compaction are three runnable threads, and the kernel's fair share then keeps the main thread (every API
// call and every timer of the application) waiting on the run queue for 10-15 ms at a time. At a lower
// priority (nice) the background threads take what the main thread leaves. RocksDB does the same with its
// low-priority pool (Env::LowerThreadPoolCPUPriority). Measured on 2 cores beside other load (500k random
// puts in awaited batches of 100, three interleaved pairs): timer gaps over 8 ms 18-88 against 34-177, p99
// of the loop's delay 6.7-17 against 10.6-30 ms, the main thread's time on the run queue 0.9-3.4 against
// 1.2-4.9 s, and the fill's throughput no lower (70-132k against 66-149k puts/s).
//
// Linux only: its setpriority accepts a thread id (/proc/thread-self names this thread). Elsewhere, or when
// the call is refused, the thread keeps its priority: a lower priority is an improvement, not a requirement.
import { readlinkSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/** How much lower than the thread that starts them background threads run, in nice steps. */
export const BACKGROUND_NICE_STEPS = 10
/** Linux's lowest priority. */
const LOWEST = 19

/** The nice value of a background thread started by a thread at `nice`. */
export function backgroundNice (nice: number): number {
  return Math.min(LOWEST, nice + BACKGROUND_NICE_STEPS)
}

/**
 * Lowers the calling thread's CPU priority by BACKGROUND_NICE_STEPS below the one it started with (a new
 * thread inherits its creator's); false when the platform does not allow it.
 */
export function lowerThisThreadsPriority (): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (!Number.isInteger(tid) || tid <= 0) return false
    setPriority(tid, backgroundNice(getPriority(tid)))
    return true
  } catch {
    return false
  }
}
