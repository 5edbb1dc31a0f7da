/**
 * Goal: lease expiry counted in ticks: a lease expires exactly one tick after its TTL in ticks
 * (rounded up) has passed since its grant or last keepalive: the restart lands between two ticks,
 * and the tick right after it may come at once, so it is not counted (never early), a keepalive restarts it, a new
 * leader restarts every countdown at the full TTL and the takeover margin, an expired lease whose revoke did not apply is
 * reported again after the retry ticks, a forgotten one never. Method: a table of tick sequences.
 */
import { describe, expect, it } from 'vitest'
import { leaseId } from '../../src/core/index.js'
import { LeaseTimers, takeoverTicksFor } from '../../src/node/lease-timers.js'

const a = leaseId('1')
const b = leaseId('2')

/** Ticks until `id` is first reported, at most `max`. */
function ticksUntilExpiry(timers: LeaseTimers, id: string, max = 1000): number | null {
  for (let tick = 1; tick <= max; tick += 1) if (timers.tick().includes(id as never)) return tick
  return null
}

describe('LeaseTimers', () => {
  it.each([
    [10, 1, 101], // 1 s at 10 ms ticks, and the tick the restart landed in
    [10, 2, 201],
    [300, 1, 5], // 1000 / 300 = 3.33: rounded up, never early
    [1000, 1, 2],
  ])('tick %i ms, TTL %i s: expires after %i ticks', (tickMs, ttlSeconds, expected) => {
    const timers = new LeaseTimers({ tickMs, retryTicks: 5, takeoverTicks: 0 })
    timers.restart(a, ttlSeconds)
    expect(ticksUntilExpiry(timers, a)).toBe(expected)
  })

  it('a keepalive restarts the full TTL; other leases count on', () => {
    const timers = new LeaseTimers({ tickMs: 100, retryTicks: 5, takeoverTicks: 0 })
    timers.restart(a, 1)
    timers.restart(b, 1)
    for (let tick = 0; tick < 7; tick += 1) expect(timers.tick()).toEqual([])
    timers.restart(a, 1) // keepalive at tick 7
    expect(timers.remainingSeconds(a)).toBe(1)
    expect(ticksUntilExpiry(timers, b)).toBe(11 - 7)
    expect(ticksUntilExpiry(timers, a)).toBe(11 - 4)
  })

  it('a new leader restarts every lease at its full TTL and the takeover margin, whatever the old leader had counted', () => {
    const timers = new LeaseTimers({ tickMs: 100, retryTicks: 5, takeoverTicks: 15 })
    timers.restart(a, 1)
    for (let tick = 0; tick < 9; tick += 1) timers.tick()
    timers.clear()
    expect(timers.tick()).toEqual([])
    timers.restartAll([[a, 1], [b, 2]])
    expect(ticksUntilExpiry(timers, a)).toBe(11 + 15)
    timers.restart(b, 2) // a keepalive: the TTL alone
    expect(ticksUntilExpiry(timers, b)).toBe(21)
    timers.start(a, 1) // a grant the leader applied: as at a takeover
    expect(timers.remainingSeconds(a)).toBe(1) // the margin is no longer lease
    expect(ticksUntilExpiry(timers, a)).toBe(11 + 15)
  })

  it('takes an election timeout as the takeover margin, and at least a second', () => {
    expect([takeoverTicksFor(10), takeoverTicksFor(100), takeoverTicksFor(1000)]).toEqual([100, 15, 15])
    expect(new LeaseTimers({ tickMs: 10, retryTicks: 5, takeoverTicks: takeoverTicksFor(10) }).takeoverMs).toBe(1000)
  })

  it('reports an expired lease again after the retry ticks until it is forgotten', () => {
    const timers = new LeaseTimers({ tickMs: 1000, retryTicks: 3, takeoverTicks: 0 })
    timers.restart(a, 1)
    expect([timers.tick(), timers.tick()]).toEqual([[], [a]])
    expect([timers.tick(), timers.tick(), timers.tick()]).toEqual([[], [], [a]])
    timers.forget(a)
    expect(ticksUntilExpiry(timers, a, 20)).toBeNull()
    expect(timers.has(a)).toBe(false)
  })

  it('an expired lease stays expired until it is forgotten or a new leader restarts every countdown', () => {
    const timers = new LeaseTimers({ tickMs: 1000, retryTicks: 3, takeoverTicks: 0 })
    timers.restart(a, 1)
    timers.restart(b, 5)
    expect(timers.expired(a)).toBe(false)
    expect([timers.tick(), timers.tick()]).toEqual([[], [a]])
    expect([timers.expired(a), timers.expired(b)]).toEqual([true, false])
    timers.tick()
    expect(timers.expired(a)).toBe(true) // still, while its revoke is due again
    timers.restartAll([[a, 1], [b, 5]])
    expect(timers.expired(a)).toBe(false)
    timers.forget(b)
    expect(timers.expired(b)).toBe(false)
  })
})
