// Key shortening for index blocks (LevelDB util/comparator.cc BytewiseComparatorImpl and
// db/dbformat.cc InternalKeyComparator::FindShortestSeparator / FindShortSuccessor).
//
// An index entry only has to separate two data blocks: last_key_i <= separator < first_key_{i+1}. The
// bytewise rules shorten a user key by cutting after the first differing byte and incrementing it:
//   separator(start, limit): at the first index i below both lengths where they differ, if
//     start[i] < 0xff and start[i] + 1 < limit[i] (strictly), start becomes start[0..i) ‖ start[i] + 1.
//     If one key is a prefix of the other, or the rule does not apply, start is unchanged.
//   successor(key): increment the first byte that is not 0xff and cut after it; all-0xff stays unchanged.
// The internal-key wrappers apply them to the user-key part and keep the result only when it is
// physically shorter and logically greater; a kept result gets the tag (2^56 - 1, Value), bytes
// 01 ff ff ff ff ff ff ff. Otherwise the whole internal key, tag included, is kept.
// The rules must be exactly these for our tables to be byte-identical to LevelDB's (docs/format.md, "Data
// blocks and the index block").
//
// Every function works in place on the caller's buffer (a shortened key is never longer than the
// original, and the tag it gets fits in the bytes the cut released) and returns the new length.
import { putMaxTag, TAG_BYTES } from './internal-key'

/**
 * Where bytewise FindShortestSeparator would cut `start` (the new length), or -1 if it leaves `start`
 * unchanged. Nothing is modified.
 */
function separatorCut (
  start: Uint8Array, sOff: number, sLen: number, limit: Uint8Array, lOff: number, lLen: number
): number {
  const n = sLen < lLen ? sLen : lLen
  let i = 0
  while (i < n && start[sOff + i] === limit[lOff + i]) i++
  if (i >= n) return -1 // one key is a prefix of the other
  const b = start[sOff + i]
  if (b < 0xff && b + 1 < limit[lOff + i]) return i + 1
  return -1
}

/** Where bytewise FindShortSuccessor would cut `key` (the new length), or -1 for an all-0xff key. */
function successorCut (key: Uint8Array, off: number, len: number): number {
  for (let i = 0; i < len; i++) {
    if (key[off + i] !== 0xff) return i + 1
  }
  return -1
}

/**
 * Bytewise FindShortestSeparator: shortens start (buf[off, off + len)) in place to a key in
 * [start, limit) and returns its new length (len when unchanged).
 */
export function shortestSeparator (
  start: Uint8Array, sOff: number, sLen: number, limit: Uint8Array, lOff: number, lLen: number
): number {
  const cut = separatorCut(start, sOff, sLen, limit, lOff, lLen)
  if (cut < 0) return sLen
  start[sOff + cut - 1]++
  return cut
}

/** Bytewise FindShortSuccessor: shortens key in place to a key >= it; returns the new length. */
export function shortSuccessor (key: Uint8Array, off: number, len: number): number {
  const cut = successorCut(key, off, len)
  if (cut < 0) return len
  key[off + cut - 1]++
  return cut
}

/**
 * InternalKeyComparator::FindShortestSeparator: `start` and `limit` are internal keys (user key ‖ tag).
 * Shortens start in place when its user key can be cut shorter; returns the new length.
 * Requires: start < limit in internal-key order.
 */
export function internalShortestSeparator (
  start: Uint8Array, sOff: number, sLen: number, limit: Uint8Array, lOff: number, lLen: number
): number {
  const userLen = sLen - TAG_BYTES
  const cut = separatorCut(start, sOff, userLen, limit, lOff, lLen - TAG_BYTES)
  return applyCut(start, sOff, userLen, cut, sLen)
}

/** InternalKeyComparator::FindShortSuccessor on the internal key buf[off, off + len); returns the new length. */
export function internalShortSuccessor (key: Uint8Array, off: number, len: number): number {
  const userLen = len - TAG_BYTES
  return applyCut(key, off, userLen, successorCut(key, off, userLen), len)
}

function applyCut (key: Uint8Array, off: number, userLen: number, cut: number, len: number): number {
  // Only a physically shorter result is used, so the new tag never overwrites bytes that are kept.
  if (cut < 0 || cut >= userLen) return len
  const last = off + cut - 1
  // The cut byte is below 0xff (both rules check it), so the increment makes the key greater.
  key[last]++
  putMaxTag(key, off + cut)
  return cut + TAG_BYTES
}
