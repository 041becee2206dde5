// engine/util/bytes.ts, both ways it can be built: over Node's Buffer (what Node runs) and portable (what a
// browser runs, and what a polyfill Buffer gets). Every function against bytes and strings written out here
// from UTF-8's definition (RFC 3629; WHATWG Encoding for U+FFFD) or computed by plain array operations.
import test from 'tape'
import { allocUnsafe, bytesOver, type ByteApi, type NodeBuffer } from '../../engine/util/bytes'
import { Random } from './helpers/random'

/** The npm `buffer` package, the polyfill a browser bundle has: not Node's own Buffer. */
const polyfill = (require('buffer/') as { Buffer: NodeBuffer }).Buffer

const VARIANTS: Array<[string, ByteApi]> = [['Node', bytesOver(Buffer)], ['portable', bytesOver(undefined)]]

/** Strings and their UTF-8; a lone surrogate is written as U+FFFD, a byte-order mark like any character. */
const UTF8: Array<[string, number[]]> = [
  ['', []],
  ['A', [0x41]],
  ['é', [0xc3, 0xa9]],
  ['ключ', [0xd0, 0xba, 0xd0, 0xbb, 0xd1, 0x8e, 0xd1, 0x87]],
  ['€', [0xe2, 0x82, 0xac]],
  ['😀', [0xf0, 0x9f, 0x98, 0x80]],
  ['\ud800', [0xef, 0xbf, 0xbd]],
  ['\udc00', [0xef, 0xbf, 0xbd]],
  ['\ud800A', [0xef, 0xbf, 0xbd, 0x41]],
  ['\ufeffA', [0xef, 0xbb, 0xbf, 0x41]]
]

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

function randomString (rnd: Random, length: number): string {
  let s = ''
  // Mostly ASCII, some two- and three-byte characters, surrogate pairs and lone surrogates.
  const pools = [[0x20, 0x7f], [0x80, 0x800], [0x800, 0xd800], [0xd800, 0xdc00], [0xdc00, 0xe000], [0xe000, 0x10000]]
  for (let i = 0; i < length; i++) {
    const [lo, hi] = pools[rnd.int(8) < 3 ? 0 : rnd.int(pools.length)]
    s += String.fromCharCode(lo + rnd.int(hi - lo))
  }
  return s
}

