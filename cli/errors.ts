// How the tool reports failure: one line, `rough-level <command>: <LEVEL_CODE>: <message>`, and a non-zero
// exit status. Never a stack trace: a damaged directory is an expected input, not a crash
// (ROUGH_LEVEL_DEBUG=1 prints the stack of an error that carries no Level code, for bug reports).
import ModuleError = require('module-error')

/** Exit statuses: 0 success, 1 a failure or damage found, 2 a command line that cannot be run. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** A command line that does not say what to do (unknown option, missing argument). */
export class UsageError extends Error {}

/** An error with a Level code, created where the tool itself (not the engine) finds the problem. */
export function levelError (code: string, message: string): Error {
  return new ModuleError(message, { code })
}

/** The Level code an error carries: its own, or (for abstract-level's open and close wrappers) its cause's. */
export function levelCode (err: unknown): string | undefined {
  let code: string | undefined
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const c = (e as { code?: unknown }).code
    if (typeof c === 'string' && c.startsWith('LEVEL_')) code = c
    // abstract-level wraps the engine's error: the cause says what really happened.
    if (c !== 'LEVEL_DATABASE_NOT_OPEN' && c !== 'LEVEL_DATABASE_NOT_CLOSED') break
  }
  return code
}

/** The message of the error that carries the code (the cause under abstract-level's wrapper). */
function levelMessage (err: unknown): string {
  let e: unknown = err
  while (e instanceof Error && e.cause instanceof Error &&
    ((e as { code?: unknown }).code === 'LEVEL_DATABASE_NOT_OPEN' || (e as { code?: unknown }).code === 'LEVEL_DATABASE_NOT_CLOSED')) e = e.cause
  return e instanceof Error ? e.message : String(e)
}

/** The one line printed for `err`. */
export function errorLine (command: string, err: unknown): string {
  const prefix = command === '' ? 'rough-level' : `rough-level ${command}`
  if (err instanceof UsageError) return `${prefix}: ${err.message} (see rough-level ${command === '' ? '' : command + ' '}--help)`
  const code = levelCode(err) ?? (isFsError(err) ? 'LEVEL_IO_ERROR' : undefined)
  const message = levelMessage(err).replace(/\s*\n\s*/g, ' ')
  return code === undefined ? `${prefix}: internal error: ${message}` : `${prefix}: ${code}: ${message}`
}

export function exitStatus (err: unknown): number {
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE
}

function isFsError (err: unknown): boolean {
  return err instanceof Error && typeof (err as { syscall?: unknown }).syscall === 'string'
}
