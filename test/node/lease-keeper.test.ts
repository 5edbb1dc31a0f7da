/**
 * Goal: a keepalive's 200 is a promise every leader keeps: the lease lasts its full TTL from the
 * answer. Two holes it had: (1) a lease whose countdown ran out (its revoke proposed, not yet
 * applied) was renewed, and the revoke deleted its keys a few ticks later (the simulator's lease
 * checker saw it on 95 of 300 seeds); (2) a deposed leader whose read barrier completed after a
 * new leader had taken over renewed a lease that the new leader, restarting its countdown at the
 * takeover, could expire before the TTL from that answer. Method: LeaseKeepers over a table of
 * leases, ticked by hand; for (2) every order of a barrier's start, a takeover and the barrier's
 * end on one clock. (3) A new leader serves only once its lease epoch marker is applied: the
 * marker goes out first (again until it applies), keepalives meanwhile answer taking-over, and
 * expiries wait for it, then carry its ballot.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, leaseId, nodeId, revision, slot, type Ballot, type LeaseId } from '../../src/core/index.js'
import type { WriteCommand } from '../../src/kv/command.js'
import { LeaseKeeper, type LeaseProposal } from '../../src/node/lease-keeper.js'
import { LeaseTimers } from '../../src/node/lease-timers.js'

const a = leaseId('1')
const b = leaseId('2')
const tickMs = 1000

const ballot = (round: number): Ballot => ({ round, node: nodeId(1) })

/** The state's lease epoch, which a test moves as the marker would when applied. */
type Epoch = { value: Ballot }

function keeper(leases: Map<LeaseId, number>, takeoverTicks = 5, epoch: Epoch = { value: ballotZero }): LeaseKeeper {
  return new LeaseKeeper(new LeaseTimers({ tickMs, retryTicks: 3, takeoverTicks }), {
    lease: (id) => (leases.has(id) ? { ttlSeconds: leases.get(id)! } : null),
    leases: () => leases.entries(),
    leaseEpoch: () => epoch.value,
  })
}

/** Leads at `round` with its epoch marker applied at once (the tests of countdowns start there). */
function leading(leases: Map<LeaseId, number>, round = 1, takeoverTicks = 5): LeaseKeeper {
  const keep = keeper(leases, takeoverTicks, { value: ballot(round) })
  keep.becameLeader(ballot(round))
  return keep
}

const revoked = (proposals: readonly LeaseProposal[]): LeaseId[] => proposals.flatMap((proposal) => (proposal.type === 'lease-revoke' ? [proposal.id] : []))

/** Ticks until `keeper` names `id` to revoke. */
function ticksUntilExpiry(keeper: LeaseKeeper, id: LeaseId): number {
  for (let tick = 1; tick <= 1000; tick += 1) if (revoked(keeper.tick()).includes(id)) return tick
  throw new Error(`lease ${id} never expired`)
}

