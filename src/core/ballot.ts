/**
 * Ballots: `{round, node}`, totally ordered, unique per node because the node breaks ties.
 * Compare them only with `compareBallots`.
 * @module
 */
import { assert } from './assert.js'
import type { NodeId } from './ids.js'

export type Ballot = Readonly<{ round: number; node: NodeId }>

/** Below every real ballot: what a fresh acceptor has promised. */
export const ballotZero: Ballot = Object.freeze({ round: 0, node: 0 as NodeId })

export function compareBallots(a: Ballot, b: Ballot): -1 | 0 | 1 {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1
  if (a.node !== b.node) return a.node < b.node ? -1 : 1
  return 0
}

export function ballotsEqual(a: Ballot, b: Ballot): boolean {
  return compareBallots(a, b) === 0
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b
}

/** The smallest ballot owned by `node` that is greater than `seen`. */
export function nextBallot(seen: Ballot, node: NodeId): Ballot {
  const round = seen.node < node ? seen.round : seen.round + 1
  assert(Number.isSafeInteger(round), 'ballot round overflow')
  const next: Ballot = { round: Math.max(round, 1), node }
  assert(compareBallots(next, seen) > 0, 'next ballot must exceed the seen ballot')
  return next
}

export function formatBallot(ballot: Ballot): string {
  return `${ballot.round}.${ballot.node}`
}
