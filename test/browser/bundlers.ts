// A consumer project's entry (test/browser/consumer-project.ts) bundled for the browser by the bundlers users
// reach for: webpack 5, rollup with the plugins a browser build of CommonJS packages takes (Vite's production
// build is rollup), and esbuild. Each with the configuration a browser target takes and nothing for
// rough-level in particular (harness.ts's bundleWorker, esbuild too, bundles this repository's own test
// scripts, with the stand-ins tape needs).
// Everything each bundler says, error or warning, is returned with the bundle: the test fails on any.
import fs = require('node:fs')
import path = require('node:path')
import webpack = require('webpack')
import { rollup } from 'rollup'
import { build as esbuild, type BuildFailure } from 'esbuild'
import nodeResolve from '@rollup/plugin-node-resolve'
import commonjs from '@rollup/plugin-commonjs'

export interface Bundle {
  /** The bundle: one classic script (no module syntax), as harness.ts serves it. */
  code: string
  /** The bundler's errors and warnings, as it worded them. */
  problems: string[]
}

/** Where the page's or the worker's code runs: webpack's target, which picks its runtime. */
export type Scope = 'web' | 'webworker'

/** `entry` (relative to `dir`) bundled by webpack 5, production mode. */
export async function bundleWithWebpack (dir: string, entry: string, scope: Scope): Promise<Bundle> {
  const outDir = fs.mkdtempSync(path.join(dir, 'webpack-'))
  const stats = await new Promise<webpack.Stats>((resolve, reject) => {
    webpack({
      mode: 'production',
      target: scope,
      context: dir,
      entry: `./${entry}`,
      output: { path: outDir, filename: 'bundle.js' },
      // Unminified: terser would take most of the test's time and change nothing that is checked.
      optimization: { minimize: false },
      // The size hints (the bundle is past webpack's 244 KiB) are advice on code splitting, not problems.
      performance: { hints: false }
    }, (err, result) => {
      if (err !== null && err !== undefined) reject(err)
      else if (result === undefined) reject(new Error('webpack returned no stats'))
      else resolve(result)
    })
  })
  const { errors = [], warnings = [] } = stats.toJson({ all: false, errors: true, warnings: true })
  const problems = [...errors, ...warnings].map((problem) => problem.message)
  const bundle = path.join(outDir, 'bundle.js')
  return { code: fs.existsSync(bundle) ? fs.readFileSync(bundle, 'utf8') : '', problems }
}

/** `entry` (relative to `dir`) bundled by rollup as one IIFE, resolving as for a browser. */
export async function bundleWithRollup (dir: string, entry: string): Promise<Bundle> {
  const problems: string[] = []
  const build = await rollup({
    input: path.join(dir, entry),
    onwarn: (warning) => problems.push(`${warning.code ?? ''}: ${warning.message}`),
    plugins: [
      // preferBuiltins: false, or node-resolve takes the npm 'buffer' and 'events' for Node's built-ins and
      // leaves them out of the bundle (its warning names the option).
      nodeResolve({ browser: true, exportConditions: ['browser'], preferBuiltins: false }),
      // dist/ is CommonJS, as are abstract-level and its dependencies.
      commonjs()
    ]
  })
  try {
    const { output } = await build.generate({ format: 'iife' })
    return { code: output[0].code, problems }
  } finally {
    await build.close()
  }
}

/** `entry` (relative to `dir`) bundled by esbuild as one IIFE, for the browser platform. */
export async function bundleWithEsbuild (dir: string, entry: string): Promise<Bundle> {
  try {
    const result = await esbuild({
      entryPoints: [path.join(dir, entry)],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent'
    })
    return { code: result.outputFiles[0].text, problems: result.warnings.map((warning) => warning.text) }
  } catch (err) {
    // A failed build throws its errors (esbuild's BuildFailure).
    if (!(err instanceof Error && 'errors' in err)) throw err
    return { code: '', problems: (err as BuildFailure).errors.map((error) => error.text) }
  }
}
