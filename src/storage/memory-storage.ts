/**
 * Map-backed AcceptorStorage for tests and the simulator. It copies what it is given, so a
 * crashed replica's in-memory objects can never leak into what "survived on disk".
 * @module
 */
import { assert } from '../core/assert.js'
import { ballotZero, compareBallots, type Ballot } from '../core/ballot.js'
import type { Slot } from '../core/ids.js'
import type { LogEntry } from '../core/messages.js'
import type { DurableAcceptorState, LogArchive } from '../core/replica-port.js'
import type { PersistBatch } from '../core/ready.js'
import type { AcceptorStorage } from './acceptor-storage.js'

export class MemoryAcceptorStorage implements AcceptorStorage, LogArchive {
  /** Invariant: never decreases. */
  #promised: Ballot = ballotZero
  #entries = new Map<Slot, LogEntry>()

  load(): DurableAcceptorState {
    const entries = [...this.#entries.values()].sort((a, b) => a.slot - b.slot)
    return { promised: this.#promised, entries: structuredClone(entries) }
  }

  loadFrom(fromSlot: Slot): DurableAcceptorState {
    const entries = [...this.#entries.values()].filter((entry) => entry.slot >= fromSlot).sort((a, b) => a.slot - b.slot)
    return { promised: this.#promised, entries: structuredClone(entries) }
  }

  persist(batch: PersistBatch): void {
    if (batch.promised !== null) {
      assert(compareBallots(batch.promised, this.#promised) >= 0, 'promised ballot must never decrease')
      this.#promised = { ...batch.promised }
    }
    for (const entry of batch.entries) this.#entries.set(entry.slot, structuredClone(entry))
  }

  entriesFrom(fromSlot: Slot, max: number): readonly LogEntry[] {
    // Sorting the stored slots is O(n log n); walking from fromSlot to the highest slot would be
    // O(highest slot) even for a sparse log.
    const slots = [...this.#entries.keys()].filter((at) => at >= fromSlot).sort((a, b) => a - b)
    return slots.slice(0, max).map((at) => structuredClone(this.#entries.get(at)!))
  }

  close(): void {}
}
