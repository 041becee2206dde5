// The client's end of the port: requests matched to their responses by id, messages that expect none, and
// the loss of the server. Once the server is gone (its worker terminated, or serveRoughLevel's close()),
// every pending and later request rejects with LEVEL_CONNECTION_LOST (abstract-level's code for a lost
// remote party) instead of waiting forever. A browser says nothing on the port when the other end's worker
// dies, so the server holds a Web Lock for its life and tells the client its name; the client asks for the
// same lock, which it is granted only when the server's side ends. Node's MessagePort says so itself: it
// emits 'close' when either end closes or its thread exits.
import ModuleError = require('module-error')
import { browserNavigator } from '../../engine/browser/web-apis'
import { toError, type PortLike, type Request, type Response, type ServerLife } from './protocol'

/** A request as the client builds it: everything but the id this port assigns. */
type Unnumbered<T> = T extends { id: number } ? Omit<T, 'id'> : never

export class ClientPort {
  readonly #port: PortLike
  readonly #pending = new Map<number, { resolve: (result: unknown) => void, reject: (err: Error) => void }>()
  #nextId = 1
  #lost = false

  constructor (port: PortLike) {
    this.#port = port
    port.addEventListener('message', (event) => this.#receive(event.data as Response | ServerLife))
    port.addEventListener('close', () => this.#lose())
    port.start?.()
  }

  /** Posts a request and resolves with its result, or rejects with its error. */
  request (message: Unnumbered<Request>, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.#lost) return Promise.reject(connectionLost())
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#port.postMessage({ ...message, id }, transfer)
    })
  }

  /**
   * A request that frees something in the worker (the database, an iterator, a snapshot): once the server
   * is gone there is nothing left to free, so it resolves then, and closing a client whose worker died works.
   */
  async release (message: Unnumbered<Request>): Promise<void> {
    try {
      await this.request(message)
    } catch (err) {
      if (!this.#lost) throw err
    }
  }

  /** Posts a message that gets no response (the server keeps its failure for the next request). */
  post (message: Request): void {
    if (!this.#lost) this.#port.postMessage(message)
  }

  #receive (message: Response | ServerLife): void {
    if ('lock' in message) {
      browserNavigator()?.locks?.request(message.lock, { ifAvailable: false }, () => this.#lose()).catch(() => {})
      return
    }
    const pending = this.#pending.get(message.id)
    if (pending === undefined) return
    this.#pending.delete(message.id)
    if ('error' in message) pending.reject(toError(message.error))
    else pending.resolve(message.result)
  }

  #lose (): void {
    if (this.#lost) return
    this.#lost = true
    for (const pending of this.#pending.values()) pending.reject(connectionLost())
    this.#pending.clear()
  }
}

function connectionLost (): Error {
  return new ModuleError('The worker serving this database is gone (terminated, or its server closed)', { code: 'LEVEL_CONNECTION_LOST' })
}
