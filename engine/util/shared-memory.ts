// Memory that the flush and compaction workers share with the main thread (a memtable's arena, the
// descriptor budget, a compaction's cancel flag). A browser page that is not cross-origin isolated has no
// SharedArrayBuffer; there the browser build runs flushes and compactions inline (its file system cannot
// be described to a worker), so such memory is never posted anywhere and a plain ArrayBuffer serves.

const Shared: new (bytes: number) => SharedArrayBuffer =
  typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : ArrayBuffer as unknown as new (bytes: number) => SharedArrayBuffer

/** `bytes` zeroed bytes, shared between threads where the runtime can share memory. */
export function sharedMemory (bytes: number): SharedArrayBuffer {
  return new Shared(bytes)
}
