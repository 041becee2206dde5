// node:stream for tape in the test bundle (harness.ts aliases 'stream' here): tape's through() makes its
// streams from the legacy Stream, an EventEmitter with pipe().
import { EventEmitter } from 'events'

interface Writable {
  write (data: unknown): unknown
  end? (): unknown
}

export class Stream extends EventEmitter {
  pipe<T extends Writable> (destination: T): T {
    this.on('data', (data: unknown) => destination.write(data))
    this.on('end', () => destination.end?.())
    return destination
  }
}
