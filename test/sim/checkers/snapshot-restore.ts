/**
 * Snapshot restore: a replica restored from a snapshot covering slots 1..S holds exactly the
 * state a replica gets by applying the chosen values of slots 1..S to an empty state machine
 * (data, revision, idempotency records), so it goes on to apply the same results as one that
 * replayed the log. The reference applies every slot once, in order, as replicas apply them
 * (each state a snapshot can hold was reached by in-order applies first), and keeps a view of
 * its state after each slot (O(1), copy-on-write). A restore compares canonical encodings: the
 * snapshot encoding itself (sorted keys, records in apply order), equal for equal states.
 */
import type { ChosenEntry } from '../../../src/core/index.js'
import { KvStateMachine, type KvStateMachineOptions } from '../../../src/kv/kv-state-machine.js'
import type { Snapshot, StateMachine } from '../../../src/kv/state-machine.js'
import type { WriteCommand } from '../../../src/kv/command.js'

const reportedMax = 5

export function encodedState(snapshot: Snapshot): string {
  return [...snapshot.chunks()].map((chunk) => Buffer.from(chunk).toString('hex')).join('|')
}

export class SnapshotRestoreChecker {
  readonly #reference: KvStateMachine
  /** slot → a view of the reference state after applying it (slot 0: empty). */
  readonly #states: Map<number, Snapshot>
  readonly violations: string[] = []
  restores = 0

  /**
   * `options`: the replicas' own (the chunk size too, so that equal states encode to equal
   * chunks); `make`: how the replicas build theirs (a sabotage's broken one, in its runs).
   */
  constructor(options: KvStateMachineOptions, make: (options: KvStateMachineOptions) => KvStateMachine = (given) => new KvStateMachine(given)) {
    this.#reference = make(options)
    this.#states = new Map([[0, this.#reference.snapshot()]])
  }

  /** The reference's change history: every applied change, as watch streams must see them. */
  get history(): KvStateMachine['history'] {
    return this.#reference.history
  }

  /** Entries some replica applied; the reference takes the ones it has not applied yet. */
  applied(entries: readonly ChosenEntry<WriteCommand>[]): void {
    for (const entry of entries) {
      const next = this.#reference.appliedIndex() + 1
      if (entry.slot < next) continue
      if (entry.slot > next) {
        this.#report(`snapshot-restore: a replica applied slot ${entry.slot} before any replica applied slot ${next}`)
        continue
      }
      this.#reference.apply([entry])
      this.#states.set(entry.slot, this.#reference.snapshot())
    }
  }

  /** `node` restored a snapshot that says it covers slots 1..`appliedIndex`. */
  restored(node: number, stateMachine: StateMachine): void {
    this.restores += 1
    const at = stateMachine.appliedIndex()
    const expected = this.#states.get(at)
    if (expected === undefined) return this.#report(`snapshot-restore: node ${node} restored a snapshot at slot ${at}, which no replica applied`)
    if (encodedState(stateMachine.snapshot()) !== encodedState(expected)) {
      this.#report(`snapshot-restore: node ${node} restored a snapshot at slot ${at} whose state (revision ${stateMachine.revision()}) differs from applying slots 1..${at} (revision ${expected.revision})`)
    }
  }

  #report(violation: string): void {
    if (this.violations.length < reportedMax) this.violations.push(violation)
  }
}
