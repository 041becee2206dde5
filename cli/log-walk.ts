// Reads every record of a log file (a WAL or a MANIFEST) with checksums on, for dump and verify: the
// engine's LogReader with a reporter, which reads on past damage as LevelDB's log::Reader resyncs, so that
// everything after a damaged region is still seen. Adjacent damage (the fragments of a record whose start
// was lost) is reported as one region.
import { LogReader } from '../engine/log/reader'

export type LogItem =
  | { kind: 'record', offset: number, data: Uint8Array }
  /** Bytes [offset, end) could not be read: what the damage (or a torn tail, which a crash leaves) cost. */
  | { kind: 'damage', offset: number, end: number, reason: string }
  | { kind: 'torn', offset: number, end: number }

type Damage = Extract<LogItem, { kind: 'damage' }>

export function * walkLog (data: Uint8Array, fileName: string): Generator<LogItem> {
  // Regions reported while the reader looked for the next record; the last one may still grow.
  let done: Damage[] = []
  let pending: Damage | undefined
  const reader = new LogReader(data, fileName, {
    corruption (offset, end, error) {
      if (pending !== undefined && offset <= pending.end) {
        pending.end = Math.max(pending.end, end)
        return
      }
      if (pending !== undefined) done.push(pending)
      pending = { kind: 'damage', offset, end, reason: error.message }
    }
  })
  for (let record = reader.readRecord(); record !== undefined; record = reader.readRecord()) {
    if (pending !== undefined) done.push(pending)
    pending = undefined
    yield * done
    done = []
    yield { kind: 'record', offset: reader.recordOffset, data: record }
  }
  if (pending !== undefined) done.push(pending)
  yield * done
  if (reader.tornAt >= 0) yield { kind: 'torn', offset: reader.tornAt, end: data.length }
}
