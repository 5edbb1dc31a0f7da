/**
 * Exactly-once apply, as the clients see it: a command (one proposal id) is chosen in one slot
 * only, gives the same result on every replica and after every restart, and all proposals that
 * carry one client request (`requestOf`: the simulator knows which request each proposal was
 * made for, however it was forwarded and retried) or one idempotency key share one result: the
 * first that applied. A second effect would show up as a second, different result (a put or
 * delete at a second revision, a cas that now mismatches, or a revoke that now finds its lease
 * gone).
 */
import { isCoreEntry, type ChosenEntry } from '../../../src/core/index.js'
import type { AppliedWrite, ApplyResult } from '../../../src/kv/state-machine.js'
import type { WriteCommand } from '../../../src/kv/command.js'

/** One divergence cascades into every later result; the first few tell the story. */
const reportedMax = 5

export class ExactlyOnceChecker {
  /** proposal → the slot it was chosen in. */
  readonly #slots = new Map<string, number>()
  /** proposal or idempotency key → the first result seen, encoded. */
  readonly #results = new Map<string, { result: string; node: number }>()
  readonly violations: string[] = []
  readonly #requestOf: (proposal: string) => number | undefined

  constructor(requestOf: (proposal: string) => number | undefined = () => undefined) {
    this.#requestOf = requestOf
  }

  /** One apply batch of `node`: the chosen entries and the writes' results, in order. */
  applied(node: number, entries: readonly ChosenEntry<WriteCommand>[], results: readonly AppliedWrite[]): void {
    const idempotencyKeys = new Map<string, string>()
    for (const entry of entries) {
      for (const command of entry.value) {
        if (isCoreEntry(command)) continue
        this.#chosenIn(command.proposal, entry.slot)
        if (command.idempotency !== null) idempotencyKeys.set(command.proposal, command.idempotency.key)
      }
    }
    for (const { proposal, result } of results) {
      this.#sameResult(`proposal ${proposal}`, JSON.stringify(result), node)
      // A retry of a txn is answered from its record: the same decision and writes, marked
      // replayed, without the reads; a grant's retry the same lease, marked as creating nothing.
      // Compared in that form, it is the same result.
      const asRecorded = JSON.stringify(asRetryAnswers(result))
      const key = idempotencyKeys.get(proposal)
      if (key !== undefined) this.#sameResult(`idempotency key ${key}`, asRecorded, node)
      const request = this.#requestOf(proposal)
      if (request === undefined) continue
      const what = `client request #${request}`
      this.#sameResult(what, asRecorded, node)
    }
  }

  #chosenIn(proposal: string, at: number): void {
    const first = this.#slots.get(proposal)
    if (first === undefined) this.#slots.set(proposal, at)
    else if (first !== at && this.violations.length < reportedMax) this.violations.push(`exactly-once: proposal ${proposal} is chosen in slot ${first} and again in slot ${at}`)
  }

  #sameResult(what: string, result: string, node: number): void {
    const first = this.#results.get(what)
    if (first === undefined) this.#results.set(what, { result, node })
    else if (first.result !== result && this.violations.length < reportedMax) this.violations.push(`exactly-once: ${what} gave ${first.result} on node ${first.node} but ${result} on node ${node}`)
  }
}

/** A result as a retry of its request is answered (src/kv/kv.ts keeps it so in the record). */
function asRetryAnswers(result: ApplyResult): ApplyResult {
  if (result.type === 'lease_granted') return { ...result, created: false }
  if (result.type !== 'txn') return result
  return { ...result, replayed: true, results: result.results.map((op) => (op.type === 'get' || op.type === 'list' ? { type: 'not_kept' as const } : op)) }
}
