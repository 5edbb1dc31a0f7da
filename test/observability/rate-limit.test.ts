/** RateLimit: one report per key per interval, keys independent, memory bounded. */
import { describe, expect, it } from 'vitest'
import { RateLimit } from '../../src/observability/rate-limit.js'

describe('RateLimit', () => {
  it('allows a key once per interval, independently of other keys', () => {
    let now = 0
    const limit = new RateLimit({ intervalMs: 1000, nowMs: () => now })
    expect(limit.allow('a')).toBe(true)
    expect(limit.allow('a')).toBe(false)
    expect(limit.allow('b')).toBe(true)
    now = 999
    expect(limit.allow('a')).toBe(false)
    now = 1000
    expect(limit.allow('a')).toBe(true)
    expect(limit.allow('b')).toBe(true)
  })

  it('forgets the oldest key past its bound', () => {
    const limit = new RateLimit({ intervalMs: 1000, nowMs: () => 0, keysMax: 2 })
    expect([limit.allow('a'), limit.allow('b'), limit.allow('c')]).toEqual([true, true, true])
    expect(limit.allow('c')).toBe(false)
    expect(limit.allow('b')).toBe(false)
    expect(limit.allow('a')).toBe(true) // forgotten when c came in
  })
})
