// Copying bytes between Uint8Arrays on hot paths. `target.set(source.subarray(a, b))` allocates a view
// per call; Node's Buffer#copy takes any Uint8Array as source and target and allocates nothing, but pays
// a few argument checks, so short runs (keys, small values) are copied by a plain loop.

const bufferCopy = Buffer.prototype.copy as (
  this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number
) => number

/** Copies source[sourceStart, sourceStart + length) to target at targetStart. */
export function copyBytes (
  source: Uint8Array, sourceStart: number, length: number, target: Uint8Array, targetStart: number
): void {
  if (length <= SHORT) {
    for (let i = 0; i < length; i++) target[targetStart + i] = source[sourceStart + i]
    return
  }
  bufferCopy.call(source, target, targetStart, sourceStart, sourceStart + length)
}

/** Below this many bytes a loop beats Buffer#copy (measured: 16-byte keys, 100-byte values). */
const SHORT = 48
