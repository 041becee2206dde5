// The Node side of engine.test.ts: runs one compiled test file with tape in this process and prints its
// events (tape-events.ts), one JSON line each.
//
//   node dist/test/browser/engine-node-run.js dist/test/engine/<name>.test.js
import path = require('node:path')
import { recordTape, type Tape } from './tape-events'

const file = path.resolve(process.argv[2])
recordTape(require('tape') as Tape, () => require(file), (event) => process.stdout.write(JSON.stringify(event) + '\n'))
