/**
 * When to take a snapshot: every `everySlots` applied slots after the last one taken (or the one
 * the replica started from, or one installed). The core decides, the driver writes (Ready's
 * `take`), as etcd's raft leaves the when to the application but the what to the core.
 * @module
 */
import { assert } from './assert.js'
import type { Slot } from './ids.js'

export class SnapshotSchedule {
  readonly #everySlots: number | null
  /** Invariant: never decreases. */
  #takenThrough: Slot

  /** `everySlots`: null takes none (tests that drive snapshots by hand, or none at all). */
  constructor(everySlots: number | null, takenThrough: Slot) {
    assert(everySlots === null || (Number.isSafeInteger(everySlots) && everySlots >= 1), `snapshot every ${everySlots} slots is invalid`)
    this.#everySlots = everySlots
    this.#takenThrough = takenThrough
  }

  /** Whether a snapshot at `appliedThrough` is due. */
  due(appliedThrough: Slot): boolean {
    return this.#everySlots !== null && appliedThrough - this.#takenThrough >= this.#everySlots
  }

  /** A snapshot through `index` was taken (or installed): the next is due `everySlots` later. */
  taken(index: Slot): void {
    if (index > this.#takenThrough) this.#takenThrough = index
  }
}
