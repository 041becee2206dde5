// Copying bytes between Uint8Arrays on hot paths. `target.set(source.subarray(a, b))` allocates a view
// per call; Node's Buffer#copy takes any Uint8Array as source and target and allocates nothing.

const bufferCopy = Buffer.prototype.copy as (
  this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number
) => number

/** Copies source[sourceStart, sourceStart + length) to target at targetStart. */
export function copyBytes (
  source: Uint8Array, sourceStart: number, length: number, target: Uint8Array, targetStart: number
): void {
  bufferCopy.call(source, target, targetStart, sourceStart, sourceStart + length)
}
