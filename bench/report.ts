// Tables of one run's results, per set: throughput and ratios; the event loop, peak RSS and bytes written of every
// workload; YCSB's latencies. A padded plain-text form for the terminal and a Markdown one for the README.

import type { EngineName, LatencyFigures, SetName, WorkloadResult } from './protocol'
import { entriesOf, parseSet, type SetSpec, type SizeOptions, workloadsOf } from './sets'

export interface Machine {
  cpu: string
  cores: number
  totalMemoryGiB: number
  node: string
  platform: string
  /** os.loadavg() when the run began, and when it ended: figures from a busy machine are not worth quoting. */
  loadAverage: number[]
  loadAverageAtEnd?: number[]
}

export interface EngineRun {
  engine: EngineName
  set: SetName
  /** 1-based; every engine runs once per round, rounds one after another, so slow spells hit all engines. */
  round: number
  /** false when the engine could not be loaded (rough-level while index.ts is not there yet). */
  available: boolean
  version?: string
  /** Why the engine is unavailable, or why its child stopped early (crash, timeout). */
  error?: string
  /** Something that did not stop the run but may explain its figures (a failed warm-up). */
  warning?: string
  workloads: WorkloadResult[]
  /** Peak RSS of the child over all its workloads, in MB. */
  maxRssMB?: number
  /** RSS of the child after preparing its data, before opening any database: the harness's own share. */
  rssBeforeOpenMB?: number
}

/** One engine on one set over all rounds: each workload's best round, peak RSS the largest of any round. */
export interface EngineSummary extends Omit<EngineRun, 'round' | 'workloads'> {
  rounds: number
  workloads: Array<WorkloadResult & { samples: number[] }>
}

export interface Results {
  startedAt: string
  /** Wall time of the whole run, children and reports included. */
  durationMs?: number
  machine: Machine
  options: Record<string, unknown>
  engines: EngineName[]
  /** The sets in the order they ran. */
  sets: SetName[]
  /** Engines left out of a set, and why (memory-level on sets larger than --memory-max-keys). */
  skipped: Array<{ engine: EngineName, set: SetName, reason: string }>
  /** The values' snappy ratio (bench/data.ts snappyRatio), checked before the run. */
  valueSnappyRatio: number
  /** Every child, in the order they ran. */
  runs: EngineRun[]
  /** What the tables show: see summarize(). */
  summary: EngineSummary[]
}

/** issue 11's goal for rough-level in every workload: no timer waits longer than this... */
export const LOOP_MAX_GAP_GOAL_MS = 10
/** ...and the 99th percentile of the event-loop delay stays under this. */
export const LOOP_P99_GOAL_MS = 2

function unique (items: Array<string | undefined>): string | undefined {
  const seen = [...new Set(items.filter((i): i is string => i !== undefined))]
  return seen.length === 0 ? undefined : seen.join('; ')
}

/**
 * Combines one engine's rounds on one set. A workload's figure is its fastest round (interference from other
 * processes on a shared machine only ever slows a round down); a wrong answer in any round makes it an error.
 */
export function summarize (runs: readonly EngineRun[], engine: EngineName, set: SetName): EngineSummary | undefined {
  const mine = runs.filter((r) => r.engine === engine && r.set === set)
  if (mine.length === 0) return undefined
  const workloads: EngineSummary['workloads'] = []
  for (const name of workloadsOf(parseSet(set))) {
    const found = mine.map((r) => r.workloads.find((w) => w.name === name)).filter((w): w is WorkloadResult => w !== undefined)
    if (found.length === 0) continue
    const ok = found.filter((w) => w.status === 'ok')
    const chosen = found.find((w) => w.status === 'error') ??
      (ok.length > 0 ? ok.reduce((best, w) => (w.opsPerSec > best.opsPerSec ? w : best)) : found[0])
    workloads.push({ ...chosen, samples: ok.map((w) => w.opsPerSec) })
  }
  const max = (pick: (r: EngineRun) => number | undefined): number | undefined => {
    const values = mine.map(pick).filter((v): v is number => v !== undefined)
    return values.length === 0 ? undefined : Math.max(...values)
  }
  return {
    engine,
    set,
    rounds: mine.length,
    available: mine.every((r) => r.available),
    version: mine.find((r) => r.version !== undefined)?.version,
    error: unique(mine.map((r) => r.error)),
    warning: unique(mine.map((r) => r.warning)),
    workloads,
    maxRssMB: max((r) => r.maxRssMB),
    rssBeforeOpenMB: max((r) => r.rssBeforeOpenMB)
  }
}

