/**
 * Groups the slots one accepted message chose into runs of consecutive slots with the same
 * quorum, so the leader reports one `slots-chosen` event per run rather than one per slot.
 * @module
 */
import type { Ballot } from './ballot.js'
import type { CoreEventSink } from './events.js'
import type { NodeId, Slot } from './ids.js'

type Run = { firstSlot: Slot; lastSlot: Slot; quorum: readonly NodeId[] }

function sameVoters(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((voter, index) => voter === b[index])
}

export class ChosenRuns {
  readonly #ballot: Ballot
  readonly #onEvent: CoreEventSink
  #run: Run | null = null

  constructor(ballot: Ballot, onEvent: CoreEventSink) {
    this.#ballot = ballot
    this.#onEvent = onEvent
  }

  /** `at` was chosen by `quorum` (ascending); slots arrive in increasing order. */
  add(at: Slot, quorum: readonly NodeId[]): void {
    const run = this.#run
    if (run !== null && run.lastSlot + 1 === at && sameVoters(run.quorum, quorum)) {
      run.lastSlot = at
      return
    }
    this.flush()
    this.#run = { firstSlot: at, lastSlot: at, quorum }
  }

  flush(): void {
    const run = this.#run
    if (run === null) return
    this.#run = null
    this.#onEvent({ type: 'slots-chosen', firstSlot: run.firstSlot, lastSlot: run.lastSlot, ballot: this.#ballot, quorum: run.quorum })
  }
}
