// What a worker script in test/browser uses of its global scope (the project compiles against Node's
// types, which have no DedicatedWorkerGlobalScope).
export interface WorkerScope {
  postMessage (message: unknown): void
  addEventListener (type: 'message', listener: (event: { data: unknown }) => void): void
  addEventListener (type: 'unhandledrejection', listener: (event: { reason: unknown }) => void): void
  addEventListener (type: 'error', listener: (event: { message: string, error?: unknown }) => void): void
}

export const scope = globalThis as unknown as WorkerScope

/** Posts an error the page relays as { type: 'error' }: the test fails on it rather than hanging. */
export function reportError (err: unknown): void {
  let message = ''
  for (let e = err, depth = 0; e !== undefined && depth < 5; depth++) {
    message += e instanceof Error ? `${depth > 0 ? '\ncaused by ' : ''}${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)
    e = e instanceof Error ? e.cause : undefined
  }
  scope.postMessage({ type: 'error', message })
}

export function catchEverything (): void {
  scope.addEventListener('unhandledrejection', (event) => reportError(event.reason))
  scope.addEventListener('error', (event) => reportError(event.error ?? event.message))
}
