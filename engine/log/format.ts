// The log record format shared by the WAL and the MANIFEST (LevelDB db/log_format.h, doc/log_format.md):
// 32 KiB blocks; each physical record is a 7-byte header (masked crc32c over type ‖ payload, uint16
// length, uint8 type) and its payload. A block tail shorter than a header is zero-filled.
import { crc32c } from '../util/crc32c'

export const BLOCK_SIZE = 32768
export const HEADER_SIZE = 7

export const enum RecordType {
  Zero = 0,
  Full = 1,
  First = 2,
  Middle = 3,
  Last = 4
}

/** crc32c of each type byte, so a record's CRC extends from it instead of hashing the type separately. */
export const TYPE_CRC: readonly number[] = [0, 1, 2, 3, 4].map((t) => crc32c(Uint8Array.of(t), 0))
