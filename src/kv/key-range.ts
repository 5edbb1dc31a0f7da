/**
 * A contiguous run of keys in key order (UTF-8 byte order): every key with a prefix, or an
 * interval. What a range read (a listing, an etcd Range) walks, with the bounds of one answer.
 * @module
 */
import { compareKeys } from './key-order.js'

export type KeyRange =
  | Readonly<{ type: 'prefix'; prefix: string }>
  /** From `start` (included) to `end` (excluded); `end` null: every key from `start` on. */
  | Readonly<{ type: 'interval'; start: string; end: string | null }>

/** What one answer may hold: at most `limit` keys and `bytesMax` bytes of keys and values. */
export type ScanBounds = Readonly<{
  limit: number
  /** The first key always fits, whatever its size: an answer is never empty while keys remain. */
  bytesMax: number
  /** Values are left out (empty) and not counted. */
  keysOnly: boolean
}>

/** The key a walk of `range` starts at (the tree's lower bound). */
export function rangeStart(range: KeyRange): string {
  return range.type === 'prefix' ? range.prefix : range.start
}

/** Whether `key`, at or after the range's start in key order, is still inside it. */
export function beforeRangeEnd(range: KeyRange, key: string): boolean {
  if (range.type === 'prefix') return key.startsWith(range.prefix)
  return range.end === null || compareKeys(key, range.end) < 0
}

/** Whether `key` is one of the range's keys. */
export function inKeyRange(range: KeyRange, key: string): boolean {
  return compareKeys(key, rangeStart(range)) >= 0 && beforeRangeEnd(range, key)
}
