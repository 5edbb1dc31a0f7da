/**
 * Goal: timeouts count ticks and jitter within their documented range; the seeded PRNG is
 * deterministic per seed and spreads its values.
 * Method: drive a Timeout tick by tick; draw from seeded streams.
 */
import { describe, expect, it } from 'vitest'
import { randomBelow, seededRandom } from '../../src/core/index.js'
import { cutBatch } from '../../src/core/batch.js'
import { limits } from '../../src/core/limits.js'
import { Timeout } from '../../src/core/timeout.js'
import { kvCommands } from '../../src/kv/command.js'

function ticksToFire(timeout: Timeout): number {
  let ticks = 0
  while (!timeout.fired()) {
    timeout.tick()
    ticks += 1
  }
  return ticks
}

describe('Timeout', () => {
  it('fires after exactly afterTicks on reset, and never while stopped', () => {
    const timeout = new Timeout({ name: 't', afterTicks: 5 })
    for (let tick = 0; tick < 20; tick += 1) timeout.tick()
    expect(timeout.fired()).toBe(false)
    timeout.reset()
    expect(ticksToFire(timeout)).toBe(5)
  })

  it('jitters within [afterTicks, 2 * afterTicks)', () => {
    const random = seededRandom(42)
    const timeout = new Timeout({ name: 't', afterTicks: 10 })
    const seen = new Set<number>()
    for (let attempt = 0; attempt < 200; attempt += 1) {
      timeout.resetWithJitter(random)
      const ticks = ticksToFire(timeout)
      expect(ticks).toBeGreaterThanOrEqual(10)
      expect(ticks).toBeLessThan(20)
      seen.add(ticks)
    }
    expect(seen.size).toBeGreaterThan(5)
  })
})

describe('seededRandom', () => {
  it('repeats per seed and differs across seeds', () => {
    const draw = (seed: number) => Array.from({ length: 8 }, () => seededRandom(seed).uint32())
    const a = seededRandom(1)
    const first = [a.uint32(), a.uint32(), a.uint32()]
    const again = seededRandom(1)
    expect([again.uint32(), again.uint32(), again.uint32()]).toEqual(first)
    expect(draw(1)).not.toEqual(draw(2))
    const random = seededRandom(3)
    const buckets = new Array(4).fill(0)
    for (let index = 0; index < 4000; index += 1) buckets[randomBelow(random, 4)] += 1
    for (const count of buckets) expect(count).toBeGreaterThan(800)
  })
})

describe('cutBatch', () => {
  it('takes at most batchCommandsMax commands and at least one', () => {
    const queue = Array.from({ length: limits.batchCommandsMax + 3 }, (_, index) => ({
      type: 'delete' as const, proposal: `p${index}`, key: 'k', cas: null, idempotency: null,
    }))
    expect(cutBatch(kvCommands, queue, limits.batchBytesMax)).toHaveLength(limits.batchCommandsMax)
    expect(queue).toHaveLength(3)
    const huge = [{ type: 'put' as const, proposal: 'p', key: 'k', value: 'x'.repeat(limits.batchBytesMax), cas: null, idempotency: null }]
    expect(cutBatch(kvCommands, huge, limits.batchBytesMax)).toHaveLength(1)
  })
})
