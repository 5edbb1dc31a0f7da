/**
 * Quorum arithmetic: pure and table-tested.
 * @module
 */
import { assert } from './assert.js'
import type { NodeId } from './ids.js'

/** The smallest number of members that intersects every other such set. */
export function majority(memberCount: number): number {
  assert(Number.isSafeInteger(memberCount) && memberCount > 0, `bad member count ${memberCount}`)
  return Math.floor(memberCount / 2) + 1
}

/**
 * Votes from distinct members; duplicates (a re-sent reply) count once. With `eligible`, only
 * those members count toward the quorum (a configuration's voters): a learner's vote is recorded
 * (it has the value) but decides nothing.
 */
export class VoteTally {
  readonly #needed: number
  readonly #eligible: ReadonlySet<NodeId> | null
  readonly #voters = new Set<NodeId>()
  #counted = 0

  constructor(needed: number, eligible: ReadonlySet<NodeId> | null = null) {
    assert(needed > 0, 'a tally needs at least one vote')
    assert(eligible === null || eligible.size >= needed, 'a tally that can never be won')
    this.#needed = needed
    this.#eligible = eligible
  }

  add(voter: NodeId): void {
    if (this.#voters.has(voter)) return
    this.#voters.add(voter)
    if (this.#eligible === null || this.#eligible.has(voter)) this.#counted += 1
  }

  has(voter: NodeId): boolean {
    return this.#voters.has(voter)
  }

  get won(): boolean {
    return this.#counted >= this.#needed
  }

  get count(): number {
    return this.#counted
  }

  /** The voters that count, ascending: who made up the quorum. */
  voters(): NodeId[] {
    const counted = [...this.#voters].filter((voter) => this.#eligible === null || this.#eligible.has(voter))
    return counted.sort((a, b) => a - b)
  }
}
