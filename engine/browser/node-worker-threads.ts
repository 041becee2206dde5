// node:worker_threads in the browser build (package.json `browser` maps 'worker_threads' here). Only
// engine/info-log.ts reaches it there (the background worker is engine/background/inline-background.ts):
// LOG names the thread as LevelDB does, and a page's worker running the database is this build's only thread.
export const threadId = 0
