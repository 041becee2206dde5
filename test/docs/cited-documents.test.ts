// Every document a product file's comment cites ships in the repository: a path like docs/format.md (or
// bench/README.md) must exist, a section cited with it (docs/format.md, "Bloom filter") must be one of its
// headings, and nothing may stand in for a document that is not here (design notes, "reference §8.9").
// LevelDB's own documents are cited under its doc/ folder (doc/table_format.md); this repository's is docs/.
// docs/*.md are held to the same rule for the source paths and links they name.
import test from 'tape'
import fs = require('node:fs')
import path = require('node:path')

const root = path.resolve(__dirname, '..', '..', '..')

/** The product files whose comments are checked: what ships, and the benchmark. */
const PRODUCT_DIRS = ['engine', 'adapter', 'cli', 'bench']
const PRODUCT_FILES = ['index.ts', 'options.ts']

/** A cited Markdown document, with an optional section in quotes after it: docs/format.md, "Footer". */
const CITATION = /(?<![\w./-])((?:[\w.-]+\/)*[\w.-]+\.md)(?:#[\w-]+)?(?:,\s*"([^"]+)")?/g
/** What stands in for a document instead of naming one: a section sign (an RFC's aside), notes, a reference. */
const STAND_INS = [/(?<!RFC \d+ )§\s*\d/, /\bdesign notes\b/i, /\bformat reference\b/i, /\bleveldb-format\b/i]

function tsFiles (dir: string): string[] {
  const out: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...tsFiles(p))
    else if (entry.name.endsWith('.ts')) out.push(p)
  }
  return out
}

function productFiles (): string[] {
  return [
    ...PRODUCT_DIRS.flatMap((d) => tsFiles(path.join(root, d))),
    ...PRODUCT_FILES.map((f) => path.join(root, f))
  ]
}

/**
 * The comments of a TypeScript source, each as one line of text (a run of // lines is one comment, its
 * line breaks and comment markers turned into spaces), skipping string, template and regex literals.
 */
function comments (source: string): string[] {
  const out: string[] = []
  let lineRun: string[] = []
  let lastLineCommentEnd = -2
  let prevSignificant = '' // the last character outside comments and whitespace, to tell a regex from a division
  let i = 0
  const flushRun = (): void => {
    if (lineRun.length > 0) out.push(lineRun.join(' ').replace(/\s+/g, ' ').trim())
    lineRun = []
  }
  while (i < source.length) {
    const c = source[i]
    const next = source[i + 1]
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i)
      const stop = end === -1 ? source.length : end
      // A // comment on the line right after another one continues it.
      if (source.slice(lastLineCommentEnd + 1, i).trim() !== '' || lastLineCommentEnd < 0) flushRun()
      lineRun.push(source.slice(i + 2, stop))
      lastLineCommentEnd = stop
      i = stop
      continue
    }
    if (c === '/' && next === '*') {
      flushRun()
      const end = source.indexOf('*/', i + 2)
      const stop = end === -1 ? source.length : end
      out.push(source.slice(i + 2, stop).replace(/^\s*\*+/gm, ' ').replace(/\s+/g, ' ').trim())
      i = stop + 2
      continue
    }
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === '"' || c === "'" || c === '`') {
      i = skipQuoted(source, i, c)
      prevSignificant = c
      continue
    }
    if (c === '/' && (prevSignificant === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prevSignificant))) {
      i = skipRegex(source, i)
      prevSignificant = '/'
      continue
    }
    prevSignificant = c
    i++
  }
  flushRun()
  return out
}

/** The index after the string or template literal opened by `quote` at `start`. */
function skipQuoted (source: string, start: number, quote: string): number {
  let i = start + 1
  while (i < source.length && source[i] !== quote) i += source[i] === '\\' ? 2 : 1
  return i + 1
}

/** The index after the regex literal starting at `start` (its flags included). */
function skipRegex (source: string, start: number): number {
  let i = start + 1
  let inClass = false
  while (i < source.length && source[i] !== '\n') {
    const c = source[i]
    if (c === '\\') i++
    else if (c === '[') inClass = true
    else if (c === ']') inClass = false
    else if (c === '/' && !inClass) break
    i++
  }
  i++
  while (i < source.length && /[a-z]/.test(source[i])) i++
  return i
}

