// Tables of one run's results: a padded plain-text table for the terminal and a Markdown one for the README.

import type { EngineName, SetName, WorkloadName, WorkloadResult } from './protocol'
import { WORKLOADS } from './protocol'

export interface Machine {
  cpu: string
  cores: number
  totalMemoryGiB: number
  node: string
  platform: string
  loadAverage: number[]
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
  /** Peak RSS of the child (process.resourceUsage().maxRSS), in MB. */
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
  machine: Machine
  options: Record<string, unknown>
  engines: EngineName[]
  /** Every child, in the order they ran. */
  runs: EngineRun[]
  /** What the tables show: see summarize(). */
  summary: EngineSummary[]
}

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
  for (const name of WORKLOADS[set]) {
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

function rate (value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US')
  return value.toPrecision(3)
}

function cell (result: WorkloadResult | undefined): string {
  if (result === undefined) return '—'
  if (result.status === 'n/a') return 'n/a'
  if (result.status === 'error') return 'error'
  return result.unit === 'ms' ? `${result.ms.toFixed(result.ms < 10 ? 1 : 0)} ms` : rate(result.opsPerSec)
}

function ratio (a: WorkloadResult | undefined, b: WorkloadResult | undefined): string {
  if (a?.status !== 'ok' || b?.status !== 'ok' || a.opsPerSec <= 0 || b.opsPerSec <= 0) return '—'
  return (a.opsPerSec / b.opsPerSec).toFixed(2)
}

function find (results: Results, engine: EngineName, set: SetName): EngineSummary | undefined {
  return results.summary.find((r) => r.engine === engine && r.set === set)
}

/** The engines the ratios compare rough against (only when rough is part of the run). */
function others (results: Results): EngineName[] {
  return results.engines.includes('rough') ? results.engines.filter((e) => e !== 'rough') : []
}

function header (results: Results): Row {
  return ['workload', ...results.engines.map((e) => `${e} ops/s`), ...others(results).map((o) => `rough/${o}`)]
}

/** The rows of one set: every workload some engine ran, then peak RSS. */
function rows (results: Results, set: SetName): Row[] {
  const runs = results.engines.map((e) => find(results, e, set))
  const ran = (name: WorkloadName): boolean => runs.some((r) => r?.workloads.some((w) => w.name === name) === true)
  const out: Row[] = []
  for (const name of WORKLOADS[set]) {
    if (!ran(name)) continue
    const byEngine = (e: EngineName): WorkloadResult | undefined => find(results, e, set)?.workloads.find((w) => w.name === name)
    out.push([
      name,
      ...results.engines.map((e) => cell(byEngine(e))),
      ...others(results).map((o) => ratio(byEngine('rough'), byEngine(o)))
    ])
  }
  if (out.length === 0) return out
  const rss = (e: EngineName): number | undefined => find(results, e, set)?.maxRssMB
  const before = (e: EngineName): number | undefined => find(results, e, set)?.rssBeforeOpenMB
  out.push([
    'harness RSS before open (MB)',
    ...results.engines.map((e) => before(e)?.toFixed(0) ?? '—'),
    ...others(results).map(() => '')
  ])
  out.push([
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
  return out
}

function notes (results: Results, set: SetName): string[] {
  const lines: string[] = []
  for (const e of results.engines) {
    const run = find(results, e, set)
    if (run === undefined) continue
    if (!run.available) lines.push(`${e}: not available (${run.error ?? 'unknown'})`)
    else if (run.error !== undefined) lines.push(`${e}: ${run.error}`)
    if (run.warning !== undefined) lines.push(`${e}: ${run.warning}`)
    for (const w of run.workloads) if (w.note !== undefined) lines.push(`${e} ${w.name}: ${w.status}: ${w.note}`)
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

export function setTitle (results: Results, set: SetName): string {
  const n = set === 'small' ? results.options.n : results.options.largeN
  const count = typeof n === 'number' ? n.toLocaleString('en-US') : String(n)
  const rounds = set === 'small' ? results.options.rounds : results.options.largeRounds
  const best = typeof rounds === 'number' && rounds > 1 ? `; best of ${rounds} rounds` : ''
  return set === 'small'
    ? `small set: ${count} entries (16-byte keys, 100-byte values; inside a 4 MiB memtable${best})`
    : `large set: ${count} entries, written in batches of 100, then reopened (data in tables${best})`
}

export function machineLine (m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, Node ${m.node}, ${m.platform}`
}

function versions (results: Results): string {
  const seen = new Map<EngineName, string>()
  for (const run of results.summary) if (run.version !== undefined) seen.set(run.engine, run.version)
  return results.engines.map((e) => `${e} ${seen.get(e) ?? '(not available)'}`).join(', ')
}

export function textTables (results: Results): string {
  const out: string[] = []
  for (const set of ['small', 'large'] as const) {
    const body = rows(results, set)
    if (body.length === 0) continue
    const table = [header(results), ...body]
    const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)))
    out.push(setTitle(results, set))
    table.forEach((r, i) => {
      out.push('  ' + r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '))
      if (i === 0) out.push('  ' + widths.map((w) => '-'.repeat(w)).join('  '))
    })
    for (const line of notes(results, set)) out.push(`  * ${line}`)
    out.push('')
  }
  return out.join('\n')
}

export function markdown (results: Results): string {
  const out: string[] = [
    `Machine: ${machineLine(results.machine)}. Engines: ${versions(results)}. ` +
      `Taken ${results.startedAt.slice(0, 10)}; only the ratios within one run mean anything.`,
    ''
  ]
  for (const set of ['small', 'large'] as const) {
    const body = rows(results, set)
    if (body.length === 0) continue
    const head = header(results)
    out.push(`**${setTitle(results, set)}**`, '')
    out.push(`| ${head.join(' | ')} |`)
    out.push(`| ${head.map((_, c) => (c === 0 ? '---' : '---:')).join(' | ')} |`)
    for (const r of body) out.push(`| ${r.join(' | ')} |`)
    out.push('')
  }
  return out.join('\n')
}
