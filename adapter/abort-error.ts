// abstract-level's AbortError (LEVEL_ABORTED, named 'AbortError'), which its package does not export: what
// an iterator throws when its signal was aborted.
import ModuleError = require('module-error')

export class AbortError extends ModuleError {
  constructor () {
    super('Iterator has been aborted', { code: 'LEVEL_ABORTED' })
  }

  override get name (): string {
    return 'AbortError'
  }
}
