// The two Node globals the package still relies on in a browser, installed by the browser entry (browser.ts)
// before the package's modules load: Buffer and setImmediate. Only where they are missing, so a bundler or
// page that provides its own keeps it.
//
// Buffer is for the adapter, not the engine (whose bytes go through engine/util/bytes.ts): abstract-level's
// 'buffer' encoding hands out Buffers, so adapter/bytes.ts copies keys and values out of the engine into
// Buffers. It is the npm `buffer` package, the one abstract-level itself requires (a bundler must resolve it).
//
// setImmediate is for the engine: a MessageChannel round trip, a macrotask that, unlike setTimeout(0), is
// not clamped to 4 ms when nested, which the event-loop budget's turns (engine/util/event-loop-budget.ts)
// would otherwise pay.
import { Buffer as PolyfillBuffer } from 'buffer'

function setImmediateShim (): (callback: () => void) => void {
  const channel = new MessageChannel()
  const queue: Array<() => void> = []
  // A browser's MessagePort (Node's types describe Node's, an EventEmitter).
  const port = channel.port1 as unknown as { onmessage: () => void }
  port.onmessage = () => { queue.shift()?.() }
  return (callback) => {
    queue.push(callback)
    channel.port2.postMessage(null)
  }
}

export function installGlobals (): void {
  const global = globalThis as unknown as Record<string, unknown>
  if (global.Buffer === undefined) global.Buffer = PolyfillBuffer
  if (global.setImmediate === undefined) global.setImmediate = setImmediateShim()
}