/** The headings of a Markdown file, as written (without the leading #s). */
function headings (file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#+ /, '').trim())
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor (heading: string): string {
  return heading.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')
}

/** Where `cited` lies in the repository, read from the repository's root or from the citing file's folder. */
function resolveCited (cited: string, fromFile: string): string | undefined {
  for (const base of [root, path.dirname(fromFile)]) {
    const p = path.join(base, cited)
    // Only inside the repository: a clean clone has nothing beside it (the checkout here does).
    if (path.relative(root, p).startsWith('..')) continue
    if (fs.existsSync(p)) return p
  }
  return undefined
}

/** What is wrong with the citations in one comment of `file` (empty when nothing is). */
function citationProblems (comment: string, file: string): string[] {
  const where = path.relative(root, file)
  const problems: string[] = []
  for (const m of comment.matchAll(CITATION)) {
    const [, cited, section] = m
    if (cited.startsWith('doc/')) continue // LevelDB's doc/ folder (this repository's is docs/)
    const resolved = resolveCited(cited, file)
    if (resolved === undefined) {
      problems.push(`${where} cites ${cited}, which is not in the repository`)
      continue
    }
    if (section !== undefined && !headings(resolved).includes(section)) {
      problems.push(`${where} cites section "${section}" of ${cited}, which has no such heading`)
    }
  }
  for (const standIn of STAND_INS) {
    const m = standIn.exec(comment)
    if (m !== null) problems.push(`${where} cites a document by "${m[0]}" instead of a path in the repository`)
  }
  return problems
}

test('the comment scanner finds comments, not strings or regular expressions', (t) => {
  const source = [
    'const a = "see design.md" // one: docs/x.md, "A',
    '// heading" continued',
    "const r = /^\\/\\/ not a comment$/ // two",
    '/** three,',
    ' * on two lines */',
    'const b = `template // not a comment`'
  ].join('\n')
  t.same(comments(source), ['one: docs/x.md, "A heading" continued', 'two', 'three, on two lines'])
  t.end()
})

test('a citation of a missing document, a missing section or a stand-in is found', (t) => {
  const file = path.join(root, 'engine', 'example.ts')
  t.same(citationProblems('see docs/format.md, "Bloom filter"; LevelDB doc/table_format.md', file), [], 'present')
  t.is(citationProblems('see design.md, "Group commit"', file).length, 1, 'a document outside the repository')
  t.is(citationProblems('see docs/format.md, "No such section"', file).length, 1, 'a section the document lacks')
  t.is(citationProblems('LevelDB util/bloom.cc; reference §8.9', file).length, 1, 'a stand-in for a document')
  t.end()
})

test('every document a product file\'s comment cites is in the repository, with the cited section', (t) => {
  const files = productFiles()
  t.ok(files.length > 100, `${files.length} product files scanned`)
  let citations = 0
  const problems: string[] = []
  for (const file of files) {
    for (const comment of comments(fs.readFileSync(file, 'utf8'))) {
      citations += [...comment.matchAll(CITATION)].length
      problems.push(...citationProblems(comment, file))
    }
  }
  t.ok(citations >= 20, `${citations} citations of documents found`)
  t.same(problems, [], 'no citation of a document that does not ship')
  t.end()
})

test('docs/*.md name source files and link to sections that exist', (t) => {
  const docs = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md'))
  t.ok(docs.includes('design.md') && docs.includes('format.md'), 'docs/design.md and docs/format.md are there')
  const problems: string[] = []
  let named = 0
  for (const doc of docs) {
    const file = path.join(root, 'docs', doc)
    const text = fs.readFileSync(file, 'utf8')
    // Source paths in backquotes, as the documents write them: `engine/table/bloom.ts`, `engine/log/`.
    for (const m of text.matchAll(/`((?:engine|iterator|cli|bench|test)\/[\w./-]*|index\.ts|options\.ts)`/g)) {
      named++
      if (!fs.existsSync(path.join(root, m[1]))) problems.push(`docs/${doc} names ${m[1]}, which does not exist`)
    }
    // Relative links: [text](other.md#anchor) or [text](#anchor).
    for (const m of text.matchAll(/\]\(([\w./-]*?)(?:#([\w-]+))?\)/g)) {
      const [, target, hash] = m
      if (/^[a-z]+:/.test(target)) continue
      const linked = target === '' ? file : path.join(path.dirname(file), target)
      if (!fs.existsSync(linked)) {
        problems.push(`docs/${doc} links to ${target}, which does not exist`)
      } else if (hash !== undefined && !headings(linked).map(anchor).includes(hash)) {
        problems.push(`docs/${doc} links to #${hash} in ${target || doc}, which has no such heading`)
      }
    }
  }
  t.ok(named > 40, `${named} source paths named`)
  t.same(problems, [], 'every named path and linked section exists')
  t.end()
})