type Row = string[]

/** A table: a header and rows, and the notes printed under it. */
interface Table {
  title?: string
  head: Row
  rows: Row[]
  notes: string[]
}

export function count (value: number): string {
  return value.toLocaleString('en-US')
}

export function rate (value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US')
  return value.toPrecision(3)
}

/** Milliseconds or megabytes: one decimal below 10, none above. */
export function amount (value: number): string {
  return value < 10 ? value.toFixed(1) : count(Math.round(value))
}

function cell (result: WorkloadResult | undefined): string {
  if (result === undefined) return '—'
  if (result.status === 'n/a') return 'n/a'
  if (result.status === 'error') return 'error'
  return result.unit === 'ms' ? `${amount(result.ms)} ms` : rate(result.opsPerSec)
}

/** rough's speed over another's: above 1 means rough is faster (for durations too: the other's time over rough's). */
export function speedRatio (rough: WorkloadResult | undefined, other: WorkloadResult | undefined): number | undefined {
  if (rough?.status !== 'ok' || other?.status !== 'ok' || rough.opsPerSec <= 0 || other.opsPerSec <= 0) return undefined
  return rough.opsPerSec / other.opsPerSec
}

function ratio (a: WorkloadResult | undefined, b: WorkloadResult | undefined): string {
  return speedRatio(a, b)?.toFixed(2) ?? '—'
}

export function find (results: Results, engine: EngineName, set: SetName): EngineSummary | undefined {
  return results.summary.find((r) => r.engine === engine && r.set === set)
}

function resultOf (results: Results, engine: EngineName, set: SetName, name: string): WorkloadResult | undefined {
  return find(results, engine, set)?.workloads.find((w) => w.name === name)
}

/** The engines the ratios compare rough against (only when rough is part of the run). */
function others (results: Results): EngineName[] {
  return results.engines.includes('rough') ? results.engines.filter((e) => e !== 'rough') : []
}

/** The workloads of a set that some engine ran, in the set's order. */
export function ranWorkloads (results: Results, set: SetName): string[] {
  const runs = results.engines.map((e) => find(results, e, set))
  return workloadsOf(parseSet(set)).filter((name) => runs.some((r) => r?.workloads.some((w) => w.name === name) === true))
}

