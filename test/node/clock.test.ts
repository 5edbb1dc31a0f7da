/**
 * Goal: the clock turns monotonic milliseconds into whole ticks without losing fractions,
 * never returns a negative count, and caps a stall so the replica is not flooded with ticks.
 * Method: a SystemClock over a hand-driven time source.
 */
import { describe, expect, it } from 'vitest'
import { SystemClock } from '../../src/node/clock.js'

function manualClock(tickMs: number): { clock: SystemClock; advance: (ms: number) => void } {
  let nowMs = 1000
  const clock = new SystemClock(tickMs, { monotonicMs: () => nowMs, wallMs: () => 1_700_000_000_000 + nowMs })
  return { clock, advance: (ms) => (nowMs += ms) }
}

describe('SystemClock', () => {
  it('counts whole ticks and carries the fraction over', () => {
    const { clock, advance } = manualClock(10)
    expect(clock.takeTicks(100)).toBe(0)
    advance(9)
    expect(clock.takeTicks(100)).toBe(0)
    advance(2) // 11 ms since start: one tick, 1 ms carried
    expect(clock.takeTicks(100)).toBe(1)
    advance(9) // 20 ms since start: the carried 1 ms completes the second tick
    expect(clock.takeTicks(100)).toBe(1)
    advance(35)
    expect(clock.takeTicks(100)).toBe(3)
  })

  it('caps a stall at max and does not owe the excess', () => {
    const { clock, advance } = manualClock(10)
    advance(10_000)
    expect(clock.takeTicks(15)).toBe(15)
    expect(clock.takeTicks(15)).toBe(0)
    advance(10)
    expect(clock.takeTicks(15)).toBe(1)
  })

  it('a clock that reads backwards gives no ticks rather than negative ones', () => {
    const { clock, advance } = manualClock(10)
    advance(-50)
    expect(clock.takeTicks(100)).toBe(0)
    advance(70) // 20 ms past the start
    expect(clock.takeTicks(100)).toBe(2)
  })

  it('reports both time sources and refuses a zero tick', () => {
    const { clock, advance } = manualClock(10)
    advance(5)
    expect(clock.nowMs()).toBe(1005)
    expect(clock.wallMs()).toBe(1_700_000_001_005)
    expect(() => new SystemClock(0)).toThrow(RangeError)
  })
})
