// The block cache: data blocks kept between reads, LevelDB's (options.block_cache, 8 MiB by default),
// bounded by their bytes. It holds a reference to each block it keeps (Table.dataBlock takes it before
// the insert) and drops it when the block leaves, so that the block's memory can be reused once no
// iterator is on it either (block.ts, block-memory.ts).
import { LruCache } from '../util/lru-cache'
import type { Block } from './block'

export function newBlockCache (capacity: number): LruCache<Block> {
  return new LruCache<Block>(capacity, (block) => block.size, (block) => { block.unref() })
}
