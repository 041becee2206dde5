// The layers of README.md's Architecture section, as the imports keep them: every relative import in the
// product's source goes to a file of the same layer or one below it, no two files import each other
// (directly or round a loop), and engine/ never imports abstract-level. A file belongs to the layer of the
// longest path in LAYERS that starts its own path (so version-edit.ts, the MANIFEST record's format, sits
// with the formats although its folder is version/).
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')

const root = path.resolve(__dirname, '..', '..', '..')

/** Lowest first. Keep in step with README.md's layer picture. */
const LAYERS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['base', ['engine/errors.ts', 'engine/util/', 'engine/internal-key.ts', 'engine/key-shortening.ts',
    'engine/filename.ts', 'engine/internal-iterator.ts', 'engine/snapshot-list.ts', 'engine/constants.ts',
    // The browser build's stand-ins for Node's built-ins and its web API types (package.json `browser`).
    'engine/browser/']],
  ['files', ['engine/fs/', 'engine/options.ts', 'engine/info-log.ts']],
  ['formats', ['engine/log/', 'engine/memtable/', 'engine/table/', 'engine/iterators/',
    'engine/version/version-edit.ts']],
  ['versions', ['engine/version/']],
  ['compaction', ['engine/compaction/']],
  ['background', ['engine/background/']],
  ['db', ['engine/db/']],
  ['adapter', ['adapter/', 'index.ts', 'options.ts', 'browser.ts']],
  ['tools', ['cli/']]
]

const SOURCE_DIRS = ['engine', 'adapter', 'cli']
const SOURCE_FILES = ['index.ts', 'options.ts', 'browser.ts']
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|require\('([^']+)'\)|import\('([^']+)'\)/g

function tsFiles (dir: string): string[] {
  const out: string[] = []
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...tsFiles(rel))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

/** The layer index of a source path, by the longest matching prefix; -1 where none matches. */
function layerOf (file: string): number {
  let best = -1
  let bestLength = -1
  LAYERS.forEach(([, prefixes], index) => {
    for (const prefix of prefixes) {
      if (file.startsWith(prefix) && prefix.length > bestLength) {
        best = index
        bestLength = prefix.length
      }
    }
  })
  return best
}

/** Every import specifier in a source text. */
function specifiers (text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(IMPORT)) out.push(m[1] ?? m[2] ?? m[3])
  return out
}

/** Relative imports resolved to source paths. */
function importGraph (files: readonly string[]): Map<string, string[]> {
  const known = new Set(files)
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const targets: string[] = []
    for (const spec of specifiers(fs.readFileSync(path.join(root, file), 'utf8'))) {
      if (!spec.startsWith('.')) continue
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) + '.ts'
      if (known.has(target)) targets.push(target)
    }
    graph.set(file, targets)
  }
  return graph
}

/** One import loop, as its files in order, or null. */
function findLoop (graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (file: string): string[] | null => {
    state.set(file, 'open')
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      const s = state.get(next)
      if (s === 'open') return [...stack.slice(stack.indexOf(next)), next]
      if (s === undefined) {
        const loop = visit(next)
        if (loop !== null) return loop
      }
    }
    stack.pop()
    state.set(file, 'done')
    return null
  }
  for (const file of graph.keys()) {
    if (state.has(file)) continue
    const loop = visit(file)
    if (loop !== null) return loop
  }
  return null
}

const files = [...SOURCE_DIRS.flatMap(tsFiles), ...SOURCE_FILES]
const graph = importGraph(files)

test('layers: every source file belongs to a layer', (t) => {
  t.ok(files.length > 50, `${files.length} source files found`)
  t.same(files.filter((f) => layerOf(f) < 0), [], 'no file outside LAYERS')
  t.end()
})

test('layers: no import goes up a layer', (t) => {
  const upward: string[] = []
  let imports = 0
  for (const [file, targets] of graph) {
    for (const target of targets) {
      imports++
      if (layerOf(target) > layerOf(file)) {
        upward.push(`${file} (${LAYERS[layerOf(file)][0]}) imports ${target} (${LAYERS[layerOf(target)][0]})`)
      }
    }
  }
  t.ok(imports > 200, `${imports} relative imports checked`)
  t.same(upward, [], 'no upward import')
  t.end()
})

test('layers: no import loop', (t) => {
  t.same(findLoop(graph), null, 'the import graph has no cycle')
  // The finder itself, on a loop it must find.
  t.same(findLoop(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a'], 'a loop is found')
  t.end()
})

test('layers: engine/ never imports abstract-level or the adapter', (t) => {
  const offenders = files.filter((f) => f.startsWith('engine/') &&
    specifiers(fs.readFileSync(path.join(root, f), 'utf8')).some((s) => /^abstract-level|(^|\/)adapter\//.test(s)))
  t.same(offenders, [], 'no engine file imports abstract-level')
  t.end()
})
