import test from 'tape'
import type { RandomAccessFile, WritableFile } from '../../engine/fs/file-system'
import { compareInternalKeys, putTag, ValueType } from '../../engine/internal-key'
import { BlockHandle } from '../../engine/table/format'
import type { ReadAhead } from '../../engine/table/read-ahead'
import { Table } from '../../engine/table/table'
import { TableBuilder, type TableBuilderOptions } from '../../engine/table/table-builder'
import type { LruCache } from '../../engine/util/lru-cache'
import { newBlockCache } from '../../engine/table/block-cache'
import type { Block } from '../../engine/table/block'

/** A table file in memory that counts the reads made of it and the bytes they asked for. */
class CountingFile implements RandomAccessFile, WritableFile {
  readonly path = '000007.ldb'
  bytes = Buffer.alloc(0)
  reads = 0
  bytesRead = 0

  append (b: Uint8Array, off: number, len: number): void {
    this.bytes = Buffer.concat([this.bytes, b.subarray(off, off + len)])
  }

  read (b: Uint8Array, off: number, len: number, position: number): number {
    this.reads++
    const n = Math.max(0, Math.min(len, this.bytes.length - position))
    this.bytesRead += n
    b.set(this.bytes.subarray(position, position + n), off)
    return n
  }

  size (): number { return this.bytes.length }
  sync (): void {}
  async syncAsync (): Promise<void> {}
  close (): void {}
}

function ikey (i: number): Buffer {
  const b = Buffer.alloc(16 + 8)
  b.write(String(i).padStart(16, '0'), 'latin1')
  putTag(b, 16, i + 1, ValueType.Value)
  return b
}

/** Values half random and half repeated (db_bench's), so snappy blocks are really compressed. */
function value (i: number): Buffer {
  const v = Buffer.alloc(100, 65)
  let s = i * 2654435761 >>> 0
  for (let j = 0; j < 50; j++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; v[j] = s >>> 24 }
  return v
}

const N = 6000

function build (compression: TableBuilderOptions['compression']): CountingFile {
  const file = new CountingFile()
  const builder = new TableBuilder({ blockSize: 4096, blockRestartInterval: 16, compression, bloomBitsPerKey: 10 }, file)
  for (let i = 0; i < N; i++) { const k = ikey(i); const v = value(i); builder.add(k, 0, k.length, v, 0, v.length) }
  builder.finish()
  return file
}

function open (file: CountingFile, cache?: LruCache<Block>): Table {
  const table = Table.open(file, file.bytes.length, file.path, { blockCache: cache, cacheId: 1 })
  file.reads = 0
  file.bytesRead = 0
  return table
}

for (const compression of ['snappy', 'none'] as const) {
  test(`readahead (${compression}): a scan reads the table in windows, both ways, and serves every entry`, (t) => {
    const file = build(compression)
    const table = open(file)
    const forward = table.iterator(false)
    let i = 0
    let wrong = 0
    for (forward.seekToFirst(); forward.valid(); forward.next(), i++) {
      const k = ikey(i)
      if (compareInternalKeys(forward.keyBuf, forward.keyOff, forward.keyLen, k, 0, k.length) !== 0 ||
        !Buffer.from(forward.valueBuf.subarray(forward.valueOff, forward.valueOff + forward.valueLen)).equals(value(i))) wrong++
    }
    forward.close()
    const blocks = table.stats.dataBlockReads
    t.is(i, N, `forward: ${N} entries`)
    t.is(wrong, 0, 'forward: every key and value as written')
    t.ok(blocks > 100 && file.reads <= blocks / 8 + 4, `forward: ${blocks} data blocks in ${file.reads} reads`)
    const dataBytes = file.bytesRead

    file.reads = 0
    file.bytesRead = 0
    const backward = table.iterator(false)
    i = N - 1
    wrong = 0
    for (backward.seekToLast(); backward.valid(); backward.prev(), i--) {
      const k = ikey(i)
      if (compareInternalKeys(backward.keyBuf, backward.keyOff, backward.keyLen, k, 0, k.length) !== 0) wrong++
    }
    backward.close()
    t.is(i, -1, 'backward: every entry')
    t.is(wrong, 0, 'backward: every key in order')
    t.ok(file.reads <= blocks / 8 + 4, `backward: ${blocks} data blocks in ${file.reads} reads`)
    t.ok(file.bytesRead <= dataBytes + 256 * 1024, `backward: ${file.bytesRead} bytes read for ${dataBytes} of blocks`)
    t.end()
  })
}

