// The writes both sides of files.test.ts make and check: a deterministic mix of puts, overwrites and
// deletes (a seeded generator), and the model of what a database holds after them. Enough bytes to pass a
// 64 KiB memtable several times, so that tables, a MANIFEST with edits and a live log all take part.

export type Operation = { type: 'put', key: string, value: string } | { type: 'del', key: string }

export function workload (seed: number, count: number): Operation[] {
  let state = seed >>> 0
  // xorshift32: the same numbers in Node and in the browser.
  const next = (): number => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state
  }
  const ops: Operation[] = []
  for (let i = 0; i < count; i++) {
    const key = `key-${String(next() % (count / 2)).padStart(6, '0')}`
    if (next() % 8 === 0) ops.push({ type: 'del', key })
    else ops.push({ type: 'put', key, value: `${i}:${'v'.repeat(next() % 200)}` })
  }
  return ops
}

/** What the database holds after ops, in key order. */
export function model (ops: readonly Operation[]): Array<[string, string]> {
  const map = new Map<string, string>()
  for (const op of ops) {
    if (op.type === 'put') map.set(op.key, op.value)
    else map.delete(op.key)
  }
  return [...map].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
}
