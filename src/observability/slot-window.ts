/**
 * The last `slotsMax` slots this node touched, for the page's slot grid: what its acceptor
 * accepted, whether the slot is chosen, its batch size and (as leader) the quorum. Older slots
 * fall out as new ones come in.
 * @module
 */
import { formatBallot } from '../core/ballot.js'
import { isCoreEntry, type AppCommand, type Value } from '../core/command.js'
import type { CoreEvent } from '../core/events.js'
import type { ChosenEntry, LogEntry } from '../core/messages.js'
import type { LiveSlot } from './live-frame.js'

type SlotState = { accepted: string | null; batch: number; chosen: boolean; quorum: readonly number[] | null }

function batchSize(value: Value<AppCommand>): number {
  return value.filter((entry) => !isCoreEntry(entry)).length
}

export class SlotWindow {
  readonly #slotsMax: number
  readonly #slots = new Map<number, SlotState>()
  #highest = 0

  constructor(slotsMax: number) {
    this.#slotsMax = slotsMax
  }

  persisted(entries: readonly LogEntry<AppCommand>[]): void {
    for (const entry of entries) {
      const state = this.#state(entry.slot)
      if (state === null) continue
      // A chosen mark learned from the leader carries ballot zero: it is not this acceptor's vote.
      if (!entry.chosen || entry.ballot.round > 0) state.accepted = formatBallot(entry.ballot)
      state.batch = batchSize(entry.value)
      state.chosen ||= entry.chosen
    }
  }

  applied(entries: readonly ChosenEntry<AppCommand>[]): void {
    for (const entry of entries) {
      const state = this.#state(entry.slot)
      if (state === null) continue
      state.chosen = true
      state.batch = batchSize(entry.value)
    }
  }

  chosen(event: Extract<CoreEvent, { type: 'slots-chosen' }>): void {
    for (let at: number = event.firstSlot; at <= event.lastSlot; at += 1) {
      const state = this.#state(at)
      if (state === null) continue
      state.chosen = true
      state.quorum = event.quorum
    }
  }

  snapshot(): LiveSlot[] {
    return [...this.#slots.entries()].sort(([a], [b]) => a - b).map(([slot, state]) => ({ slot, ...state }))
  }

  /** Null for a slot already below the window. */
  #state(at: number): SlotState | null {
    if (at <= this.#highest - this.#slotsMax) return null
    let state = this.#slots.get(at)
    if (state !== undefined) return state
    state = { accepted: null, batch: 0, chosen: false, quorum: null }
    this.#slots.set(at, state)
    if (at > this.#highest) {
      const jumped = at > this.#highest + 1
      this.#highest = at
      // Slots mostly come one after another: dropping the one that just left the window is
      // enough; a jump may leave more behind, and only then is every key looked at.
      if (!jumped) this.#slots.delete(at - this.#slotsMax)
      else for (const old of this.#slots.keys()) if (old <= at - this.#slotsMax) this.#slots.delete(old)
    }
    return state
  }
}
