// The start and end keys of approximateSize() and compactRange(), encoded as their database's key encoding
// (or the call's keyEncoding option) makes them. Shared by RoughLevel and the page's RoughLevelClient, which
// each turn the result into bytes their own way (the page has no Buffer).
import type { AbstractLevel, Transcoder } from 'abstract-level'
import type { Encoded } from './contract'
import type { StartEndOptions } from '../options'

/** `db` needs only its keyEncoding(). */
export function encodeStartEnd<F, K, V> (db: Pick<AbstractLevel<F, K, V>, 'keyEncoding'>, start: unknown, end: unknown, options?: StartEndOptions<unknown>): [Encoded, Encoded] {
  const encoding = options?.keyEncoding === undefined ? db.keyEncoding() : db.keyEncoding(options.keyEncoding as Transcoder.MixedEncoding<unknown, unknown, unknown>)
  return [encoding.encode(start as never) as Encoded, encoding.encode(end as never) as Encoded]
}
