/**
 * Map-backed LogStore for tests and the simulator. It copies what it is given and what it
 * hands out, so a crashed replica's in-memory objects can never edit "the disk".
 * @module
 */
import { assert } from '../core/assert.js'
import type { AppCommand } from '../core/command.js'
import { slot, slotZero, type Slot } from '../core/ids.js'
import type { LogEntry } from '../core/messages.js'
import type { LogRead, LogStore } from './log-store.js'

export class MemoryLogStore<C extends AppCommand> implements LogStore<C> {
  readonly #entries = new Map<Slot, LogEntry<C>>()
  /** Invariant: no entry at or below it; never decreases. */
  #compactedThrough: Slot = slotZero

  append(entries: readonly LogEntry<C>[]): void {
    for (const entry of entries) {
      assert(entry.slot > this.#compactedThrough, `slot ${entry.slot} is compacted through ${this.#compactedThrough}`)
      assert(entry.value.length > 0, `slot ${entry.slot}: empty batch`)
      this.#entries.set(entry.slot, structuredClone(entry))
    }
  }

  read(fromSlot: Slot, max: number): LogRead<C> {
    if (fromSlot <= this.#compactedThrough) return { type: 'compacted', through: this.#compactedThrough }
    // Sorting the stored slots is O(n log n); walking from fromSlot to the highest slot would be
    // O(highest slot) even for a sparse log.
    const slots = [...this.#entries.keys()].filter((at) => at >= fromSlot).sort((a, b) => a - b)
    return { type: 'entries', entries: slots.slice(0, max).map((at) => structuredClone(this.#entries.get(at)!)) }
  }

  compactedThrough(): Slot {
    return this.#compactedThrough
  }

  lastSlot(): Slot {
    let last = this.#compactedThrough
    for (const at of this.#entries.keys()) if (at > last) last = at
    return last
  }

  truncatePrefix(through: Slot): void {
    if (through <= this.#compactedThrough) return
    for (const at of [...this.#entries.keys()]) if (at <= through) this.#entries.delete(at)
    this.#compactedThrough = slot(through)
  }
}
