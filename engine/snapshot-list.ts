// Live snapshots (LevelDB db/snapshot.h). A snapshot is a sequence number: reads through it see
// exactly the writes numbered at or below it. Compaction (later) keeps every version some live
// snapshot can see, so the list answers "what is the oldest sequence still being read?".

export class Snapshot {
  readonly sequence: number
  #list: SnapshotList | undefined
  /** What else the snapshot holds (a follower's pinned view: engine/db/read-only.ts), released with it. */
  #onRelease: (() => void) | undefined

  constructor (sequence: number, list: SnapshotList, onRelease?: () => void) {
    this.sequence = sequence
    this.#list = list
    this.#onRelease = onRelease
  }

  /** Idempotent. */
  release (): void {
    if (this.#list === undefined) return
    this.#list.remove(this)
    this.#list = undefined
    const onRelease = this.#onRelease
    this.#onRelease = undefined
    onRelease?.()
  }
}

export class SnapshotList {
  /** Reference counts by sequence; several snapshots often share one. */
  #counts = new Map<number, number>()

  create (sequence: number, onRelease?: () => void): Snapshot {
    this.#counts.set(sequence, (this.#counts.get(sequence) ?? 0) + 1)
    return new Snapshot(sequence, this, onRelease)
  }

  remove (snapshot: Snapshot): void {
    const n = this.#counts.get(snapshot.sequence) ?? 0
    if (n <= 1) this.#counts.delete(snapshot.sequence)
    else this.#counts.set(snapshot.sequence, n - 1)
  }

  get size (): number {
    return this.#counts.size
  }

  /** The oldest live snapshot's sequence, or undefined when there is none. */
  oldest (): number | undefined {
    let min: number | undefined
    for (const s of this.#counts.keys()) if (min === undefined || s < min) min = s
    return min
  }
}
