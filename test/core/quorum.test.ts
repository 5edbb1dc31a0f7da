/**
 * Goal: majority sizes and vote tallies are right, and duplicate votes count once.
 * Method: a table of cluster sizes; a tally fed repeated voters.
 */
import { describe, expect, it } from 'vitest'
import { nodeId } from '../../src/core/index.js'
import { majority, VoteTally } from '../../src/core/quorum.js'

describe('quorum', () => {
  it.each([[1, 1], [2, 2], [3, 2], [4, 3], [5, 3], [7, 4]])('majority(%i) = %i', (members, expected) => {
    expect(majority(members)).toBe(expected)
  })

  it('any two majorities intersect', () => {
    for (let members = 1; members <= 7; members += 1) expect(2 * majority(members)).toBeGreaterThan(members)
  })

  it('counts each voter once', () => {
    const tally = new VoteTally(2)
    tally.add(nodeId(1))
    tally.add(nodeId(1))
    expect(tally.won).toBe(false)
    tally.add(nodeId(3))
    expect(tally.won).toBe(true)
    expect(tally.count).toBe(2)
  })
})
