/**
 * Goal: requests are repeated to a silent member at doubling intervals up to a cap, and an
 * answer brings the interval back to the retry period.
 * Method: a RetryPacer asked every tick; the ticks at which it says "ask again".
 */
import { describe, expect, it } from 'vitest'
import { nodeId } from '../../src/core/index.js'
import { RetryPacer } from '../../src/core/pacer.js'

const member = nodeId(2)

function dueTicks(pacer: RetryPacer, from: number, to: number): number[] {
  const due: number[] = []
  for (let now = from; now <= to; now += 1) if (pacer.due(member, now)) due.push(now)
  return due
}

describe('RetryPacer', () => {
  it('doubles the wait while the member is silent, up to the cap, and resets on an answer', () => {
    const pacer = new RetryPacer(6, 40)
    pacer.reset(member, 0)
    expect(dueTicks(pacer, 1, 200)).toEqual([6, 18, 42, 82, 122, 162])
    pacer.reset(member, 200)
    expect(dueTicks(pacer, 201, 220)).toEqual([206, 218])
  })

  it('a member never asked is due at once', () => {
    expect(new RetryPacer(6, 40).due(member, 3)).toBe(true)
  })
})
