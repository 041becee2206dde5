// An LRU cache bounded by total charge (bytes), keyed by (id, offset): LevelDB's block cache
// (util/cache.cc, keyed there by fixed64(cache_id) ‖ fixed64(block_offset)). Each open table gets a new
// id, so entries of a closed table are never found again and simply age out.
//
// Single-threaded (the main thread's reads); values must be immutable, since a cached value is shared by
// every reader that gets it. An entry whose charge exceeds the whole capacity is not kept.
//
// The cache owns what it is given: `onRemove` is called once for each value inserted, when it leaves the
// cache (evicted, erased, replaced, cleared, or refused for its charge), so that a caller that counts
// references (blocks: block.ts) can take one for the cache before insert() and have it dropped here.

interface Node<V> {
  id: number
  offset: number
  value: V
  charge: number
  prev: Node<V> | undefined // towards the least recently used
  next: Node<V> | undefined // towards the most recently used
}

export class LruCache<V> {
  readonly capacity: number
  readonly #chargeOf: (value: V) => number
  readonly #onRemove: ((value: V) => void) | undefined
  readonly #tables = new Map<number, Map<number, Node<V>>>()
  #oldest: Node<V> | undefined
  #newest: Node<V> | undefined
  #totalCharge = 0
  #size = 0
  /** A removed node, for the next insert to fill. */
  #spare: Node<V> | undefined

  /** `chargeOf` gives a value's cost against `capacity` (for blocks, their byte length). */
  constructor (capacity: number, chargeOf: (value: V) => number, onRemove?: (value: V) => void) {
    this.capacity = capacity
    this.#chargeOf = chargeOf
    this.#onRemove = onRemove
  }

  get totalCharge (): number {
    return this.#totalCharge
  }

  /** Number of entries. */
  get size (): number {
    return this.#size
  }

  /** The value cached under (id, offset), now the most recently used; undefined if absent. */
  get (id: number, offset: number): V | undefined {
    const node = this.#tables.get(id)?.get(offset)
    if (node === undefined) return undefined
    this.#unlink(node)
    this.#link(node)
    return node.value
  }

  /** Caches value under (id, offset), replacing any previous one, then evicts the least recently used until within capacity. */
  insert (id: number, offset: number, value: V): void {
    const charge = this.#chargeOf(value)
    this.erase(id, offset)
    if (charge > this.capacity) {
      this.#onRemove?.(value)
      return
    }
    // Evicted first, so that a full cache's insert takes the node its eviction freed (#spare) and
    // allocates nothing: a cache that misses keeps no garbage of its own.
    while (this.#totalCharge + charge > this.capacity && this.#oldest !== undefined) this.#remove(this.#oldest)
    let table = this.#tables.get(id)
    if (table === undefined) {
      table = new Map()
      this.#tables.set(id, table)
    }
    let node = this.#spare
    if (node !== undefined) {
      this.#spare = undefined
      node.id = id
      node.offset = offset
      node.value = value
      node.charge = charge
    } else {
      node = { id, offset, value, charge, prev: undefined, next: undefined }
    }
    table.set(offset, node)
    this.#link(node)
    this.#totalCharge += charge
    this.#size++
  }

  erase (id: number, offset: number): void {
    const node = this.#tables.get(id)?.get(offset)
    if (node !== undefined) this.#remove(node)
  }

  /** Drops every entry of `id` (a table that is gone for good). */
  eraseId (id: number): void {
    const table = this.#tables.get(id)
    if (table === undefined) return
    for (const node of table.values()) this.#remove(node)
  }

  clear (): void {
    const onRemove = this.#onRemove
    if (onRemove !== undefined) for (let node = this.#oldest; node !== undefined; node = node.next) onRemove(node.value)
    this.#tables.clear()
    this.#oldest = this.#newest = undefined
    this.#totalCharge = 0
    this.#size = 0
  }

  #remove (node: Node<V>): void {
    this.#unlink(node)
    const table = this.#tables.get(node.id)
    if (table !== undefined) {
      table.delete(node.offset)
      if (table.size === 0) this.#tables.delete(node.id)
    }
    this.#totalCharge -= node.charge
    this.#size--
    const value = node.value
    node.value = undefined as V // hold no value past its removal
    this.#spare = node
    this.#onRemove?.(value)
  }

  #link (node: Node<V>): void {
    node.prev = this.#newest
    node.next = undefined
    if (this.#newest !== undefined) this.#newest.next = node
    else this.#oldest = node
    this.#newest = node
  }

  #unlink (node: Node<V>): void {
    if (node.prev !== undefined) node.prev.next = node.next
    else this.#oldest = node.next
    if (node.next !== undefined) node.next.prev = node.prev
    else this.#newest = node.prev
    node.prev = node.next = undefined
  }
}
