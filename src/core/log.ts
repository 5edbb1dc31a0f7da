/**
 * The replica's log: one acceptor record per slot, plus the chosen flag once learned. The
 * acceptor writes accepted values here; the learner marks entries chosen.
 * @module
 */
import { assert } from './assert.js'
import type { Value } from './command.js'
import { slot, slotZero, type Slot } from './ids.js'
import type { ChosenEntry, LogEntry } from './messages.js'

export class Log {
  readonly #entries = new Map<Slot, LogEntry>()
  #highestSlot: Slot = slotZero

  constructor(entries: readonly LogEntry[]) {
    for (const entry of entries) this.set(entry)
  }

  get(at: Slot): LogEntry | undefined {
    return this.#entries.get(at)
  }

  set(entry: LogEntry): void {
    assert(entry.slot > 0, 'slot 0 holds nothing')
    assert(entry.value.length > 0, `slot ${entry.slot}: empty value`)
    const previous = this.#entries.get(entry.slot)
    assert(!(previous?.chosen === true && !entry.chosen), `slot ${entry.slot}: chosen entries stay chosen`)
    this.#entries.set(entry.slot, entry)
    if (entry.slot > this.#highestSlot) this.#highestSlot = entry.slot
  }

  get highestSlot(): Slot {
    return this.#highestSlot
  }

  /** Every entry at or above `fromSlot`, in slot order (a promise's report). */
  entriesFrom(fromSlot: Slot): LogEntry[] {
    const result: LogEntry[] = []
    for (let at: number = fromSlot; at <= this.#highestSlot; at += 1) {
      const entry = this.#entries.get(at as Slot)
      if (entry !== undefined) result.push(entry)
    }
    return result
  }

  /** Chosen entries from `fromSlot`, consecutive, at most `max` (a catch-up reply or an apply batch). */
  chosenRun(fromSlot: Slot, max: number): ChosenEntry[] {
    const result: ChosenEntry[] = []
    for (let at = fromSlot; result.length < max; at = slot(at + 1)) {
      const entry = this.#entries.get(at)
      if (entry === undefined || !entry.chosen) break
      result.push({ slot: at, value: entry.value })
    }
    return result
  }

  /** The highest slot s >= `from` such that every slot in (from, s] is chosen. */
  chosenThrough(from: Slot): Slot {
    let through = from
    while (this.#entries.get(slot(through + 1))?.chosen === true) through = slot(through + 1)
    return through
  }
}

/** Values are compared only on the rare path where a chosen slot meets another proposal. */
export function sameValue(a: Value, b: Value): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}
