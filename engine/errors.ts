// Engine errors carry the Level error codes (module-error), created in one place per kind, so that
// index.ts passes them through unchanged and tests can assert on `code`.
import ModuleError = require('module-error')

export type ErrorCode =
  | 'LEVEL_CORRUPTION'
  | 'LEVEL_IO_ERROR'
  | 'LEVEL_LOCKED'
  | 'LEVEL_NOT_SUPPORTED'
  | 'LEVEL_INVALID_ARGUMENT'
  | 'LEVEL_READONLY'

export class EngineError extends ModuleError {
  declare code: ErrorCode
  /**
   * Set on an I/O error raised after a MANIFEST change took effect on disk (CURRENT already names it),
   * when only making it durable failed: the caller must keep every file the change names.
   */
  committed?: boolean
}

/** Bytes on disk do not mean what the format says they must. Name the file and offset in the message. */
export function corruption (message: string, cause?: Error): EngineError {
  return new EngineError(`Corruption: ${message}`, { code: 'LEVEL_CORRUPTION', cause })
}

export function ioError (message: string, cause?: Error): EngineError {
  return new EngineError(`IO error: ${message}`, { code: 'LEVEL_IO_ERROR', cause })
}

export function locked (message: string, cause?: Error): EngineError {
  return new EngineError(`IO error: lock ${message}`, { code: 'LEVEL_LOCKED', cause })
}

export function notSupported (message: string): EngineError {
  return new EngineError(`Not supported: ${message}`, { code: 'LEVEL_NOT_SUPPORTED' })
}

/** A write to a database opened read-only (abstract-level's code for it, as many-level uses it). */
export function readOnly (message: string): EngineError {
  return new EngineError(`Read-only: ${message}`, { code: 'LEVEL_READONLY' })
}

/** LevelDB's InvalidArgument status; classic-level surfaces it as an error without a Level code of its own. */
export function invalidArgument (message: string): EngineError {
  return new EngineError(`Invalid argument: ${message}`, { code: 'LEVEL_INVALID_ARGUMENT' })
}

/**
 * True for an error that says bytes are damaged: LEVEL_CORRUPTION, or an error of another kind from a
 * decoder fed bad bytes (a decompressor's RangeError). False for I/O failures and the other Level codes.
 */
export function isDamage (err: unknown): boolean {
  return !(err instanceof EngineError) || err.code === 'LEVEL_CORRUPTION'
}

/** Wraps a Node fs error (or passes an EngineError through) as LEVEL_IO_ERROR naming what was being done. */
/** `err` if it is an Error, else an Error carrying its text: for what a caller's callback throws. */
export function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

export function fromFsError (what: string, err: unknown): EngineError {
  if (err instanceof EngineError) return err
  const e = asError(err)
  return ioError(`${what}: ${e.message}`, e)
}

/**
 * The platform's error code (EMFILE, ENOSPC, ...) behind err, looking through the causes that
 * fromFsError and the worker's reports wrap it in; undefined when there is none.
 */
export function systemErrorCode (err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && !code.startsWith('LEVEL_')) return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}
