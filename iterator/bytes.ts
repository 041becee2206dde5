// Turning engine bytes into what the Level contract returns, without intermediate copies: strings are
// decoded straight from the engine's buffer, Buffers and views are one copy.
import { copyBytes } from '../engine/util/copy-bytes'
import type { Encoded, Format } from './contract'

// Node's Buffer#utf8Slice decodes from any Uint8Array without making a Buffer view first; it is
// undocumented in @types/node, hence the one narrow cast.
const utf8Slice = (Buffer.prototype as unknown as {
  utf8Slice: (this: Uint8Array, start: number, end: number) => string
}).utf8Slice

/** Decodes buf[off, off + len) into the requested format (always a fresh copy for bytes). */
export function decode (format: Format, buf: Uint8Array, off: number, len: number): Encoded {
  if (format === 'utf8') return utf8Slice.call(buf, off, off + len)
  if (format === 'buffer') return Buffer.copyBytesFrom(buf, off, len)
  const view = new Uint8Array(len)
  copyBytes(buf, off, len, view, 0)
  return view
}

/** Encodes a key or range bound as bytes (UTF-8 for strings): keys are always compared as bytes. */
export function toBytes (data: Encoded): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data
}
