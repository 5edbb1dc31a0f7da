/**
 * Goal: ballots are totally ordered and nextBallot always moves strictly up, owned by the caller.
 * Method: tables of pairs, plus a sweep over small rounds and node ids.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, compareBallots, formatBallot, nextBallot, nodeId } from '../../src/core/index.js'

const b = (round: number, node: number) => ({ round, node: nodeId(node) })

describe('Ballot', () => {
  it.each([
    [b(1, 1), b(1, 2), -1],
    [b(2, 1), b(1, 3), 1],
    [b(3, 2), b(3, 2), 0],
    [ballotZero, b(1, 1), -1],
  ] as const)('compare(%o, %o) = %i', (a, c, expected) => {
    expect(compareBallots(a, c)).toBe(expected)
    expect(compareBallots(c, a)).toBe(expected === 0 ? 0 : -expected)
  })

  it('nextBallot exceeds what was seen and belongs to the caller', () => {
    for (let round = 0; round < 4; round += 1) {
      for (let seenNode = 1; seenNode <= 5; seenNode += 1) {
        for (let self = 1; self <= 5; self += 1) {
          const seen = round === 0 ? ballotZero : b(round, seenNode)
          const next = nextBallot(seen, nodeId(self))
          expect(compareBallots(next, seen)).toBe(1)
          expect(next.node).toBe(self)
          expect(next.round).toBeGreaterThanOrEqual(1) // round 0 belongs to ballotZero alone
          // Otherwise it is the smallest such ballot: one round lower would not exceed `seen`.
          if (round > 0) expect(compareBallots({ round: next.round - 1, node: next.node }, seen)).toBeLessThan(1)
        }
      }
    }
  })

  it('formats as round.node', () => expect(formatBallot(b(4, 2))).toBe('4.2'))
})
