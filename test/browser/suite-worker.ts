// The worker side of abstract-level.test.ts: the abstract-level 3 suite against RoughLevel on OPFS, its
// TAP posted line by line. The package is loaded first and on its own (no process, no Buffer until its
// entry installs Buffer).
import { openOpfs, RoughLevel } from '../../browser'
import { runAbstractLevelSuite } from './browser-suite'
import { catchEverything, reportError, scope } from './worker-scope'

catchEverything()

async function main (): Promise<void> {
  const fs = await openOpfs({ pool: 'suite' })
  scope.postMessage({ type: 'ready', crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true })
  let n = 0
  runAbstractLevelSuite((options?: object) => new RoughLevel(`/suite/${n++}`, options), (message) => scope.postMessage(message), () => fs.close())
}

main().catch(reportError)
