/**
 * How far the log may be truncated: only below what a durable snapshot covers, keeping
 * `retainSlots` behind it so that a follower a little behind catches up from the log rather
 * than with a whole snapshot. Called only once the snapshot is fsynced and renamed into place.
 * @module
 */
import { assert } from '../core/assert.js'
import type { AppCommand } from '../core/command.js'
import { slot, type Slot } from '../core/ids.js'
import type { LogStore } from './log-store.js'

/** The slot to truncate through, or null when there is nothing new to truncate. */
export function compactionPoint(durableSnapshotIndex: Slot, retainSlots: number, compactedThrough: Slot): Slot | null {
  assert(Number.isSafeInteger(retainSlots) && retainSlots >= 0, `log retain slots ${retainSlots} is invalid`)
  const through = durableSnapshotIndex - retainSlots
  return through > compactedThrough ? slot(through) : null
}

/** Truncates `log` behind the durable snapshot at `durableSnapshotIndex`; returns the new point. */
export function compactLog(log: LogStore<AppCommand>, durableSnapshotIndex: Slot, retainSlots: number): Slot {
  const through = compactionPoint(durableSnapshotIndex, retainSlots, log.compactedThrough())
  if (through !== null) log.truncatePrefix(through)
  return log.compactedThrough()
}
