// rough-level dump <file>: every structure and entry of one file, as LevelDB's leveldbutil and
// RocksDB's sst_dump print them.
//   a table (.ldb, .sst): footer, metaindex, filter, index, properties (counted), every data block
//     (offset, size, compression, restarts) and every entry with its sequence and type;
//   a log (.log): every record (offset, sequence, count) and every operation of its batch;
//   a MANIFEST: every VersionEdit.
// Damage is printed where it is met (`error: ...`) and the rest of the file is still read; the exit
// status is 1 if anything was damaged. Reads the file only: it may belong to an open database.
import path = require('node:path')
import { compareInternalKeys, ValueType } from '../engine/internal-key'
import { BlockIterator } from '../engine/table/block'
import { FileType, parseFileName } from '../engine/filename'
import { VersionEdit } from '../engine/version/version-edit'
import { BatchReader } from '../engine/db/write-batch'
import { type ByteFormat, formatBytes, jsonField } from './byte-format'
import { type Command, FORMAT_OPTIONS, JSON_OPTION, type ParsedArgs } from './command'
import { readWholeFile } from './db-state'
import { EXIT_FAILURE, EXIT_OK, UsageError } from './errors'
import { internalKeyJson, internalKeyText, splitInternalKey } from './internal-key-text'
import { walkLog } from './log-walk'
import type { Output } from './output'
import { COMPRESSION_NAMES, errorMessage, TableInspector } from './table-inspector'

type Kind = 'table' | 'log' | 'manifest'

interface Formats {
  key: ByteFormat
  value: ByteFormat
  json: boolean
}

export const dump: Command = {
  name: 'dump',
  summary: 'Print every block and entry of a table, every record of a log, or every edit of a MANIFEST.',
  args: '<file>',
  options: {
    ...JSON_OPTION,
    type: { type: 'string', value: 'table|log|manifest', description: 'the file\'s kind, when its name does not say (NNNNNN.ldb/.sst, NNNNNN.log, MANIFEST-NNNNNN)' },
    ...FORMAT_OPTIONS
  },
  details: [
    'Text output follows LevelDB\'s leveldbutil: entries as \'key\' @ sequence : val|del => \'value\'.',
    'With --json, one object per line, each with a "kind" (footer, metaindex, filter, index, block, entry,',
    'properties, record, put, del, edit, damage). Sequences beyond 2^53 are written as strings.',
    'Damage is printed where it is met and the rest is still read; the exit status is then 1.'
  ],
  examples: ['rough-level dump ./db/000005.ldb', 'rough-level dump ./db/000007.log --json', 'rough-level dump ./db/MANIFEST-000002'],
  async run (args: ParsedArgs, out: Output): Promise<number> {
    const file = args.positionals[0]
    const kind = fileKind(file, args.string('type'))
    const formats: Formats = { key: args.byteFormat('key'), value: args.byteFormat('value'), json: args.flag('json') }
    const damaged = kind === 'table' ? await dumpTable(file, formats, out) : await dumpLog(file, kind, formats, out)
    return damaged ? EXIT_FAILURE : EXIT_OK
  }
}

function fileKind (file: string, type: string | undefined): Kind {
  if (type !== undefined) {
    if (type !== 'table' && type !== 'log' && type !== 'manifest') throw new UsageError(`--type must be table, log or manifest, not ${JSON.stringify(type)}`)
    return type
  }
  const parsed = parseFileName(path.basename(file))
  if (parsed?.type === FileType.Table) return 'table'
  if (parsed?.type === FileType.Log) return 'log'
  if (parsed?.type === FileType.Descriptor) return 'manifest'
  throw new UsageError(`cannot tell what ${path.basename(file)} is from its name: say --type table, log or manifest`)
}

/** Writes one item: a JSON object, or its text line. */
async function emit (out: Output, formats: Formats, json: Record<string, unknown>, text: string): Promise<void> {
  await out.line(formats.json ? JSON.stringify(json) : text)
}

