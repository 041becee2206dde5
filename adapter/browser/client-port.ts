// The client's end of the port: requests matched to their responses by id, and messages that expect none.
import { toError, type PortLike, type Request, type Response } from './protocol'

/** A request as the client builds it: everything but the id this port assigns. */
type Unnumbered<T> = T extends { id: number } ? Omit<T, 'id'> : never

export class ClientPort {
  readonly #port: PortLike
  readonly #pending = new Map<number, { resolve: (result: unknown) => void, reject: (err: Error) => void }>()
  #nextId = 1

  constructor (port: PortLike) {
    this.#port = port
    port.addEventListener('message', (event) => this.#receive(event.data as Response))
    port.start?.()
  }

  /** Posts a request and resolves with its result, or rejects with its error. */
  request (message: Unnumbered<Request>, transfer?: ArrayBuffer[]): Promise<unknown> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#port.postMessage({ ...message, id }, transfer)
    })
  }

  /** Posts a message that gets no response (the server keeps its failure for the next request). */
  post (message: Request): void {
    this.#port.postMessage(message)
  }

  #receive (response: Response): void {
    const pending = this.#pending.get(response.id)
    if (pending === undefined) return
    this.#pending.delete(response.id)
    if ('error' in response) pending.reject(toError(response.error))
    else pending.resolve(response.result)
  }
}
