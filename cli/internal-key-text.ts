// Internal keys (user key ‖ tag) as the inspection commands print them: the user key in the chosen
// format, the sequence exactly (a shortened index key's 2^56 - 1 does not fit a JS number, so such a
// sequence is printed from a BigInt), and the type as LevelDB's dump names it.
import { TAG_BYTES, ValueType } from '../engine/internal-key'
import { getFixed32 } from '../engine/util/coding'
import { type ByteFormat, formatBytes, jsonField } from './byte-format'

export interface InternalKeyParts {
  user: Uint8Array
  /** A number below 2^53, else its decimal string. */
  sequence: number | string
  type: number
}

/** The parts of an internal key, or undefined when it is shorter than a tag. */
export function splitInternalKey (ikey: Uint8Array, len = ikey.length): InternalKeyParts | undefined {
  if (len < TAG_BYTES) return undefined
  const lo = getFixed32(ikey, len - 8)
  const hi = getFixed32(ikey, len - 4)
  const sequence = hi < 0x20000000 ? hi * 0x1000000 + (lo >>> 8) : ((BigInt(hi) << 24n) + BigInt(lo >>> 8)).toString()
  return { user: ikey.slice(0, len - TAG_BYTES), sequence, type: lo & 0xff }
}

/** 'val', 'del', or the number of a type LevelDB does not define. */
export function typeName (type: number): string {
  return type === ValueType.Value ? 'val' : type === ValueType.Deletion ? 'del' : String(type)
}

/** `'user key' @ sequence : type`, as LevelDB's ParsedInternalKey::DebugString; `badkey '...'` when too short. */
export function internalKeyText (ikey: Uint8Array, format: ByteFormat, len = ikey.length): string {
  const parts = splitInternalKey(ikey, len)
  if (parts === undefined) return `badkey '${formatBytes(ikey.subarray(0, len), format)}'`
  return `'${formatBytes(parts.user, format)}' @ ${parts.sequence} : ${typeName(parts.type)}`
}

/** An internal key as JSON fields: the user key and its encoding (as in NDJSON lines), sequence, type. */
export function internalKeyJson (ikey: Uint8Array, format: ByteFormat): Record<string, unknown> {
  const parts = splitInternalKey(ikey)
  if (parts === undefined) return { badKey: formatBytes(ikey, 'hex') }
  const key = jsonField(parts.user, format)
  return { key: key.value, keyEncoding: key.encoding, sequence: parts.sequence, type: typeName(parts.type) }
}
