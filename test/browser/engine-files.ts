// Which of the engine's own tests (test/engine) run in the browser too, and why the others do not: every
// file there is in exactly one of the two lists (engine.test.ts checks it against the directory).

/** Test files (names without .test.ts) that need nothing of Node but what the browser build provides. */
export const BROWSER_FILES = [
  'block', 'bloom', 'coding', 'crc32c', 'db-iterator', 'event-loop-budget', 'filter-block', 'hash', 'key-shortening', 'log',
  'lru-cache', 'memtable', 'merging-iterator', 'read-ahead', 'snappy', 'version-edit', 'write-batch'
]

const TEMP_DIR = 'node:fs: its databases or files live in a temporary directory of the host'
const TABLE_FILES = 'writes real table files with PosixFileSystem into a temporary directory (helpers/table-files.ts)'

/** The rest, with what they need of Node. */
export const NODE_ONLY: Record<string, string> = {
  'background-worker': 'worker_threads: background jobs on Node threads (the browser build runs them inline)',
  'block-memory': 'process.env: released block memory is poisoned where npm test\'s runner sets ROUGH_LEVEL_POISON_RELEASED_BLOCKS',
  'browser-bundle': 'esbuild and node:vm: bundles the engine for the browser and runs it where there is no Buffer',
  bytes: 'Node\'s own Buffer: its fast paths are checked beside the portable ones the browser takes',
  'budgeted-file-system': 'node:fs: counts the process\'s own file descriptors',
  'build-table': TEMP_DIR,
  compaction: TABLE_FILES,
  'current-file': TEMP_DIR,
  'db-descriptors': 'node:fs: counts the process\'s own file descriptors',
  'db-faults': TEMP_DIR,
  'db-warm-tables': TEMP_DIR,
  'db-write': TEMP_DIR,
  destroy: TEMP_DIR,
  follower: TEMP_DIR,
  'info-log': `${TEMP_DIR}; worker_threads`,
  'level-iterator': TABLE_FILES,
  lock: 'child_process and worker_threads: the lock held against other processes and threads, and classic-level',
  'obsolete-files': TEMP_DIR,
  'read-only': TEMP_DIR,
  'read-only-descriptors': 'node:fs: counts the process\'s own file descriptors',
  repair: `${TEMP_DIR}; classic-level`,
  replay: TEMP_DIR,
  table: `${TEMP_DIR}; node:zlib and classic-level's tables`,
  'table-cache': TABLE_FILES,
  'thread-pool': 'worker_threads: the pool of background threads',
  'thread-priority': 'worker_threads and /proc: the background threads\' nice values',
  version: TABLE_FILES,
  'version-set': TEMP_DIR
}
