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

  persist(batch: PersistBatch): void {
    if (batch.promised !== null) {
      assert(compareBallots(batch.promised, this.#promised) >= 0, 'promised ballot must never decrease')
      this.#promised = { ...batch.promised }
    }
    for (const entry of batch.entries) this.#entries.set(entry.slot, structuredClone(entry))
  }

  entriesFrom(fromSlot: Slot, max: number): readonly LogEntry[] {
    const result: LogEntry[] = []
    for (let at = fromSlot; result.length < max && at <= this.#highestSlot(); at = (at + 1) as Slot) {
      const entry = this.#entries.get(at)
      if (entry !== undefined) result.push(structuredClone(entry))
    }
    return result
  }

  close(): void {}

  #highestSlot(): number {
    let highest = 0
    for (const at of this.#entries.keys()) highest = Math.max(highest, at)
    return highest
  }
}
