// One group of writes committed together (LevelDB's BuildBatchGroup): every write queued before the
// commit microtask runs shares one WAL append. Writers that asked for `sync` also share one
// fdatasync, which must have begun after their bytes were written.

interface Deferred {
  promise: Promise<void>
  resolve: () => void
  reject: (err: Error) => void
}

function noop (): void {}

function deferred (): Deferred {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  // A group may fail with nobody awaiting this promise (every writer awaited the other one): mark it
  // handled so that the failure surfaces only where someone waits.
  promise.catch(noop)
  return { promise, resolve, reject }
}

export class WriteGroup {
  /** Settles when the group is in the WAL and the memtable. */
  readonly written: Deferred = deferred()
  /** Settles when the group is durable; created only if a writer asked for sync. */
  durable: Deferred | undefined

  /** The promise a writer awaits. */
  waitFor (sync: boolean): Promise<void> {
    if (!sync) return this.written.promise
    this.durable ??= deferred()
    return this.durable.promise
  }

  fail (err: Error): void {
    this.written.reject(err)
    this.durable?.reject(err)
  }
}
