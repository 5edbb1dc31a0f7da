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

/** Votes from distinct members; duplicates (a re-sent reply) count once. */
export class VoteTally {
  readonly #needed: number
  readonly #voters = new Set<NodeId>()

  constructor(needed: number) {
    assert(needed > 0, 'a tally needs at least one vote')
    this.#needed = needed
  }

  add(voter: NodeId): void {
    this.#voters.add(voter)
  }

  has(voter: NodeId): boolean {
    return this.#voters.has(voter)
  }

  get won(): boolean {
    return this.#voters.size >= this.#needed
  }

  get count(): number {
    return this.#voters.size
  }

  /** The voters, ascending: who made up the quorum. */
  voters(): NodeId[] {
    return [...this.#voters].sort((a, b) => a - b)
  }
}
