// The whole abstract-level 3 conformance suite against RoughLevel (it re-runs itself on a sublevel).
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { RoughLevel } from '../../index'

// The suite ships without type declarations.
const suite = require('abstract-level/test') as (options: { test: typeof test, factory: (options?: object) => unknown }) => void

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-suite-'))
let n = 0

suite({
  test,
  factory (options?: object) {
    return new RoughLevel(path.join(root, String(n++)), options)
  }
})

test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))
