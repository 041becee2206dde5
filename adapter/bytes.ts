// Turning engine bytes into what the Level contract returns, without intermediate copies: strings are
// decoded straight from the engine's buffer, Buffers and views are one copy.
import { decodeUtf8, encodeUtf8 } from '../engine/util/bytes'
import type { Encoded, Format } from './contract'

/**
 * Decodes buf[off, off + len) into the requested format (always a fresh copy for bytes). 'view' gets a
 * Buffer too, a Uint8Array as the contract asks, because classic-level and memory-level return one.
 */
export function decode (format: Format, buf: Uint8Array, off: number, len: number): Encoded {
  if (format === 'utf8') return decodeUtf8(buf, off, off + len)
  return Buffer.copyBytesFrom(buf, off, len)
}

/** Encodes a key or range bound as bytes (UTF-8 for strings): keys are always compared as bytes. */
export function toBytes (data: Encoded): Uint8Array {
  return typeof data === 'string' ? encodeUtf8(data) : data
}
