// node:perf_hooks in the browser build (package.json `browser` maps 'perf_hooks' here): the browser's own clock.
export const performance: typeof globalThis.performance = globalThis.performance
