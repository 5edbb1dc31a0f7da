/**
 * Phase 1's decision, as a pure function: for each slot a promise reported, the value a new
 * leader must propose.
 * @module
 */
import { compareBallots, type Ballot } from './ballot.js'
import type { Value } from './command.js'
import { slotZero, type Slot } from './ids.js'
import type { LogEntry, PromiseMessage } from './messages.js'

export type RecoveredSlot = Readonly<{ value: Value; ballot: Ballot; chosen: boolean }>

export type Recovery = Readonly<{ slots: ReadonlyMap<Slot, RecoveredSlot>; highestSlot: Slot }>

/**
 * Paxos's rule: the value accepted in the highest ballot among a quorum's reports is the only
 * one that may have been chosen. A value some acceptor already knows chosen wins outright.
 * Reports are merged as their pages arrive, so a candidate holds one value per slot, not one
 * per acceptor. Adding reports beyond a quorum's is safe: every one comes from an acceptor that
 * promised the candidate's ballot.
 */
export class RecoveryMerge implements Recovery {
  readonly slots = new Map<Slot, RecoveredSlot>()
  readonly #fromSlot: Slot
  #highestSlot: Slot = slotZero

  constructor(fromSlot: Slot) {
    this.#fromSlot = fromSlot
  }

  get highestSlot(): Slot {
    return this.#highestSlot
  }

  add(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      if (entry.slot < this.#fromSlot) continue
      if (entry.slot > this.#highestSlot) this.#highestSlot = entry.slot
      const current = this.slots.get(entry.slot)
      if (current === undefined || outranks(entry, current)) {
        this.slots.set(entry.slot, { value: entry.value, ballot: entry.ballot, chosen: entry.chosen })
      }
    }
  }
}

export function recoverSlots(promises: Iterable<PromiseMessage>, fromSlot: Slot): Recovery {
  const merge = new RecoveryMerge(fromSlot)
  for (const promise of promises) merge.add(promise.accepted)
  return merge
}

function outranks(candidate: RecoveredSlot, current: RecoveredSlot): boolean {
  if (current.chosen) return false
  if (candidate.chosen) return true
  return compareBallots(candidate.ballot, current.ballot) > 0
}
