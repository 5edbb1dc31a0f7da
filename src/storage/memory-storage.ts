/**
 * Map-backed AcceptorStorage for tests and the simulator: the promise here, the log in a
 * MemoryLogStore. Both copy what they are given, so a crashed replica's in-memory objects can
 * never leak into what "survived on disk".
 * @module
 */
import { assert } from '../core/assert.js'
import { ballotZero, compareBallots, type Ballot } from '../core/ballot.js'
import type { AppCommand } from '../core/command.js'
import { slot, type Slot } from '../core/ids.js'
import type { DurableAcceptorState } from '../core/replica-port.js'
import type { PersistBatch } from '../core/ready.js'
import type { AcceptorStorage } from './acceptor-storage.js'
import { MemoryLogStore } from './memory-log-store.js'

export class MemoryAcceptorStorage<C extends AppCommand> implements AcceptorStorage<C> {
  readonly log = new MemoryLogStore<C>()
  /** Invariant: never decreases. */
  #promised: Ballot = ballotZero

  /** The persisted promise (the simulator's broken acceptor compares against it). */
  get promised(): Ballot {
    return { ...this.#promised }
  }

  load(): DurableAcceptorState<C> {
    return this.loadFrom(slot(this.log.compactedThrough() + 1))
  }

  loadFrom(fromSlot: Slot): DurableAcceptorState<C> {
    const read = this.log.read(slot(Math.max(fromSlot, this.log.compactedThrough() + 1)), Number.POSITIVE_INFINITY)
    assert(read.type === 'entries', 'a read above the compaction point is never compacted')
    return { promised: { ...this.#promised }, entries: read.entries }
  }

  persist(batch: PersistBatch<C>): void {
    if (batch.promised !== null) {
      assert(compareBallots(batch.promised, this.#promised) >= 0, 'promised ballot must never decrease')
      this.#promised = { ...batch.promised }
    }
    this.log.append(batch.entries)
  }

  close(): void {}
}