test('readahead: seeks that jump about read one block each, no windows', (t) => {
  const file = build('snappy')
  const table = open(file)
  const it = table.iterator(false)
  let s = 12345
  const seeks = 200
  for (let n = 0; n < seeks; n++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    const k = ikey(s % N)
    it.seek(k, 0, k.length)
    if (!it.valid()) t.fail('a key that exists is found')
  }
  it.close()
  t.ok(file.reads <= seeks, `${seeks} seeks: ${file.reads} reads`)
  t.ok(file.bytesRead <= seeks * 4200, `${file.bytesRead} bytes read (a block each is at most ~${seeks * 4200})`)
  t.end()
})

test('readahead: blocks cached from a scan are copied out of the windows they were read in, and own their memory once hit', (t) => {
  const file = build('none')
  const cache = newBlockCache(64 * 1024 * 1024)
  const table = open(file, cache)
  const it = table.iterator(true)
  const windows = new Set<ArrayBufferLike>()
  const orig = table.dataBlock.bind(table)
  const watched = new Set<ReadAhead>()
  table.dataBlock = (h, fc, ra) => {
    if (ra !== undefined && !watched.has(ra)) {
      watched.add(ra)
      const stored = ra.stored.bind(ra)
      ra.stored = (handle) => { const bytes = stored(handle); windows.add(bytes.buffer); return bytes }
    }
    return orig(h, fc, ra)
  }
  for (it.seekToFirst(); it.valid(); it.next());
  it.close()
  table.dataBlock = orig
  const walked = table.stats.dataBlockReads
  t.ok(file.reads <= walked / 8 + 4, `${walked} blocks in ${file.reads} reads`)
  // Uncompressed blocks are stored as they are, so each one's offset follows the last one's end.
  let cached = 0
  let inWindows = 0
  let owning = 0
  for (let off = 0, b = cache.get(1, off); b !== undefined; off += b.size + 5, b = cache.get(1, off)) {
    cached++
    if (windows.has(b.data.buffer)) inWindows++
    // A second read of the block is a cache hit: the block is hot, and moves to memory of its own.
    const hit = table.dataBlock(new BlockHandle(off, b.size))
    if (hit === b && b.data.byteOffset === 0 && b.data.buffer.byteLength === b.data.byteLength) owning++
  }
  t.is(cached, walked, `every block read is cached (${cached})`)
  t.is(inWindows, 0, 'none of them is a view into a readahead window')
  t.is(owning, cached, 'each one, once hit, holds memory of its own')
  t.end()
})

test('readahead: damage inside a window is still LEVEL_CORRUPTION at that block', (t) => {
  const file = build('snappy')
  const table = open(file)
  // Find a block in the middle by scanning, then damage one of its bytes.
  const it = table.iterator(false)
  it.seekToFirst()
  const offsets: number[] = []
  const orig = table.dataBlock.bind(table)
  table.dataBlock = (h, fc, ra) => { offsets.push(h.offset); return orig(h, fc, ra) }
  for (; it.valid(); it.next());
  it.close()
  const target = offsets[Math.floor(offsets.length / 2)]
  file.bytes[target + 10] ^= 0x40
  const damaged = open(file)
  const again = damaged.iterator(false)
  let error: (Error & { code?: string }) | undefined
  try {
    for (again.seekToFirst(); again.valid(); again.next());
  } catch (err) {
    error = err as Error
  }
  again.close()
  t.is(error?.code, 'LEVEL_CORRUPTION', `LEVEL_CORRUPTION (${error?.message})`)
  t.ok(error?.message.includes(`offset ${target}`), 'naming the damaged block\'s offset')
  t.end()
})
