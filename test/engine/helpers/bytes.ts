// Byte helpers for tests: hex in the format reference's spaced style, and LevelDB's encodings written
// independently of engine/ (BigInt for 64-bit fields) so that expectations do not share the engine's code.

/** Parses hex as the reference prints it: pairs of hex digits, whitespace ignored. */
export function fromHex (text: string): Buffer {
  const clean = text.replace(/\s+/g, '')
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not hex: ${text}`)
  return Buffer.from(clean, 'hex')
}

export function hex (buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('hex')
}

export function varint (v: number | bigint): Buffer {
  let x = BigInt(v)
  const out: number[] = []
  while (x >= 128n) {
    out.push(Number(x & 127n) | 0x80)
    x >>= 7n
  }
  out.push(Number(x))
  return Buffer.from(out)
}

export function fixed32 (v: number): Buffer {
  const out = Buffer.alloc(4)
  out.writeUInt32LE(v >>> 0)
  return out
}

export function fixed64 (v: number | bigint): Buffer {
  const out = Buffer.alloc(8)
  out.writeBigUInt64LE(BigInt(v))
  return out
}

// Strings as the WHATWG encoder makes them, which is how Node's Buffer.from(s, 'utf8') encodes too (a lone
// surrogate becomes U+FFFD): the same model in a browser, where Buffer is the npm polyfill, which encodes a
// run of lone surrogates short.
const utf8 = new TextEncoder()

/** varint32 length ‖ bytes. */
export function lp (data: Uint8Array | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(utf8.encode(data)) : Buffer.from(data)
  return Buffer.concat([varint(b.length), b])
}

/** user key ‖ fixed64((sequence << 8) | type). */
export function internalKey (userKey: Uint8Array | string, sequence: number | bigint, type: number): Buffer {
  const k = typeof userKey === 'string' ? Buffer.from(utf8.encode(userKey)) : Buffer.from(userKey)
  return Buffer.concat([k, fixed64((BigInt(sequence) << 8n) | BigInt(type))])
}

/** Splits an internal key into user key, sequence and type (BigInt, so no precision is lost). */
export function parseInternalKey (ikey: Uint8Array): { userKey: Buffer, sequence: bigint, type: number } {
  const b = Buffer.from(ikey.buffer, ikey.byteOffset, ikey.byteLength)
  const tag = b.readBigUInt64LE(b.length - 8)
  return { userKey: Buffer.from(b.subarray(0, b.length - 8)), sequence: tag >> 8n, type: Number(tag & 0xffn) }
}
