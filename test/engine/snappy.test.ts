import test from 'tape'
import { compressInto, maxCompressedLength, uncompress } from '../../engine/table/snappy'

// snappyjs is an independent implementation of the same format: what we write must decode there (and in
// LevelDB: test/level/compat-tables.test.ts reads our tables through classic-level), and compress about
// as well as it does.
const snappyjs: { compress (b: Uint8Array): Uint8Array, uncompress (b: Uint8Array): Uint8Array } = require('snappyjs')

function compress (raw: Uint8Array): Buffer {
  const out = Buffer.alloc(maxCompressedLength(raw.length) + 16, 0xee)
  const n = compressInto(raw, 0, raw.length, out, 8)
  if (out.subarray(0, 8).some((b) => b !== 0xee) || out.subarray(8 + n).some((b) => b !== 0xee)) {
    throw new Error('compressInto wrote outside its range')
  }
  return out.subarray(8, 8 + n)
}

/** Inputs with the shapes blocks have: runs, repeats near and far (past a 64 KiB fragment), text, noise. */
function inputs (): Array<[string, Buffer]> {
  let s = 0x9e3779b9
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out: Array<[string, Buffer]> = []
  for (let n = 0; n <= 40; n++) out.push([`${n} bytes of text`, Buffer.from('abcabcabdabcabcabeabcab'.repeat(2).slice(0, n))])
  out.push(['64 KiB of zeros', Buffer.alloc(65536)])
  out.push(['200,001 bytes of one value', Buffer.alloc(200001, 7)])
  const noise = Buffer.alloc(70000)
  for (let i = 0; i < noise.length; i++) noise[i] = (rnd() * 256) | 0
  out.push(['70,000 random bytes', noise])
  for (let k = 0; k < 60; k++) {
    const len = k % 10 === 0 ? 70000 + ((rnd() * 200000) | 0) : (rnd() * 9000) | 0
    const b = Buffer.alloc(len)
    for (let i = 0; i < len;) {
      const run = 1 + ((rnd() * 300) | 0)
      const m = rnd()
      if (m < 0.25) b.fill((rnd() * 256) | 0, i, Math.min(len, i + run))
      else if (m < 0.6 && i > 1000) {
        const from = i - 1 - ((rnd() * Math.min(i - 1, 80000)) | 0)
        for (let j = 0; j < run && i + j < len; j++) b[i + j] = b[from + j]
      } else for (let j = 0; j < run && i + j < len; j++) b[i + j] = 97 + ((rnd() * 8) | 0)
      i += run
    }
    out.push([`mixed input ${k} (${len} bytes)`, b])
  }
  // A table block's shape: 16-byte keys, values half random and half repeated (db_bench's values).
  const block = Buffer.alloc(4096)
  for (let at = 0; at + 116 <= block.length; at += 116) {
    block.write(String(Math.floor(rnd() * 1e9)).padStart(16, '0'), at, 'latin1')
    for (let i = 0; i < 50; i++) block[at + 16 + i] = (rnd() * 256) | 0
    block.fill(65, at + 66, at + 116)
  }
  out.push(['a 4 KiB block of keys and half-compressible values', block])
  return out
}

test('snappy: what compressInto writes decodes to the input, in snappyjs and in our decoder', (t) => {
  let failures = 0
  for (const [what, raw] of inputs()) {
    const packed = compress(raw)
    if (packed.length > maxCompressedLength(raw.length)) { failures++; t.fail(`${what}: ${packed.length} bytes is over the bound`) }
    if (!Buffer.from(snappyjs.uncompress(packed)).equals(raw)) { failures++; t.fail(`${what}: snappyjs decodes something else`) }
    if (!Buffer.from(uncompress(packed)).equals(raw)) { failures++; t.fail(`${what}: our decoder decodes something else`) }
  }
  t.is(failures, 0, 'every input round-trips')
  t.end()
})

test('snappy: compresses about as well as snappyjs, and decodes what snappyjs writes', (t) => {
  let ours = 0
  let theirs = 0
  for (const [what, raw] of inputs()) {
    const reference = Buffer.from(snappyjs.compress(raw))
    ours += compress(raw).length
    theirs += reference.length
    if (!Buffer.from(uncompress(reference)).equals(raw)) t.fail(`${what}: snappyjs's stream decodes to something else`)
  }
  t.ok(ours <= theirs * 1.02, `our output ${ours} bytes, snappyjs's ${theirs}`)
  const zeros = compress(Buffer.alloc(65536))
  t.ok(zeros.length < 3200, `64 KiB of zeros compress to ${zeros.length} bytes (copies of up to 64 bytes)`)
  t.end()
})