for (const [name, b] of VARIANTS) {
  test(`${name}: utf8Length counts UTF-8's bytes, a surrogate pair as 4 and a lone surrogate as 3`, (t) => {
    for (const [s, bytes] of UTF8) t.is(b.utf8Length(s), bytes.length, JSON.stringify(s))
    const rnd = new Random(16)
    const encoder = new TextEncoder()
    let wrong = 0
    for (let i = 0; i < 500; i++) {
      const s = randomString(rnd, rnd.int(40))
      if (b.utf8Length(s) !== encoder.encode(s).length) wrong++
    }
    t.is(wrong, 0, '500 random strings: the length of the web platform\'s encoding')
    t.end()
  })

  test(`${name}: encodeUtf8 and encodeUtf8Into write UTF-8, the latter at an offset and nowhere else`, (t) => {
    for (const [s, bytes] of UTF8) {
      t.same([...b.encodeUtf8(s)], bytes, `encodeUtf8 ${JSON.stringify(s)}`)
      const target = new Uint8Array(2 + 3 * s.length + 2).fill(0xaa)
      const n = b.encodeUtf8Into(target, 2, s)
      t.same([n, ...target], [bytes.length, 0xaa, 0xaa, ...bytes, ...new Array<number>(target.length - 2 - bytes.length).fill(0xaa)],
        `encodeUtf8Into ${JSON.stringify(s)}: its length, its bytes at 2, the rest untouched`)
    }
    t.end()
  })

  test(`${name}: decodeUtf8 decodes a range, keeps a byte-order mark and replaces malformed bytes`, (t) => {
    for (const [s, bytes] of UTF8) {
      const framed = Uint8Array.from([0x7a, ...bytes, 0x7a])
      t.is(b.decodeUtf8(framed, 1, 1 + bytes.length), s.replace(LONE_SURROGATE, '\ufffd'), JSON.stringify(s))
    }
    t.is(b.decodeUtf8(Uint8Array.from([0x41, 0xff, 0x42])), 'A\ufffdB', 'an invalid byte is U+FFFD')
    t.is(b.decodeUtf8(Uint8Array.from([0x41, 0x42, 0x43]).subarray(1)), 'BC', 'a view: its own bytes, whole by default')
    const shared = new Uint8Array(new SharedArrayBuffer(8))
    shared.set([0xc3, 0xa9, 0x41], 2)
    t.is(b.decodeUtf8(shared, 2, 5), 'éA', 'a view of shared memory (a memtable\'s arena)')
    t.end()
  })

  test(`${name}: toHex writes each byte of a view as two lower-case digits`, (t) => {
    t.is(b.toHex(Uint8Array.from([0x00, 0x01, 0x7f, 0x80, 0xab, 0xff])), '00017f80abff')
    t.is(b.toHex(Uint8Array.from([0x12, 0x34, 0x56, 0x78]).subarray(1, 3)), '3456', 'a view with an offset')
    t.is(b.toHex(new Uint8Array(0)), '', 'no bytes')
    t.end()
  })

  test(`${name}: copyBytes copies exactly the range asked, short (a loop) and long (a bulk copy)`, (t) => {
    const rnd = new Random(7)
    for (const length of [0, 1, 47, 48, 49, 100, 4096]) {
      const source = Uint8Array.from({ length: length + 10 }, () => rnd.int(256))
      for (const shared of [false, true]) {
        const target = new Uint8Array(shared ? new SharedArrayBuffer(length + 20) : new ArrayBuffer(length + 20))
        target.fill(0xaa)
        b.copyBytes(source, 3, length, target, 5)
        const want = [...new Array<number>(5).fill(0xaa), ...[...source].slice(3, 3 + length), ...new Array<number>(15).fill(0xaa)]
        t.same([...target], want, `${length} bytes into ${shared ? 'shared' : 'plain'} memory`)
      }
    }
    t.end()
  })

  test(`${name}: allocUnsafe gives the size asked; allocUnsafeOwn a plain Uint8Array, the whole of its memory`, (t) => {
    for (const size of [0, 1, 100, 8192]) {
      const some = b.allocUnsafe(size)
      t.ok(some instanceof Uint8Array && some.length === size, `allocUnsafe(${size})`)
      const own = b.allocUnsafeOwn(size)
      t.ok(Object.getPrototypeOf(own) === Uint8Array.prototype && own.buffer instanceof ArrayBuffer &&
        own.byteOffset === 0 && own.buffer.byteLength === size, `allocUnsafeOwn(${size})`)
    }
    t.end()
  })
}

test("Node's own Buffer is used where there is one; a polyfill Buffer (or none) gets the portable forms", (t) => {
  const plain = (bytes: Uint8Array): boolean => Object.getPrototypeOf(bytes) === Uint8Array.prototype
  t.ok(allocUnsafe(8) instanceof Buffer, "the module's own functions, in Node: Buffer.allocUnsafe's pool")
  t.ok(bytesOver(Buffer).allocUnsafe(8) instanceof Buffer, 'over Node\'s Buffer: Buffer.allocUnsafe')
  const overPolyfill = bytesOver(polyfill)
  t.ok(plain(overPolyfill.allocUnsafe(8)) && plain(overPolyfill.encodeUtf8('é')), 'over the npm buffer package: plain Uint8Arrays')
  t.is(overPolyfill.decodeUtf8(Uint8Array.from([0xef, 0xbb, 0xbf, 0xc3, 0xa9])), '\ufeffé', 'and they work')
  t.ok(plain(bytesOver(undefined).allocUnsafe(8)), 'over no Buffer: plain Uint8Arrays')
  t.end()
})
