// node:perf_hooks in the browser build (package.json `browser` maps it here): the browser's own clock.
export const performance: typeof globalThis.performance = globalThis.performance
