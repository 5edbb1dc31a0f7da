/**
 * Goal: a keepalive's 200 is a promise every leader keeps: the lease lasts its full TTL from the
 * answer. Two holes it had: (1) a lease whose countdown ran out (its revoke proposed, not yet
 * applied) was renewed, and the revoke deleted its keys a few ticks later (the simulator's lease
 * checker saw it on 95 of 300 seeds); (2) a deposed leader whose read barrier completed after a
 * new leader had taken over renewed a lease that the new leader, restarting its countdown at the
 * takeover, could expire before the TTL from that answer. Method: LeaseKeepers over a table of
 * leases, ticked by hand; for (2) every order of a barrier's start, a takeover and the barrier's
 * end on one clock.
 */
import { describe, expect, it } from 'vitest'
import { leaseId, type LeaseId } from '../../src/core/index.js'
import { LeaseKeeper } from '../../src/node/lease-keeper.js'
import { LeaseTimers } from '../../src/node/lease-timers.js'

const a = leaseId('1')
const b = leaseId('2')
const tickMs = 1000

function keeper(leases: Map<LeaseId, number>, takeoverTicks = 5): LeaseKeeper {
  return new LeaseKeeper(new LeaseTimers({ tickMs, retryTicks: 3, takeoverTicks }), {
    lease: (id) => (leases.has(id) ? { ttlSeconds: leases.get(id)! } : null),
    leases: () => leases.entries(),
  })
}

/** Ticks until `keeper` names `id` to revoke. */
function ticksUntilExpiry(keeper: LeaseKeeper, id: LeaseId): number {
  for (let tick = 1; tick <= 1000; tick += 1) if (keeper.tick().includes(id)) return tick
  throw new Error(`lease ${id} never expired`)
}

describe('LeaseKeeper', () => {
  it('renews a live lease, answers a gone one as gone', () => {
    const leases = new Map([[a, 2]])
    const keep = keeper(leases)
    keep.becameLeader()
    expect(keep.keepalive(a, 0)).toEqual({ type: 'renewed', ttlSeconds: 2 })
    expect(keep.keepalive(b, 0)).toEqual({ type: 'gone' })
  })

  it('answers a lease whose countdown ran out as gone, until a new leader restarts it', () => {
    const leases = new Map([[a, 1], [b, 20]])
    const keep = keeper(leases)
    keep.becameLeader()
    expect(ticksUntilExpiry(keep, a)).toBe(1 + 1 + 5) // the revoke of a is proposed now
    expect(keep.keepalive(a, 0)).toEqual({ type: 'gone' }) // the revoke would delete its keys after a renewal
    expect(keep.keepalive(b, 0)).toEqual({ type: 'renewed', ttlSeconds: 20 })
    keep.steppedDown()
    keep.becameLeader() // its revoke never applied: the next leader counts it from the full TTL
    expect(keep.keepalive(a, 0)).toEqual({ type: 'renewed', ttlSeconds: 1 })
  })

  it('counts down the leases a snapshot installed on the leader brought, from the TTL and the margin', () => {
    const leases = new Map([[a, 2]])
    const keep = keeper(leases)
    keep.becameLeader()
    keep.tick()
    leases.set(b, 3) // the snapshot holds b too
    keep.installed()
    const expiredAt = new Map<LeaseId, number>()
    for (let tick = 1; tick <= 20; tick += 1) for (const id of keep.tick()) if (!expiredAt.has(id)) expiredAt.set(id, tick)
    expect(expiredAt).toEqual(new Map([[a, 2 + 1 + 5 - 1], [b, 3 + 1 + 5]])) // a counts on where it was
  })

  it('a deposed leader renews only what the next leader honours for the full TTL from the answer', () => {
    // The old leader asks for its read round at tick 0. The next leader can take over only after
    // that round's acknowledgements (its quorum promises later), at tick `takeover`, and restarts
    // every countdown then. The old leader's barrier completes at tick `answered`, and it answers.
    const ttlTicks = 10
    const outcomes = { renewed: 0, late: 0 }
    for (let takeover = 1; takeover <= 30; takeover += 1) {
      for (let answered = takeover; answered <= 40; answered += 1) {
        const leases = new Map([[a, ttlTicks]])
        const deposed = keeper(leases)
        deposed.becameLeader()
        const outcome = deposed.keepalive(a, answered * tickMs)
        if (outcome.type !== 'renewed') {
          expect(outcome.type).toBe('late')
          outcomes.late += 1
          continue
        }
        outcomes.renewed += 1
        const next = keeper(leases)
        next.becameLeader()
        const expiresAt = takeover + ticksUntilExpiry(next, a)
        expect(expiresAt, `taken over at ${takeover}, renewed at ${answered}`).toBeGreaterThanOrEqual(answered + ttlTicks)
      }
    }
    expect(outcomes.renewed).toBeGreaterThan(0)
    expect(outcomes.late).toBeGreaterThan(0)
  })
})
