// Reads every record of a log file (a WAL or a MANIFEST) with checksums on, for dump and verify. The
// engine's LogReader stops at damage; here reading resumes where it says it can (past a stray fragment,
// or at the next 32 KiB block after a bad record, as LevelDB's log::Reader resyncs), so that everything
// after a damaged region is still seen. Adjacent damage (the fragments of a record whose start was lost)
// is reported as one region.
import { LogReader } from '../engine/log/reader'

export type LogItem =
  | { kind: 'record', offset: number, data: Uint8Array }
  /** Bytes [offset, end) could not be read: what the damage (or a torn tail, which a crash leaves) cost. */
  | { kind: 'damage', offset: number, end: number, reason: string }
  | { kind: 'torn', offset: number, end: number }

export function * walkLog (data: Uint8Array, fileName: string): Generator<LogItem> {
  let pending: { offset: number, end: number, reason: string } | undefined
  let start = 0
  while (start < data.length) {
    const reader = new LogReader(data, fileName, start)
    try {
      for (let record = reader.readRecord(); record !== undefined; record = reader.readRecord()) {
        if (pending !== undefined) {
          yield { kind: 'damage', ...pending }
          pending = undefined
        }
        yield { kind: 'record', offset: reader.recordOffset, data: record }
      }
      if (pending !== undefined) yield { kind: 'damage', ...pending }
      if (reader.tornAt >= 0) yield { kind: 'torn', offset: reader.tornAt, end: data.length }
      return
    } catch (err) {
      if (!(err instanceof Error) || (err as { code?: unknown }).code !== 'LEVEL_CORRUPTION' || reader.damageAt < 0) throw err
      const at = reader.damageAt
      const end = reader.resumeAt
      if (pending !== undefined && at <= pending.end) {
        pending.end = Math.max(pending.end, end)
      } else {
        if (pending !== undefined) yield { kind: 'damage', ...pending }
        pending = { offset: at, end, reason: err.message }
      }
      start = Math.max(end, start + 1)
    }
  }
  if (pending !== undefined) yield { kind: 'damage', ...pending }
}
