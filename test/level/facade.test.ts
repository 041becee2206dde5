// The abstract-level 3 conformance suite against RoughLevelClient, the browser's main-thread facade, here
// in Node: each client talks over a worker_threads MessageChannel to serveRoughLevel and a RoughLevel in
// the same thread. The same code runs in Chromium across a page and a worker (test/browser/facade.test.ts);
// this run checks the protocol in every Node CI job, in a few seconds.
import test from 'tape'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { RoughLevelClient } from '../../adapter/browser/client'
import { serveRoughLevel } from '../../adapter/browser/server'
import type { PortLike } from '../../adapter/browser/protocol'

// The suite ships without type declarations.
const suite = require('abstract-level/test') as (options: { test: typeof test, factory: (options?: object) => unknown }) => void

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rough-level-facade-'))
const ports: MessagePort[] = []
let n = 0

/** Node's MessagePort is one (a message event has data), but its types declare listeners of plain Events. */
const portLike = (port: MessagePort): PortLike => port as unknown as PortLike

suite({
  test,
  factory (options?: object) {
    const { port1, port2 } = new MessageChannel()
    ports.push(port1, port2)
    serveRoughLevel(portLike(port2), path.join(root, String(n++)))
    return new RoughLevelClient(portLike(port1), options)
  }
})

test.onFinish(() => {
  for (const port of ports) port.close()
  fs.rmSync(root, { recursive: true, force: true })
})
