// The worker side of facade.test.ts: opens the OPFS pool, then serves each database the page asks for
// ({ location, port }) with serveRoughLevel, through the package's browser entry as a user's worker would.
import { openOpfs, serveRoughLevel } from '../../browser'
import type { PortLike } from '../../adapter/browser/protocol'
import { catchEverything, reportError, scope } from './worker-scope'

catchEverything()

interface Connect { location: string, port: PortLike }

const waiting: Connect[] = []
let opened = false
// A port keeps its messages until served, so a client may open before the pool is ready.
scope.addEventListener('message', (event) => {
  const connect = event.data as Connect
  if (opened) serveRoughLevel(connect.port, connect.location)
  else waiting.push(connect)
})

openOpfs({ pool: 'facade' }).then(() => {
  opened = true
  for (const connect of waiting.splice(0)) serveRoughLevel(connect.port, connect.location)
}, reportError)
