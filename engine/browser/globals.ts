// The two Node globals the engine still relies on, installed by the browser entry (browser.ts) before any
// engine module loads: Buffer and setImmediate. Only where they are missing, so a bundler or page that
// provides its own keeps it.
//
// Buffer is the npm `buffer` package, the one abstract-level itself requires (a bundler must resolve it),
// with what the engine uses of Node's Buffer and that package lacks: utf8Slice on any Uint8Array
// (adapter/bytes.ts), copy into a plain Uint8Array (engine/util/copy-bytes.ts, the write batch) and
// Buffer.copyBytesFrom (the adapter's decode). setImmediate is a MessageChannel round trip: a macrotask
// that, unlike setTimeout(0), is not clamped to 4 ms when nested, which the event-loop budget's turns
// (engine/util/event-loop-budget.ts) would otherwise pay.
import { Buffer as PolyfillBuffer } from 'buffer'

type Copy = (this: Uint8Array, target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number) => number

const decoder = new TextDecoder()

function utf8Slice (this: Uint8Array, start: number, end: number): string {
  // TextDecoder refuses views of shared memory (a memtable's arena on an isolated page): decode a copy.
  const bytes = this.buffer instanceof ArrayBuffer ? this.subarray(start, end) : this.slice(start, end)
  return decoder.decode(bytes)
}

function copy (this: Uint8Array, target: Uint8Array, targetStart = 0, sourceStart = 0, sourceEnd = this.length): number {
  const end = Math.min(sourceEnd, this.length, sourceStart + (target.length - targetStart))
  if (end <= sourceStart) return 0
  target.set(Uint8Array.prototype.subarray.call(this, sourceStart, end), targetStart)
  return end - sourceStart
}

function copyBytesFrom (view: Uint8Array, offset = 0, length = view.length - offset): PolyfillBuffer {
  const out = PolyfillBuffer.allocUnsafe(length)
  out.set(view.subarray(offset, offset + length))
  return out
}

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
  if (global.Buffer === undefined) {
    const proto = PolyfillBuffer.prototype as unknown as Record<string, unknown>
    proto.utf8Slice = utf8Slice
    proto.copy = copy satisfies Copy
    Object.assign(PolyfillBuffer, { copyBytesFrom })
    global.Buffer = PolyfillBuffer
  }
  if (global.setImmediate === undefined) global.setImmediate = setImmediateShim()
}
