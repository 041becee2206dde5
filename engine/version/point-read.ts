// What one caller of Version.get owns: the internal lookup key it builds and the entry a table answers
// with. A Version is shared by every reader and immutable, so it keeps no per-call state; the caller (a Db
// keeps one) passes its PointRead and reads the value from `entry` until its next get.
import { TableEntry } from '../table/table'

export class PointRead {
  /** The lookup key: the user key and a tag at the read's sequence; grown (never shrunk) as keys need. */
  lookup = new Uint8Array(64)
  /** After get() returns Found: the value is entry.valueBuf[valueOff, valueOff + valueLen), a view into an immutable block. */
  readonly entry = new TableEntry()
}
