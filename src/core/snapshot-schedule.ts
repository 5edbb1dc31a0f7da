/**
 * When to take a snapshot: once the slots, the commands or the command bytes applied since the
 * last one taken (or the one the replica started from, or one installed) reach their bound,
 * whichever comes first. The core decides, the driver writes (Ready's `take`), as etcd's raft
 * leaves the when to the application but the what to the core.
 *
 * Why not slots alone: a restart replays the log after the newest snapshot, and what that costs
 * is the commands in it, not the slots. A slot holds from one command to a full batch (256), so
 * an interval of 10,000 slots left anything from 10,000 to 2.5 million writes to replay. The
 * command bound caps the replay's work, the byte bound its reading and decoding (large values).
 * @module
 */
import { assert } from './assert.js'
import type { Slot } from './ids.js'

/** Each bound null: not counted (all three null: no snapshot is ever due). */
export type SnapshotInterval = Readonly<{ slots: number | null; commands: number | null; bytes: number | null }>

/** What one turn applies: its commands (not the core's own noops) and their estimated bytes. */
export type AppliedWork = Readonly<{ commands: number; bytes: number }>


export class SnapshotSchedule {
  readonly #every: SnapshotInterval
  /** Invariant: never decreases. */
  #takenThrough: Slot
  /** Applied since #takenThrough (counted as Readys hand them out: each is applied once). */
  #commands = 0
  #bytes = 0

  constructor(every: SnapshotInterval, takenThrough: Slot) {
    for (const [name, bound] of Object.entries(every)) {
      assert(bound === null || (Number.isSafeInteger(bound) && bound >= 1), `snapshot every ${bound} ${name} is invalid`)
    }
    this.#every = every
    this.#takenThrough = takenThrough
  }

  /**
   * Counts `work` as applied through `appliedThrough` (the turn being handed out) and says
   * whether a snapshot at `appliedThrough` is then due.
   */
  applying(appliedThrough: Slot, work: AppliedWork): boolean {
    assert(appliedThrough >= this.#takenThrough || (work.commands === 0 && work.bytes === 0), `work applied through ${appliedThrough}, behind the snapshot at ${this.#takenThrough}`)
    this.#commands += work.commands
    this.#bytes += work.bytes
    const { slots, commands, bytes } = this.#every
    return (slots !== null && appliedThrough - this.#takenThrough >= slots) ||
      (commands !== null && this.#commands >= commands) ||
      (bytes !== null && this.#bytes >= bytes)
  }

  /** A snapshot through `index` was taken (or installed): counting starts over after it. */
  taken(index: Slot): void {
    if (index <= this.#takenThrough) return
    this.#takenThrough = index
    this.#commands = 0
    this.#bytes = 0
  }
}