async function dumpTable (file: string, f: Formats, out: Output): Promise<boolean> {
  const table = TableInspector.open(file)
  let damaged = false
  try {
    const { metaindexHandle: mh, indexHandle: ih } = table.footer
    await emit(out, f, { kind: 'footer', file, fileSize: table.fileSize, metaindex: { offset: mh.offset, size: mh.size }, index: { offset: ih.offset, size: ih.size } },
      `table ${file}: ${table.fileSize} bytes\nfooter: metaindex at offset ${mh.offset} size ${mh.size}, index at offset ${ih.offset} size ${ih.size}`)
    if (!f.json) await out.line('metaindex:')
    for (const m of table.meta) await emit(out, f, { kind: 'metaindex', ...m }, `  ${m.name} => offset ${m.offset} size ${m.size}`)
    if (table.metaError !== undefined) damaged = await damage(out, f, table.metaError)
    if (table.filter !== undefined) {
      const fi = table.filter
      await emit(out, f, { kind: 'filter', ...fi }, `filter: ${fi.name}, ${fi.size} bytes at offset ${fi.offset}, ${fi.filters} filters, one per ${2 ** fi.baseLg} bytes of data`)
    }
    if (table.filterError !== undefined) damaged = await damage(out, f, table.filterError)
    if (!f.json) await out.line(`index: ${table.index.length} entries`)
    for (const e of table.index) {
      await emit(out, f, { kind: 'index', ...internalKeyJson(e.key, f.key), offset: e.offset, size: e.size },
        `  ${internalKeyText(e.key, f.key)} => block at offset ${e.offset} size ${e.size}`)
    }
    if (table.indexError !== undefined) damaged = await damage(out, f, `${table.indexError} (blocks after it cannot be found)`)

    const compression: Record<string, number> = {}
    const props = { dataBlocks: 0, entries: 0, deletions: 0, rawKeyBytes: 0, rawValueBytes: 0, dataBytes: 0, uncompressedBytes: 0, compression }
    for (const [i, e] of table.index.entries()) {
      const type = table.compressionType(e)
      const compression = COMPRESSION_NAMES[type] ?? `type ${type}`
      props.dataBlocks++
      props.dataBytes += e.size
      props.compression[compression] = (props.compression[compression] ?? 0) + 1
      let block
      try {
        block = table.dataBlock(e)
      } catch (err) {
        await emit(out, f, { kind: 'block', index: i, offset: e.offset, size: e.size, compression }, `--- block ${i} at offset ${e.offset} size ${e.size} (${compression})`)
        damaged = await damage(out, f, errorMessage(err))
        continue
      }
      props.uncompressedBytes += block.size
      await emit(out, f, { kind: 'block', index: i, offset: e.offset, size: e.size, compression, uncompressedSize: block.size, restarts: block.numRestarts },
        `--- block ${i} at offset ${e.offset} size ${e.size} (${compression}, ${block.size} bytes uncompressed, ${block.numRestarts} restarts)`)
      // minKeyLength 0: a key too short for a tag is printed as badkey, as leveldbutil does.
      const it = new BlockIterator(compareInternalKeys, block, 0)
      try {
        for (it.seekToFirst(); it.valid(); it.next()) {
          const value = it.valueBuf.subarray(it.valueOff, it.valueOff + it.valueLen)
          const parts = splitInternalKey(it.keyBuf, it.keyLen)
          props.entries++
          props.rawKeyBytes += it.keyLen
          props.rawValueBytes += it.valueLen
          if (parts?.type === ValueType.Deletion) props.deletions++
          const ikey = it.keyBuf.slice(0, it.keyLen)
          const v = jsonField(value, f.value)
          await emit(out, f, { kind: 'entry', block: i, ...internalKeyJson(ikey, f.key), value: v.value, valueEncoding: v.encoding },
            `${internalKeyText(ikey, f.key)} => '${formatBytes(value, f.value)}'`)
        }
      } catch (err) {
        damaged = await damage(out, f, errorMessage(err))
      }
    }
    await emit(out, f, { kind: 'properties', ...props },
      `properties: ${props.dataBlocks} data blocks (${Object.entries(props.compression).map(([k, n]) => `${n} ${k}`).join(', ')}), ` +
      `${props.dataBytes} bytes stored, ${props.uncompressedBytes} uncompressed; ${props.entries} entries (${props.deletions} deletions), ` +
      `keys ${props.rawKeyBytes} bytes, values ${props.rawValueBytes} bytes`)
  } finally {
    table.close()
  }
  return damaged
}

