// A list of items in the order they were last used, least recent first: the table cache's idle tables,
// the descriptor budget's open table files. Intrusive (the links live in the items), so that marking an
// item used costs two pointer moves and no allocation. An item is in at most one list at a time.

/** The links an item carries; undefined when it is at an end, or in no list. */
export interface RecencyLinks<T> {
  older: T | undefined
  newer: T | undefined
}

export class RecencyList<T extends RecencyLinks<T>> {
  #oldest: T | undefined
  #newest: T | undefined

  /** The least recently used item. */
  get oldest (): T | undefined {
    return this.#oldest
  }

  /** Adds item as the most recently used. Requires: item is in no list. */
  push (item: T): void {
    item.older = this.#newest
    item.newer = undefined
    if (this.#newest !== undefined) this.#newest.newer = item
    else this.#oldest = item
    this.#newest = item
  }

  /** Takes item out. Requires: item is in this list. */
  remove (item: T): void {
    if (item.older !== undefined) item.older.newer = item.newer
    else this.#oldest = item.newer
    if (item.newer !== undefined) item.newer.older = item.older
    else this.#newest = item.older
    item.older = item.newer = undefined
  }

  /** Marks item, which is in this list, the most recently used. */
  touch (item: T): void {
    if (item === this.#newest) return
    this.remove(item)
    this.push(item)
  }
}
