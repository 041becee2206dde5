// What crash.test.ts writes in the browser and expects back: shared by the test and its worker.

export const CRASH_POOL = 'crash'
export const CRASH_DB = '/crash'
/** A small write buffer: the writes cross many memtable switches, inline flushes and compactions. */
export const CRASH_OPTIONS = { writeBufferSize: 64 * 1024 }

/**
 * The i-th put's key: i scrambled (an odd multiplier is a bijection mod 2^32), so that successive tables
 * overlap and flushes lead to real compactions, not trivial moves.
 */
export function crashKey (i: number): string {
  return (Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0')
}

/** ~300 bytes, different for each key, so that a value from another key is seen as wrong. */
export function crashValue (i: number): string {
  return `${i}:`.padEnd(300, String.fromCharCode(97 + (i % 26)))
}
