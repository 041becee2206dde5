// One group of writes committed together (LevelDB's BuildBatchGroup): every write queued before the
// commit microtask runs shares one WAL append. Writers that asked for `sync` also share one
// fdatasync, which must have begun after their bytes were written.
//
// Each promise is created only when a writer asks for it, so every promise that can reject has
// someone awaiting it (no unhandled rejections, no promise per group that nobody reads).

import type { WriteBatch } from './write-batch'

interface Deferred {
  promise: Promise<void>
  resolve: () => void
  reject: (err: Error) => void
}

function deferred (): Deferred {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

export class WriteGroup {
  /** The group's records: one WAL record when committed. */
  readonly batch: WriteBatch
  /** Settles when the group is in the WAL and the memtable; for writers without sync. */
  #written: Deferred | undefined
  /** Settles when the group is durable; for sync writers. */
  #durable: Deferred | undefined

  /** Takes more writes (#join): false once its commit began, and for a batch written in parts. */
  open = true
  /** Its records are all in batch: false while a batch written in parts is still being filled. */
  ready = true

  constructor (batch: WriteBatch) {
    this.batch = batch
  }

  /** The promise a writer awaits. */
  waitFor (sync: boolean): Promise<void> {
    if (sync) return (this.#durable ??= deferred()).promise
    return (this.#written ??= deferred()).promise
  }

  get needsSync (): boolean {
    return this.#durable !== undefined
  }

  /** The group is in the WAL and the memtable. */
  written (): void {
    this.#written?.resolve()
  }

  /** An fdatasync that began after the group was written has completed. */
  durable (): void {
    this.#durable?.resolve()
  }

  fail (err: Error): void {
    this.#written?.reject(err)
    this.#durable?.reject(err)
  }
}