async function dumpLog (file: string, kind: 'log' | 'manifest', f: Formats, out: Output): Promise<boolean> {
  const data = readWholeFile(file)
  let damaged = false
  for (const item of walkLog(data, file)) {
    if (item.kind === 'damage') {
      damaged = await damage(out, f, `${item.reason}; bytes ${item.offset} to ${item.end} skipped`, item.offset, item.end)
      continue
    }
    if (item.kind === 'torn') {
      await emit(out, f, { kind: 'torn', offset: item.offset, end: item.end },
        `--- torn tail at offset ${item.offset}: ${item.end - item.offset} bytes of an incomplete write (a crash leaves this; an open drops it)`)
      continue
    }
    const what = `${file} record at offset ${item.offset}`
    if (kind === 'manifest') {
      let edit: VersionEdit
      try {
        edit = VersionEdit.decode(item.data, what)
      } catch (err) {
        damaged = await damage(out, f, errorMessage(err), item.offset)
        continue
      }
      await emit(out, f, { kind: 'edit', offset: item.offset, ...editJson(edit, f.key) }, `--- offset ${item.offset}; ${editText(edit, f.key)}`)
      continue
    }
    let batch: BatchReader
    try {
      batch = new BatchReader(item.data, 0, item.data.length, what)
    } catch (err) {
      damaged = await damage(out, f, errorMessage(err), item.offset)
      continue
    }
    await emit(out, f, { kind: 'record', offset: item.offset, length: item.data.length, sequence: batch.sequence, count: batch.count },
      `--- offset ${item.offset}; sequence ${batch.sequence}; ${batch.count} operations`)
    try {
      let sequence = batch.sequence
      while (batch.next()) {
        const key = item.data.subarray(batch.keyOff, batch.keyOff + batch.keyLen)
        const k = jsonField(key, f.key)
        if (batch.type === ValueType.Value) {
          const value = item.data.subarray(batch.valueOff, batch.valueOff + batch.valueLen)
          const v = jsonField(value, f.value)
          await emit(out, f, { kind: 'put', sequence, key: k.value, keyEncoding: k.encoding, value: v.value, valueEncoding: v.encoding },
            `  put '${formatBytes(key, f.key)}' '${formatBytes(value, f.value)}'`)
        } else {
          await emit(out, f, { kind: 'del', sequence, key: k.value, keyEncoding: k.encoding }, `  del '${formatBytes(key, f.key)}'`)
        }
        sequence++
      }
    } catch (err) {
      damaged = await damage(out, f, errorMessage(err), item.offset)
    }
  }
  return damaged
}

async function damage (out: Output, f: Formats, message: string, offset?: number, end?: number): Promise<true> {
  await emit(out, f, { kind: 'damage', offset, end, message }, `  error: ${message}`)
  return true
}

/** LevelDB's VersionEdit::DebugString. */
function editText (edit: VersionEdit, format: ByteFormat): string {
  const lines = ['VersionEdit {']
  if (edit.comparator !== undefined) lines.push(`  Comparator: ${edit.comparator}`)
  if (edit.logNumber !== undefined) lines.push(`  LogNumber: ${edit.logNumber}`)
  if (edit.prevLogNumber !== undefined) lines.push(`  PrevLogNumber: ${edit.prevLogNumber}`)
  if (edit.nextFileNumber !== undefined) lines.push(`  NextFile: ${edit.nextFileNumber}`)
  if (edit.lastSequence !== undefined) lines.push(`  LastSeq: ${edit.lastSequence}`)
  for (const p of edit.compactPointers) lines.push(`  CompactPointer: ${p.level} ${internalKeyText(p.key, format)}`)
  for (const [level, number] of edit.deletedFiles) lines.push(`  RemoveFile: ${level} ${number}`)
  for (const { level, file } of edit.newFiles) {
    lines.push(`  AddFile: ${level} ${file.number} ${file.fileSize} ${internalKeyText(file.smallest, format)} .. ${internalKeyText(file.largest, format)}`)
  }
  lines.push('}')
  return lines.join('\n')
}

function editJson (edit: VersionEdit, format: ByteFormat): Record<string, unknown> {
  return {
    comparator: edit.comparator,
    logNumber: edit.logNumber,
    prevLogNumber: edit.prevLogNumber,
    nextFileNumber: edit.nextFileNumber,
    lastSequence: edit.lastSequence,
    compactPointers: edit.compactPointers.map((p) => ({ level: p.level, ...internalKeyJson(p.key, format) })),
    deletedFiles: edit.deletedFiles.map(([level, number]) => ({ level, number })),
    newFiles: edit.newFiles.map(({ level, file }) => ({
      level, number: file.number, size: file.fileSize, smallest: internalKeyJson(file.smallest, format), largest: internalKeyJson(file.largest, format)
    }))
  }
}