function throughputTable (results: Results, set: SetName): Table {
  const head = ['workload', ...results.engines.map((e) => `${e} ops/s`), ...others(results).map((o) => `rough/${o}`)]
  const rows: Row[] = ranWorkloads(results, set).map((name) => [
    name,
    ...results.engines.map((e) => cell(resultOf(results, e, set, name))),
    ...others(results).map((o) => ratio(resultOf(results, 'rough', set, name), resultOf(results, o, set, name)))
  ])
  if (rows.length > 0) {
    const rss = (e: EngineName): number | undefined => find(results, e, set)?.maxRssMB
    const before = (e: EngineName): number | undefined => find(results, e, set)?.rssBeforeOpenMB
    rows.push([
      'harness RSS before open (MB)',
      ...results.engines.map((e) => before(e)?.toFixed(0) ?? '—'),
      ...others(results).map(() => '')
    ])
    rows.push([
      'peak RSS (MB)',
      ...results.engines.map((e) => rss(e)?.toFixed(0) ?? '—'),
      ...others(results).map((o) => {
        const r = rss('rough')
        const x = rss(o)
        if (r === undefined || x === undefined) return '—'
        const d = r - x
        return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(0)} MB`
      })
    ])
  }
  return { head, rows, notes: throughputNotes(results, set) }
}

/** "312 / 45": the longest gap and the p99 delay, marked when rough-level misses issue 11's goal. */
function loopCell (engine: EngineName, result: WorkloadResult | undefined): string {
  if (result?.loop === undefined) return result === undefined ? '—' : result.status
  const { maxGapMs, p99Ms } = result.loop
  const over = engine === 'rough' && (maxGapMs > LOOP_MAX_GAP_GOAL_MS || p99Ms > LOOP_P99_GOAL_MS)
  return `${amount(maxGapMs)} / ${amount(p99Ms)}${over ? ' !' : ''}`
}

function resourceTable (results: Results, set: SetName): Table {
  const engines = results.engines
  const head = [
    'workload',
    ...engines.map((e) => `${e} loop max / p99 ms`),
    ...engines.map((e) => `${e} RSS MB`),
    ...engines.map((e) => `${e} written MB`)
  ]
  const rows: Row[] = ranWorkloads(results, set).map((name) => {
    const of = (e: EngineName): WorkloadResult | undefined => resultOf(results, e, set, name)
    return [
      name,
      ...engines.map((e) => loopCell(e, of(e))),
      ...engines.map((e) => {
        const usage = of(e)?.usage
        return usage === undefined ? '—' : `${amount(usage.peakRssMB)}${usage.peakRssScope === 'process' ? '*' : ''}`
      }),
      ...engines.map((e) => {
        const usage = of(e)?.usage
        return usage === undefined ? '—' : amount(usage.writtenBytes / 1e6)
      })
    ]
  })
  const notes: string[] = []
  if (engines.includes('rough')) {
    notes.push(`loop: the longest gap between callbacks of a 1 ms timer / the p99 of monitorEventLoopDelay, in ms; ` +
      `'!' marks rough-level over issue 11's goal (max ${LOOP_MAX_GAP_GOAL_MS} ms, p99 ${LOOP_P99_GOAL_MS} ms)`)
  }
  const usages = results.summary.filter((s) => s.set === set).flatMap((s) => s.workloads.map((w) => w.usage))
  if (usages.some((u) => u?.peakRssScope === 'process')) notes.push('RSS marked *: the process\'s peak so far (no /proc/self/clear_refs here)')
  if (usages.some((u) => u?.writtenSource === 'file-sizes')) notes.push('written: growth of the database files (no /proc/self/io here): a lower bound')
  return { title: 'event loop, peak RSS and bytes written during each workload', head, rows, notes }
}

function latencyCell (f: LatencyFigures | undefined): string {
  if (f === undefined) return '—'
  const us = (v: number): string => (v < 10 ? v.toFixed(1) : count(Math.round(v)))
  return `${us(f.p50Us)} / ${us(f.p99Us)} / ${us(f.p999Us)}`
}

function latencyTable (results: Results, set: SetName): Table | undefined {
  const rows: Row[] = []
  for (const name of ranWorkloads(results, set)) {
    const of = (e: EngineName): WorkloadResult | undefined => resultOf(results, e, set, name)
    const kinds = [...new Set(results.engines.flatMap((e) => Object.keys(of(e)?.latencies ?? {})))]
    const keys = results.engines.map((e) => of(e)?.distinctKeys).find((d) => d !== undefined)
    for (const kind of kinds) {
      rows.push([
        `${name} ${kind}`,
        ...results.engines.map((e) => latencyCell(of(e)?.latencies?.[kind])),
        count(results.engines.map((e) => of(e)?.latencies?.[kind]?.count).find((c) => c !== undefined) ?? 0),
        keys === undefined ? '' : count(keys)
      ])
    }
  }
  if (rows.length === 0) return undefined
  return {
    title: 'latency of each operation type, p50 / p99 / p99.9 in µs',
    head: ['operation', ...results.engines.map((e) => `${e} µs`), 'count', 'distinct keys'],
    rows,
    notes: []
  }
}

function throughputNotes (results: Results, set: SetName): string[] {
  const lines: string[] = []
  for (const s of results.skipped) if (s.set === set) lines.push(`${s.engine}: ${s.reason}`)
  for (const e of results.engines) {
    const run = find(results, e, set)
    if (run === undefined) continue
    if (!run.available) lines.push(`${e}: not available (${run.error ?? 'unknown'})`)
    else if (run.error !== undefined) lines.push(`${e}: ${run.error}`)
    if (run.warning !== undefined) lines.push(`${e}: ${run.warning}`)
    for (const w of run.workloads) if (w.note !== undefined) lines.push(`${e} ${w.name}: ${w.status}: ${w.note}`)
  }
  // Every engine reads the same keys: one line per distinct draw.
  const draws = new Map<string, string[]>()
  const seen = new Set<string>()
  for (const e of results.engines) {
    for (const w of find(results, e, set)?.workloads ?? []) {
      if (w.distinctKeys === undefined || w.latencies !== undefined || seen.has(w.name)) continue
      seen.add(w.name)
      const key = `${count(w.ops)} keys drawn, ${count(w.distinctKeys)} distinct`
      draws.set(key, [...(draws.get(key) ?? []), w.name])
    }
  }
  for (const [key, names] of draws) lines.push(`random reads (${names.join(', ')}): ${key}`)
  for (const e of results.engines) {
    const open = find(results, e, set)?.workloads.find((w) => w.facts !== undefined)
    const f = open?.facts
    if (f === undefined) continue
    lines.push(`${e} ${open?.name ?? ''} found ${count(f.tables)} table${f.tables === 1 ? '' : 's'}, ${amount(f.dbBytes / 1e6)} MB on disk, ` +
      `a ${amount(f.logBytes / 2 ** 20)} MiB log to replay`)
  }
  // Rounds that disagree by more than half: the best figure is shown, but the reader should know it moved.
  const unsteady: string[] = []
  for (const e of results.engines) {
    for (const w of find(results, e, set)?.workloads ?? []) {
      if (w.samples.length < 2) continue
      const low = Math.min(...w.samples)
      const high = Math.max(...w.samples)
      if (low > 0 && high / low > 1.5) unsteady.push(`${e} ${w.name} ${rate(low)}–${rate(high)}`)
    }
  }
  if (unsteady.length > 0) lines.push(`rounds more than 1.5x apart (slowest–fastest): ${unsteady.join(', ')}`)
  return lines
}

function describeSet (spec: SetSpec, entries: string, results: Results): string {
  switch (spec.kind) {
    case 'small': return `small set: ${entries} entries (16-byte keys, 100-byte values; inside a 4 MiB memtable)`
    case 'large': return `large set: ${entries} entries, written in batches of 100, then reopened (data in tables)`
    case 'scale':
      return `scale set: ${entries} entries, ${spec.order === 'seq' ? 'sequential' : 'random'} fill in batches of ` +
        `${count(spec.batch)}; reads right after the fill (@fill, compaction still running) and after a reopen (@reopen)`
    case 'huge': return `huge set: ${entries} entries, random fill in batches of 1,000, closed with a full log; the open replays it`
    case 'ycsb': {
      const ops = typeof results.options.ycsbOps === 'number' ? count(results.options.ycsbOps) : '?'
      return `YCSB core workloads: ${entries} records of 1,000 bytes loaded, then ${ops} operations each ` +
        '(zipfian requests, D latest; one client)'
    }
  }
}

/** A set in a few words, for the chart's headings. */
export function shortSetTitle (results: Results, set: SetName): string {
  const spec = parseSet(set)
  const entries = count(entriesOf(spec, sizesOf(results)))
  switch (spec.kind) {
    case 'small': return `small set: ${entries} entries in the memtable`
    case 'large': return `large set: ${entries} entries in tables`
    case 'scale': return `scale set: ${entries} entries, ${spec.order === 'seq' ? 'sequential' : 'random'} fill, batches of ${count(spec.batch)}`
    case 'huge': return `huge set: ${entries} entries, open with a full log`
    case 'ycsb': return `YCSB: ${entries} records, one client`
  }
}

function sizesOf (results: Results): SizeOptions {
  const o = results.options as Partial<SizeOptions>
  return { n: o.n ?? 0, largeN: o.largeN ?? 0, hugeN: o.hugeN ?? 0, ycsbRecords: o.ycsbRecords ?? 0 }
}

export function setTitle (results: Results, set: SetName): string {
  const spec = parseSet(set)
  const entries = entriesOf(spec, sizesOf(results))
  const rounds = spec.kind === 'small' ? results.options.rounds : results.options.largeRounds
  const best = typeof rounds === 'number' && rounds > 1 ? `; best of ${rounds} rounds` : ''
  return `${describeSet(spec, count(entries), results)}${best}`
}

export function machineLine (m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, Node ${m.node}, ${m.platform}`
}

function versions (results: Results): string {
  const seen = new Map<EngineName, string>()
  for (const run of results.summary) if (run.version !== undefined) seen.set(run.engine, run.version)
  return results.engines.map((e) => `${e} ${seen.get(e) ?? '(not available)'}`).join(', ')
}

function tablesOf (results: Results, set: SetName): Table[] {
  const main = throughputTable(results, set)
  if (main.rows.length === 0) return []
  const latency = latencyTable(results, set)
  return [main, resourceTable(results, set), ...(latency === undefined ? [] : [latency])]
}

/** A table as padded text lines, indented by two: the first column left-aligned, the others right. */
export function paddedLines (head: Row, rows: readonly Row[]): string[] {
  const table = [head, ...rows]
  const widths = head.map((_, c) => Math.max(...table.map((r) => r[c].length)))
  const out: string[] = []
  table.forEach((r, i) => {
    out.push('  ' + r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '))
    if (i === 0) out.push('  ' + widths.map((w) => '-'.repeat(w)).join('  '))
  })
  return out
}

/** A table in Markdown, numbers right-aligned. */
export function markdownLines (head: Row, rows: readonly Row[]): string[] {
  return [`| ${head.join(' | ')} |`, `| ${head.map((_, c) => (c === 0 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)]
}

export function textTables (results: Results): string {
  const out: string[] = []
  for (const set of results.sets) {
    const tables = tablesOf(results, set)
    if (tables.length === 0) continue
    out.push(setTitle(results, set))
    for (const { title, head, rows, notes } of tables) {
      if (title !== undefined) out.push(` ${title}`)
      out.push(...paddedLines(head, rows))
      for (const line of notes) out.push(`  * ${line}`)
      out.push('')
    }
  }
  return out.join('\n')
}

export function markdown (results: Results): string {
  const out: string[] = [
    `Machine: ${machineLine(results.machine)}. Engines: ${versions(results)}. ` +
      `Taken ${results.startedAt.slice(0, 10)}; only the ratios within one run mean anything.`,
    ''
  ]
  for (const set of results.sets) {
    const tables = tablesOf(results, set)
    if (tables.length === 0) continue
    out.push(`**${setTitle(results, set)}**`, '')
    for (const { title, head, rows, notes } of tables) {
      if (title !== undefined) out.push(`*${title}*`, '')
      out.push(...markdownLines(head, rows))
      out.push('')
      for (const line of notes) out.push(`- ${line}`)
      if (notes.length > 0) out.push('')
    }
  }
  return out.join('\n')
}
