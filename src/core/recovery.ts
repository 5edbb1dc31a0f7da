/**
 * Phase 1's decision, as a pure function: for each slot a promise reported, the value a new
 * leader must propose.
 * @module
 */
import { compareBallots, type Ballot } from './ballot.js'
import type { AppCommand, Value } from './command.js'
import { slotZero, type Slot } from './ids.js'
import type { LogEntry, PromiseMessage } from './messages.js'

export type RecoveredSlot<C extends AppCommand> = Readonly<{ value: Value<C>; ballot: Ballot; chosen: boolean }>

export type Recovery<C extends AppCommand> = Readonly<{ slots: ReadonlyMap<Slot, RecoveredSlot<C>>; highestSlot: Slot }>

/**
 * Paxos's rule: the value accepted in the highest ballot among a quorum's reports is the only
 * one that may have been chosen. A value some acceptor already knows chosen wins outright.
 * Reports are merged as their pages arrive, so a candidate holds one value per slot, not one
 * per acceptor. Adding reports beyond a quorum's is safe: every one comes from an acceptor that
 * promised the candidate's ballot.
 */
export class RecoveryMerge<C extends AppCommand> implements Recovery<C> {
  readonly slots = new Map<Slot, RecoveredSlot<C>>()
  readonly #fromSlot: Slot
  #highestSlot: Slot = slotZero

  constructor(fromSlot: Slot) {
    this.#fromSlot = fromSlot
  }

  get highestSlot(): Slot {
    return this.#highestSlot
  }

  add(entries: readonly LogEntry<C>[]): void {
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

export function recoverSlots<C extends AppCommand>(promises: Iterable<PromiseMessage<C>>, fromSlot: Slot): Recovery<C> {
  const merge = new RecoveryMerge<C>(fromSlot)
  for (const promise of promises) merge.add(promise.accepted)
  return merge
}

function outranks<C extends AppCommand>(candidate: RecoveredSlot<C>, current: RecoveredSlot<C>): boolean {
  if (current.chosen) return false
  if (candidate.chosen) return true
  return compareBallots(candidate.ballot, current.ballot) > 0
}
