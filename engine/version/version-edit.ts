// A VersionEdit: one MANIFEST record (LevelDB db/version_edit.cc). Tags:
//   1 comparator (lp-string)   2 log number   9 previous log number   3 next file number
//   4 last sequence            5 compact pointer (level, ikey)         6 deleted file (level, number)
//   7 new file (level, number, size, smallest ikey, largest ikey)      8 obsolete: an unknown tag
// Encoded in LevelDB's order (1, 2, 9, 3, 4, 5, 6, 7); decoded in any order, last scalar wins.
import { decodeUtf8, encodeUtf8 } from '../util/bytes'
import { ByteReader, putVarint32, putVarint64 } from '../util/coding'

export const NUM_LEVELS = 7

export interface FileMetaData {
  number: number
  fileSize: number
  /** Smallest and largest internal keys in the file. */
  smallest: Uint8Array
  largest: Uint8Array
}

export class VersionEdit {
  comparator?: string
  logNumber?: number
  prevLogNumber?: number
  nextFileNumber?: number
  lastSequence?: number
  compactPointers: Array<{ level: number, key: Uint8Array }> = []
  /** Deleted files as [level, number]. */
  deletedFiles: Array<[number, number]> = []
  newFiles: Array<{ level: number, file: FileMetaData }> = []

  addFile (level: number, file: FileMetaData): void {
    this.newFiles.push({ level, file })
  }

  deleteFile (level: number, number: number): void {
    this.deletedFiles.push([level, number])
  }

  encode (): Uint8Array {
    const comparator = this.comparator === undefined ? undefined : encodeUtf8(this.comparator)
    let size = 0
    if (comparator !== undefined) size += 1 + 5 + comparator.length
    size += 4 * 11
    for (const p of this.compactPointers) size += 1 + 5 + 5 + p.key.length
    size += this.deletedFiles.length * (1 + 5 + 10)
    for (const { file } of this.newFiles) size += 1 + 5 + 10 + 10 + 10 + file.smallest.length + file.largest.length
    const out = new Uint8Array(size)
    let pos = 0
    const lp = (data: Uint8Array): void => {
      pos = putVarint32(out, pos, data.length)
      out.set(data, pos)
      pos += data.length
    }
    if (comparator !== undefined) {
      pos = putVarint32(out, pos, 1)
      lp(comparator)
    }
    const scalar = (tag: number, v: number | undefined): void => {
      if (v === undefined) return
      pos = putVarint32(out, pos, tag)
      pos = putVarint64(out, pos, v)
    }
    scalar(2, this.logNumber)
    scalar(9, this.prevLogNumber)
    scalar(3, this.nextFileNumber)
    scalar(4, this.lastSequence)
    for (const p of this.compactPointers) {
      pos = putVarint32(out, pos, 5)
      pos = putVarint32(out, pos, p.level)
      lp(p.key)
    }
    const deleted = [...this.deletedFiles].sort((a, b) => a[0] - b[0] || a[1] - b[1])
    for (const [level, number] of deleted) {
      pos = putVarint32(out, pos, 6)
      pos = putVarint32(out, pos, level)
      pos = putVarint64(out, pos, number)
    }
    for (const { level, file } of this.newFiles) {
      pos = putVarint32(out, pos, 7)
      pos = putVarint32(out, pos, level)
      pos = putVarint64(out, pos, file.number)
      pos = putVarint64(out, pos, file.fileSize)
      lp(file.smallest)
      lp(file.largest)
    }
    return out.subarray(0, pos)
  }

  /** Decodes a MANIFEST record; `what` names the file and record for corruption messages. */
  static decode (data: Uint8Array, what: string): VersionEdit {
    const edit = new VersionEdit()
    const r = new ByteReader(data, 0, data.length, what)
    const level = (): number => {
      const at = r.pos
      const l = r.varint32()
      if (l >= NUM_LEVELS) r.fail(`VersionEdit: level ${l} out of range`, at)
      return l
    }
    const ikey = (): Uint8Array => {
      const at = r.pos
      const start = r.lengthPrefixed()
      if (r.pos - start < 8) r.fail('VersionEdit: internal key too short', at)
      return data.slice(start, r.pos)
    }
    while (r.remaining > 0) {
      const at = r.pos
      const tag = r.varint32()
      switch (tag) {
        case 1: {
          const start = r.lengthPrefixed()
          edit.comparator = decodeUtf8(data, start, r.pos)
          break
        }
        case 2: edit.logNumber = r.varint64(); break
        case 9: edit.prevLogNumber = r.varint64(); break
        case 3: edit.nextFileNumber = r.varint64(); break
        case 4: edit.lastSequence = r.varint64(); break
        case 5: edit.compactPointers.push({ level: level(), key: ikey() }); break
        case 6: edit.deletedFiles.push([level(), r.varint64()]); break
        case 7: {
          const l = level()
          const number = r.varint64()
          const fileSize = r.varint64()
          const smallest = ikey()
          const largest = ikey()
          edit.newFiles.push({ level: l, file: { number, fileSize, smallest, largest } })
          break
        }
        default:
          r.fail(`VersionEdit: unknown tag ${tag}`, at)
      }
    }
    return edit
  }
}

