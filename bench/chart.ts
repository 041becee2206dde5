// The chart of a run: rough-level's speed over classic-level's per workload, one horizontal bar each, grouped by
// set, on a log scale centred on a line at 1.0x (a bar to the right: rough-level is faster). Plain SVG written
// by hand, so that the README can show the last full run without a plotting dependency.

import type { EngineName } from './protocol'
import { find, ranWorkloads, type Results, shortSetTitle, speedRatio } from './report'

const WIDTH = 980
const LABEL_RIGHT = 250
const PLOT_LEFT = 262
const PLOT_RIGHT = 890
const VALUE_RIGHT = 968
const ROW = 17
const BAR = 11
const HEADING = 26
const TOP = 64
const FASTER = '#2e7d32'
const SLOWER = '#c62828'

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

interface Bar { label: string, ratio: number | undefined }
interface Group { title: string, bars: Bar[] }

function groups (results: Results, of: EngineName): Group[] {
  const out: Group[] = []
  for (const set of results.sets) {
    const bars = ranWorkloads(results, set).map((name): Bar => {
      const pick = (e: EngineName): ReturnType<typeof find> => find(results, e, set)
      const rough = pick('rough')?.workloads.find((w) => w.name === name)
      const other = pick(of)?.workloads.find((w) => w.name === name)
      return { label: name, ratio: speedRatio(rough, other) }
    })
    if (bars.some((b) => b.ratio !== undefined)) out.push({ title: shortSetTitle(results, set), bars })
  }
  return out
}

/** Powers of two around the ratios, at least 0.25x to 4x. */
function domain (ratios: number[]): [number, number] {
  const lo = Math.min(0.25, ...ratios)
  const hi = Math.max(4, ...ratios)
  return [Math.pow(2, Math.floor(Math.log2(lo))), Math.pow(2, Math.ceil(Math.log2(hi)))]
}

function tickLabel (value: number): string {
  return value >= 1 ? `${value}x` : `${Number(value.toPrecision(3))}x`
}

/** The SVG text of the chart of rough over `of` (classic by default), or undefined if no workload has both. */
export function ratioChart (results: Results, of: EngineName = 'classic'): string | undefined {
  if (!results.engines.includes('rough') || !results.engines.includes(of)) return undefined
  const all = groups(results, of)
  const ratios = all.flatMap((g) => g.bars.map((b) => b.ratio)).filter((r): r is number => r !== undefined)
  if (ratios.length === 0) return undefined
  const [lo, hi] = domain(ratios)
  const x = (r: number): number => PLOT_LEFT + (Math.log2(r) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo)) * (PLOT_RIGHT - PLOT_LEFT)
  const height = TOP + all.reduce((h, g) => h + HEADING + g.bars.length * ROW, 0) + 30
  const body: string[] = []
  let y = TOP
  for (const group of all) {
    // A white band under the heading, so that the grid lines drawn before do not cross its text.
    body.push(`<rect x="0" y="${y + 4}" width="${WIDTH}" height="${HEADING - 6}" fill="#fff"/>`)
    body.push(`<text x="10" y="${y + 17}" class="set">${escape(group.title)}</text>`)
    y += HEADING
    for (const bar of group.bars) {
      const mid = y + ROW / 2
      body.push(`<text x="${LABEL_RIGHT}" y="${mid + 4}" class="label">${escape(bar.label)}</text>`)
      if (bar.ratio === undefined) {
        body.push(`<text x="${VALUE_RIGHT}" y="${mid + 4}" class="value">—</text>`)
      } else {
        const from = x(1)
        const to = x(Math.min(hi, Math.max(lo, bar.ratio)))
        const left = Math.min(from, to)
        const width = Math.max(1, Math.abs(to - from))
        const colour = bar.ratio >= 1 ? FASTER : SLOWER
        body.push(`<rect x="${left.toFixed(1)}" y="${(mid - BAR / 2).toFixed(1)}" width="${width.toFixed(1)}" height="${BAR}" fill="${colour}"/>`)
        body.push(`<text x="${VALUE_RIGHT}" y="${mid + 4}" class="value">${bar.ratio.toFixed(2)}x</text>`)
      }
      y += ROW
    }
  }
  const ticks: string[] = []
  for (let t = lo; t <= hi * 1.0001; t *= 2) {
    const tx = x(t).toFixed(1)
    ticks.push(`<line x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${y}" class="${t === 1 ? 'one' : 'grid'}"/>`)
    ticks.push(`<text x="${tx}" y="${TOP - 10}" class="tick">${tickLabel(t)}</text>`)
    ticks.push(`<text x="${tx}" y="${y + 16}" class="tick">${tickLabel(t)}</text>`)
  }
  const subtitle = `${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}; ` +
    `taken ${results.startedAt.slice(0, 10)}; only ratios within one run mean anything`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>',
    '.title{font-size:16px;font-weight:bold}.sub{font-size:11px;fill:#555}.set{font-size:12px;font-weight:bold}',
    '.label{font-size:11px;text-anchor:end}.value{font-size:11px;text-anchor:end}.tick{font-size:10px;fill:#555;text-anchor:middle}',
    '.grid{stroke:#ddd;stroke-width:1}.one{stroke:#000;stroke-width:1.5}',
    '</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="22" class="title">rough-level speed over ${escape(of)}-level's, per workload (log scale; right of 1x: rough-level faster)</text>`,
    `<text x="10" y="40" class="sub">${escape(subtitle)}</text>`,
    ...ticks,
    ...body,
    '</svg>',
    ''
  ].join('\n')
}
