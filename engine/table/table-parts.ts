// What an open table keeps in memory for its life, as the builder that wrote the table made it: the
// index block (uncompressed) and the filter block. The thread that builds a table (the flush or
// compaction worker) hands them with its answer to the thread that reads the table, which then opens
// it without reading, checksumming or decompressing either (Table.open). On the main thread such an
// open was a synchronous stretch for every table a flush or compaction wrote: 0.2 ms for a 2 MiB table
// with warm code, 2-5 ms while the code was still cold (the first flushes of a process).
//
// The bytes are the ones the builder wrote to the file, so a table opened from them answers as one
// opened from the file; the builder's thread reads the finished file back once (footer, index, filter,
// their checksums verified), as LevelDB checks each table it builds, before it hands them over.

export interface TableParts {
  /** The index block's contents, uncompressed, in memory of their own (the whole of their ArrayBuffer). */
  index: Uint8Array
  /** Where the index block starts in the file (for error messages). */
  indexOffset: number
  /** The filter block, in memory of its own; undefined when the table has none. */
  filter: Uint8Array | undefined
  /** Where the metaindex block starts (approximateOffsetOf's answer past the last key). */
  metaindexOffset: number
}

/** The buffers to move, not copy, when `parts` cross postMessage (the sender must not use them after). */
export function transferables (parts: ReadonlyArray<TableParts | undefined>): ArrayBuffer[] {
  const list: ArrayBuffer[] = []
  for (const p of parts) {
    if (p === undefined) continue
    list.push(p.index.buffer as ArrayBuffer)
    if (p.filter !== undefined) list.push(p.filter.buffer as ArrayBuffer)
  }
  return list
}