describe('LeaseKeeper', () => {
  it('renews a live lease, answers a gone one as gone', () => {
    const leases = new Map([[a, 2]])
    const keep = leading(leases)
    expect(keep.keepalive(a, 0)).toEqual({ type: 'renewed', ttlSeconds: 2 })
    expect(keep.keepalive(b, 0)).toEqual({ type: 'gone' })
  })

  it('answers a lease whose countdown ran out as gone, until a new leader restarts it', () => {
    const leases = new Map([[a, 1], [b, 20]])
    const epoch = { value: ballot(1) }
    const keep = keeper(leases, 5, epoch)
    keep.becameLeader(ballot(1))
    expect(ticksUntilExpiry(keep, a)).toBe(1 + 1 + 5) // the revoke of a is proposed now
    expect(keep.keepalive(a, 0)).toEqual({ type: 'gone' }) // the revoke would delete its keys after a renewal
    expect(keep.keepalive(b, 0)).toEqual({ type: 'renewed', ttlSeconds: 20 })
    keep.steppedDown()
    keep.becameLeader(ballot(2)) // its revoke never applied: the next leader counts it from the full TTL
    epoch.value = ballot(2)
    expect(keep.keepalive(a, 0)).toEqual({ type: 'renewed', ttlSeconds: 1 })
  })

  it('counts down the leases a snapshot installed on the leader brought, from the TTL and the margin', () => {
    const leases = new Map([[a, 2]])
    const keep = leading(leases)
    keep.tick()
    leases.set(b, 3) // the snapshot holds b too
    keep.installed()
    const expiredAt = new Map<LeaseId, number>()
    for (let tick = 1; tick <= 20; tick += 1) for (const id of revoked(keep.tick())) if (!expiredAt.has(id)) expiredAt.set(id, tick)
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
        const deposed = leading(leases, 1)
        const outcome = deposed.keepalive(a, answered * tickMs)
        if (outcome.type !== 'renewed') {
          expect(outcome.type).toBe('late')
          outcomes.late += 1
          continue
        }
        outcomes.renewed += 1
        const next = leading(leases, 2)
        const expiresAt = takeover + ticksUntilExpiry(next, a)
        expect(expiresAt, `taken over at ${takeover}, renewed at ${answered}`).toBeGreaterThanOrEqual(answered + ttlTicks)
      }
    }
    expect(outcomes.renewed).toBeGreaterThan(0)
    expect(outcomes.late).toBeGreaterThan(0)
  })

  it('a new leader proposes its epoch marker first, and serves nothing until it is applied', () => {
    const leases = new Map([[a, 1], [b, 20]])
    const epoch = { value: ballot(1) } // the last leader's marker
    const keep = keeper(leases, 5, epoch)
    keep.becameLeader(ballot(2))
    const marker: LeaseProposal = { type: 'lease-epoch', ballot: ballot(2) }
    expect(keep.tick()).toEqual([marker])
    expect(keep.keepalive(b, 0)).toEqual({ type: 'taking-over' })
    // Not applied yet (dropped, or slow): proposed again every retry interval (3 ticks), and a's
    // countdown, which ran out at 1 + 1 + 5 ticks from the takeover, names no revoke meanwhile.
    const proposed: LeaseProposal[][] = []
    for (let tick = 2; tick <= 9; tick += 1) proposed.push(keep.tick())
    expect(proposed).toEqual([[], [], [], [marker], [], [], [], [marker]])
    epoch.value = ballot(2) // the marker applied
    expect(keep.tick()).toEqual([{ type: 'lease-revoke', id: a, expiryBallot: ballot(2) }]) // a's revoke, held until now
    expect(keep.keepalive(b, 0)).toEqual({ type: 'renewed', ttlSeconds: 20 })
  })

  it('a leader whose epoch a newer leader\'s marker overtook renews nothing and expires nothing', () => {
    const leases = new Map([[a, 1]])
    const epoch = { value: ballot(1) }
    const keep = keeper(leases, 0, epoch)
    keep.becameLeader(ballot(1))
    epoch.value = ballot(3) // it still believes it leads; a newer leader's marker was applied here
    expect(keep.keepalive(a, 0)).toEqual({ type: 'taking-over' })
    const proposed = Array.from({ length: 10 }, () => keep.tick()).flat()
    expect(revoked(proposed)).toEqual([])
  })

  it('keeps the countdown of a lease whose expiry the state machine ignored as stale, and forgets one revoked', () => {
    const leases = new Map([[a, 2], [b, 2]])
    const keep = leading(leases, 3)
    const revoke = (id: LeaseId, round: number): WriteCommand => ({ type: 'lease-revoke', id, expiryBallot: ballot(round), proposal: `x${id}`, idempotency: null })
    leases.delete(b) // b's revoke applied; a's was an older leader's, chosen late: a stays
    keep.applied([{ slot: slot(9), value: [revoke(a, 2), revoke(b, 3)] }], [
      { proposal: `x${a}`, slot: slot(9), result: { type: 'lease_expiry_stale', epoch: ballot(3) } },
      { proposal: `x${b}`, slot: slot(9), result: { type: 'lease_revoked', revision: revision(4), deleted: 0 } },
    ])
    expect(keep.remainingSeconds(a)).toBe(2)
    expect(keep.remainingSeconds(b)).toBeNull()
    expect(ticksUntilExpiry(keep, a)).toBe(2 + 1 + 5)
  })

  it('a lease whose countdown ran out before the marker applied, revoked and granted again meanwhile, is not revoked once it serves', () => {
    const leases = new Map([[a, 1]])
    const epoch = { value: ballot(1) }
    const keep = keeper(leases, 5, epoch)
    keep.becameLeader(ballot(2))
    for (let tick = 1; tick <= 8; tick += 1) keep.tick() // a's countdown ran out at 7: its revoke waits for the marker
    // The log the new leader recovers holds a's revoke and a new grant of the same id.
    const revoke: WriteCommand = { type: 'lease-revoke', id: a, proposal: 'r', idempotency: null }
    const grant: WriteCommand = { type: 'lease-grant', id: a, ttlSeconds: 1, proposal: 'g', idempotency: null }
    keep.applied([{ slot: slot(4), value: [revoke, grant] }], [
      { proposal: 'r', slot: slot(4), result: { type: 'lease_revoked', revision: revision(2), deleted: 0 } },
      { proposal: 'g', slot: slot(4), result: { type: 'lease_granted', id: a, ttlSeconds: 1, created: true } },
    ])
    epoch.value = ballot(2)
    expect(keep.tick()).toEqual([])
    expect(ticksUntilExpiry(keep, a)).toBe(1 + 1 + 5 - 1) // the new life's own countdown, from the grant
  })
})
