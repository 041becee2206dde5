// The engine's tuning constants (LevelDB db/dbformat.h `config`, db/version_set.cc): level 0's compaction,
// slowdown and stop triggers, how deep a flush may go, and the size limits of levels and compactions, kept
// in one place so that flush placement, compaction picking and running and the Db's write stalls agree.
// Format constants stay with their formats (NUM_LEVELS with the MANIFEST record in version-edit.ts, block
// and footer sizes in table/format.ts, the log's in log/format.ts).

/** Deepest level a flushed memtable may be placed in (LevelDB config::kMaxMemCompactLevel). */
export const MAX_MEM_COMPACT_LEVEL = 2

/** Bytes of level+2 a new file may overlap before it must stop at a shallower level: 10 x maxFileSize. */
export function maxGrandParentOverlapBytes (maxFileSize: number): number {
  return 10 * maxFileSize
}

/** Level-0 file count at which a compaction of level 0 is due (its score reaches 1). */
export const L0_COMPACTION_TRIGGER = 4
/** Level-0 file count at which, while a compaction runs, a commit starts 1 ms late (LevelDB: each write). */
export const L0_SLOWDOWN_WRITES_TRIGGER = 8
/** Level-0 file count at which, while a compaction runs, writes wait for it to finish. */
export const L0_STOP_WRITES_TRIGGER = 12

/**
 * Largest level-L inputs plus level-(L+1) inputs a compaction may grow to when it pulls in more level-L
 * files (LevelDB's ExpandedCompactionByteSizeLimit): 25 x maxFileSize.
 */
export function expandedCompactionByteSizeLimit (maxFileSize: number): number {
  return 25 * maxFileSize
}

/**
 * Bytes that level L >= 1 may hold before it is due for compaction (LevelDB's MaxBytesForLevel, computed
 * as a double): 10 MiB for level 1, ten times more per level below it. Level 0 is governed by its file
 * count instead (and gets 10 MiB here, as in LevelDB, where the value is unused).
 */
export function maxBytesForLevel (level: number): number {
  let result = 10 * 1048576
  while (level > 1) {
    result *= 10
    level--
  }
  return result
}
