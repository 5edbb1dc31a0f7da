/**
 * Goal: the leader's keepalive never promises what the leader's own lease clock has already
 * taken back: a lease whose countdown ran out (its revoke proposed, not yet applied) is answered
 * as gone, not renewed (the simulator's lease checker saw a keepalive renewed three ticks after
 * the expiry, and the revoke delete the key six ticks later). A new leader restarts it. Method:
 * a LeaseKeeper over a table of leases, ticked by hand.
 */
import { describe, expect, it } from 'vitest'
import { leaseId, type LeaseId } from '../../src/core/index.js'
import { LeaseKeeper } from '../../src/node/lease-keeper.js'
import { LeaseTimers } from '../../src/node/lease-timers.js'

const a = leaseId('1')
const b = leaseId('2')

function keeper(leases: Map<LeaseId, number>): LeaseKeeper {
  return new LeaseKeeper(new LeaseTimers({ tickMs: 1000, retryTicks: 3 }), {
    lease: (id) => (leases.has(id) ? { ttlSeconds: leases.get(id)! } : null),
    leases: () => leases.entries(),
  })
}

describe('LeaseKeeper', () => {
  it('renews a live lease, answers a gone one as gone', () => {
    const leases = new Map([[a, 2]])
    const keep = keeper(leases)
    keep.becameLeader()
    expect(keep.keepalive(a)).toBe(2)
    expect(keep.keepalive(b)).toBeNull()
  })

  it('answers a lease whose countdown ran out as gone, until a new leader restarts it', () => {
    const leases = new Map([[a, 1], [b, 5]])
    const keep = keeper(leases)
    keep.becameLeader()
    expect([keep.tick(), keep.tick()]).toEqual([[], [a]]) // the revoke of a is proposed now
    expect(keep.keepalive(a)).toBeNull() // the revoke would delete its keys after a renewal
    expect(keep.keepalive(b)).toBe(5)
    expect(keep.tick()).toEqual([])
    keep.steppedDown()
    keep.becameLeader() // its revoke never applied: the next leader counts it from the full TTL
    expect(keep.keepalive(a)).toBe(1)
  })
})
