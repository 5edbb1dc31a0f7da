/**
 * Reads at a past revision (etcd's Range with `revision`): the current state with the changes
 * made after that revision undone, from the change history. The state machine keeps only the
 * current state; the history keeps, for every change it holds, the entry it replaced, so the
 * state at any revision from the history's floor on is the current one with each key that
 * changed since put back as it was then.
 * @module
 */
import type { Revision } from '../core/ids.js'
import type { KeyThen } from './change-history.js'
import { compareKeys, utf8Length } from './key-order.js'
import { inKeyRange, type KeyRange, type ScanBounds } from './key-range.js'
import type { KvItem, KvPage } from './state-machine.js'

/** The current state's reads, as the state machine serves them. */
export type CurrentKeys = Readonly<{
  get(key: string): KvItem | null
  scan(range: KeyRange, bounds: ScanBounds): KvPage
  count(range: KeyRange): number
}>

/** Keys changed after the revision read at, as ChangeHistory.changedAfter gives them. */
export type ChangedKeys = ReadonlyMap<string, KeyThen>

function itemThen(key: string, changed: KeyThen, keysOnly: boolean): KvItem | null {
  if (changed.then === null) return null
  return { key, ...changed.then, value: keysOnly ? new Uint8Array(0) : new Uint8Array(changed.then.value) }
}

/** One key at the revision `changed` was taken after. */
export function getAt(current: CurrentKeys, changed: ChangedKeys, key: string): KvItem | null {
  const then = changed.get(key)
  return then === undefined ? current.get(key) : itemThen(key, then, false)
}

/**
 * The keys of `range` at the revision `changed` was taken after, within `bounds` as a current
 * scan is (the first key always fits), with the range's whole count at that revision. The
 * current scan is read a little past the bounds (by the changed keys in the range), since keys
 * that did not exist then drop out; when it is still cut, the answer stops at its last key and
 * says `more`.
 */
export function scanAt(current: CurrentKeys, changed: ChangedKeys, range: KeyRange, bounds: ScanBounds): KvPage & Readonly<{ count: number }> {
  const changedInRange = [...changed].filter(([key]) => inKeyRange(range, key))
  const scanned = current.scan(range, { ...bounds, limit: bounds.limit + changedInRange.length })
  const last = scanned.items.at(-1)?.key ?? null
  const merged: KvItem[] = scanned.items.filter((item) => !changed.has(item.key))
  for (const [key, then] of changedInRange) {
    const item = itemThen(key, then, bounds.keysOnly)
    // Past the last key the current scan read, the keys are not known: the next page has them.
    if (item !== null && (!scanned.more || (last !== null && compareKeys(key, last) <= 0))) merged.push(item)
  }
  merged.sort((a, b) => compareKeys(a.key, b.key))
  const cut = withinBounds(merged, bounds)
  let count = current.count(range)
  for (const [, then] of changedInRange) count += (then.then === null ? 0 : 1) - (then.existsNow ? 1 : 0)
  return { items: cut, more: scanned.more || cut.length < merged.length, count }
}

/** The first items that fit `bounds`, as a scan takes them. */
function withinBounds(items: readonly KvItem[], bounds: ScanBounds): KvItem[] {
  const taken: KvItem[] = []
  let bytes = 0
  for (const item of items) {
    const itemBytes = utf8Length(item.key) + (bounds.keysOnly ? 0 : item.value.byteLength)
    if (taken.length === bounds.limit || (taken.length > 0 && bytes + itemBytes > bounds.bytesMax)) break
    bytes += itemBytes
    taken.push(item)
  }
  return taken
}

/** Why a read at `at` cannot be served by a store at `current` whose history reaches `floor`. */
export function readAtProblem(at: Revision, current: Revision, floor: Revision): 'future' | 'compacted' | null {
  if (at > current) return 'future'
  if (at < current && at < floor) return 'compacted'
  return null
}
