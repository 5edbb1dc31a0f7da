/**
 * Phase 1's decision, as a pure function: for each slot a promise reported, the value a new
 * leader must propose.
 * @module
 */
import { compareBallots, type Ballot } from './ballot.js'
import type { Value } from './command.js'
import { slotZero, type Slot } from './ids.js'
import type { PromiseMessage } from './messages.js'

export type RecoveredSlot = Readonly<{ value: Value; ballot: Ballot; chosen: boolean }>

export type Recovery = Readonly<{ slots: ReadonlyMap<Slot, RecoveredSlot>; highestSlot: Slot }>

/**
 * Paxos's rule: the value accepted in the highest ballot among a quorum's reports is the only
 * one that may have been chosen. A value some acceptor already knows chosen wins outright.
 */
export function recoverSlots(promises: Iterable<PromiseMessage>, fromSlot: Slot): Recovery {
  const slots = new Map<Slot, RecoveredSlot>()
  let highestSlot: Slot = slotZero
  for (const promise of promises) {
    for (const entry of promise.accepted) {
      if (entry.slot < fromSlot) continue
      if (entry.slot > highestSlot) highestSlot = entry.slot
      const current = slots.get(entry.slot)
      if (current === undefined || outranks(entry, current)) {
        slots.set(entry.slot, { value: entry.value, ballot: entry.ballot, chosen: entry.chosen })
      }
    }
  }
  return { slots, highestSlot }
}

function outranks(candidate: RecoveredSlot, current: RecoveredSlot): boolean {
  if (current.chosen) return false
  if (candidate.chosen) return true
  return compareBallots(candidate.ballot, current.ballot) > 0
}
