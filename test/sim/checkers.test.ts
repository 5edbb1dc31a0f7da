/**
 * Goal: every checker can fail. Method: hand-made bad histories and events that each checker
 * must flag, next to good ones it must pass (including one that is linearizable only because an
 * indeterminate write may have taken effect).
 */
import { describe, expect, it } from 'vitest'
import { AgreementChecker } from './checkers/agreement.js'
import { checkDurability, checkDurableLogs } from './checkers/durability.js'
import { ExactlyOnceChecker } from './checkers/exactly-once.js'
import { checkKey, checkLinearizability } from './checkers/linearizability.js'
import { checkLiveness } from './checkers/liveness.js'
import { checkNoDisruption } from './checkers/disruption.js'
import { OrderedApplyChecker } from './checkers/ordered-apply.js'
import { BallotChecker } from './checkers/ballots.js'
import { PromiseChecker } from './checkers/promises.js'
import { SnapshotRestoreChecker } from './checkers/snapshot-restore.js'
import { checkStaleReads } from './checkers/stale-reads.js'
import { checkWatchStreams } from './checkers/watch-streams.js'
import { LeaseLivenessChecker } from './checkers/lease-liveness.js'
import { LeaseSafetyChecker } from './checkers/lease-safety.js'
import { eventChanges, type WatchStream } from './sim-watchers.js'
import { KvSnapshot, KvStateMachine } from '../../src/kv/kv-state-machine.js'
import { MessageSizeChecker } from './checkers/message-sizes.js'
import { leaseId, nodeId, revision, slot, type Ballot, type ChosenEntry, type Envelope, type PeerMessage } from '../../src/core/index.js'
import { type WriteCommand } from '../../src/kv/command.js'
import type { Op, OpResult } from './history.js'

let ids = 0
function op(kind: Op['kind'], invokeTick: number, completeTick: number | null, result: OpResult | null, extra: Partial<Op> = {}): Op {
  return { id: ids++, client: 1, kind, key: 'k', value: null, cas: null, invokeTick, completeTick, result, ...extra }
}
const put = (value: string, from: number, to: number | null, version: number | null, extra: Partial<Op> = {}) =>
  op('put', from, to, version === null ? null : { type: 'written', version, deleted: null }, { value, ...extra })
const get = (from: number, to: number, value: string | null, version: number) => op('get', from, to, { type: 'read', value, version })

describe('agreement checker', () => {
  it('flags two values for one slot, across nodes', () => {
    const checker = new AgreementChecker()
    checker.record(1, 1, ['a'])
    checker.record(2, 1, ['a'])
    expect(checker.violations).toEqual([])
    checker.record(3, 1, ['b'])
    expect(checker.violations).toHaveLength(1)
  })

  it('flags a slot persisted as chosen with one value and applied with another', () => {
    const checker = new AgreementChecker()
    checker.chosen(1, 7, ['a'])
    checker.record(2, 7, ['b'])
    expect(checker.violations).toHaveLength(1)
  })
})

describe('exactly-once checker', () => {
  const write = (proposal: string, idempotencyKey: string | null = null): WriteCommand =>
    ({ type: 'delete', proposal, key: 'k', cas: null, idempotency: idempotencyKey === null ? null : { key: idempotencyKey, atMs: 0 } })
  const entry = (at: number, ...commands: WriteCommand[]): ChosenEntry<WriteCommand> => ({ slot: slot(at), value: commands })
  const written = (version: number) => ({ type: 'written', revision: revision(version), deleted: true }) as const

  it('passes a retry that returns the first result, on every replica', () => {
    const checker = new ExactlyOnceChecker()
    checker.applied(1, [entry(1, write('a1', 'w1')), entry(2, write('a2', 'w1'))], [{ proposal: 'a1', slot: slot(1), result: written(1) }, { proposal: 'a2', slot: slot(2), result: written(1) }])
    checker.applied(2, [entry(1, write('a1', 'w1'))], [{ proposal: 'a1', slot: slot(1), result: written(1) }])
    expect(checker.violations).toEqual([])
  })

  it('flags a retry that took effect twice, and one command chosen in two slots', () => {
    const twice = new ExactlyOnceChecker()
    twice.applied(1, [entry(1, write('a1', 'w1')), entry(2, write('a2', 'w1'))], [{ proposal: 'a1', slot: slot(1), result: written(1) }, { proposal: 'a2', slot: slot(2), result: written(2) }])
    expect(twice.violations).toHaveLength(1)
    const twoSlots = new ExactlyOnceChecker()
    twoSlots.applied(1, [entry(1, write('a1')), entry(2, write('a1'))], [])
    expect(twoSlots.violations).toHaveLength(1)
  })

  it('flags one client request applied twice through two proposals (a blind forward retry), and passes a deduplicated one', () => {
    const requestOf = (proposal: string) => ({ n1p1: 7, n2p1: 7, n3p1: 8 } as Record<string, number>)[proposal]
    const blind = new ExactlyOnceChecker(requestOf)
    blind.applied(1, [entry(1, write('n1p1')), entry(2, write('n2p1'), write('n3p1'))], [
      { proposal: 'n1p1', slot: slot(1), result: written(1) }, { proposal: 'n2p1', slot: slot(2), result: written(2) }, { proposal: 'n3p1', slot: slot(2), result: written(3) },
    ])
    expect(blind.violations).toEqual([expect.stringMatching(/client request #7 gave .*"revision":1.* but .*"revision":2/)])
    const deduped = new ExactlyOnceChecker(requestOf)
    deduped.applied(1, [entry(1, write('n1p1')), entry(2, write('n2p1'))], [{ proposal: 'n1p1', slot: slot(1), result: written(1) }, { proposal: 'n2p1', slot: slot(2), result: written(1) }])
    expect(deduped.violations).toEqual([])
  })

  it('flags a second copy of an applied revoke that finds the lease gone, and a grant retried into another answer', () => {
    const requestOf = (proposal: string) => ({ r1: 9, r2: 9, g1: 10, g2: 10 } as Record<string, number>)[proposal]
    const revoke = (proposal: string): WriteCommand => ({ type: 'lease-revoke', id: '7', proposal, idempotency: null })
    const grant = (proposal: string): WriteCommand => ({ type: 'lease-grant', id: '8', ttlSeconds: 5, proposal, idempotency: null })
    const checker = new ExactlyOnceChecker(requestOf)
    checker.applied(1, [entry(1, revoke('r1')), entry(2, revoke('r2'))], [
      { proposal: 'r1', slot: slot(1), result: { type: 'lease_revoked', revision: revision(3), deleted: 1 } }, { proposal: 'r2', slot: slot(2), result: { type: 'lease_not_found' } },
    ])
    expect(checker.violations).toEqual([expect.stringMatching(/client request #9 gave .*lease_revoked.* but .*lease_not_found/)])
    checker.applied(1, [entry(3, grant('g1')), entry(4, grant('g2'))], [
      { proposal: 'g1', slot: slot(3), result: { type: 'lease_granted', id: leaseId('8'), ttlSeconds: 5, created: true } }, { proposal: 'g2', slot: slot(4), result: { type: 'lease_limit' } },
    ])
    expect(checker.violations).toEqual([expect.anything(), expect.stringMatching(/client request #10 gave .*lease_granted.* but .*lease_limit/)])
  })
})

describe('ordered-apply checker', () => {
  it('flags a gap, a repeat, and a restart past what the node had applied', () => {
    const checker = new OrderedApplyChecker()
    checker.started(1, 0)
    checker.applied(1, 1)
    checker.applied(1, 2)
    checker.started(1, 1) // back to a snapshot at 1: slot 2 is applied again, that is fine
    checker.applied(1, 2)
    expect(checker.violations).toEqual([])
    checker.applied(1, 4)
    checker.applied(1, 4)
    checker.started(1, 9)
    expect(checker.violations).toHaveLength(3)
  })

  it('takes an install that jumps ahead, and flags one that goes back', () => {
    const checker = new OrderedApplyChecker()
    checker.started(1, 0)
    checker.applied(1, 1)
    checker.installed(1, 9)
    checker.applied(1, 10)
    expect(checker.violations).toEqual([])
    checker.installed(1, 4)
    expect(checker.violations).toEqual(['ordered-apply: node 1 installed a snapshot through 4, but had applied through 10'])
  })

  it('takes a restart from a received snapshot not yet installed, and flags one past it', () => {
    const checker = new OrderedApplyChecker()
    checker.started(1, 0)
    checker.applied(1, 1)
    checker.received(1, 9)
    checker.started(1, 9)
    expect(checker.violations).toEqual([])
    checker.started(1, 12)
    expect(checker.violations).toEqual(['ordered-apply: node 1 restarted at applied index 12, but had applied only through 9'])
  })
})

describe('snapshot-restore checker', () => {
  const write = (key: string, text: string, proposal: string): WriteCommand =>
    ({ type: 'put', proposal, key, value: Buffer.from(text).toString('base64'), cas: null, idempotency: null })
  const entries: ChosenEntry<WriteCommand>[] = [
    { slot: slot(1), value: [write('a', '1', 'p1')] },
    { slot: slot(2), value: [write('b', '2', 'p2')] },
    { slot: slot(3), value: [write('a', '3', 'p3')] },
  ]

  it('passes a restore of a true snapshot, and flags one that claims a later slot than its contents', () => {
    const checker = new SnapshotRestoreChecker({ snapshotChunkBytesMax: 128 })
    const replica = new KvStateMachine({ snapshotChunkBytesMax: 128 })
    for (const entry of entries) {
      replica.apply([entry])
      checker.applied([entry])
    }
    const good = new KvStateMachine({ snapshotChunkBytesMax: 128 })
    good.restore(replica.snapshot().chunks())
    checker.restored(1, good)
    expect(checker.violations).toEqual([])
    const early = new KvStateMachine({ snapshotChunkBytesMax: 128 })
    early.apply(entries.slice(0, 2))
    const stale = new KvStateMachine({ snapshotChunkBytesMax: 128 })
    stale.restore(new KvSnapshot({ ...early.snapshot().view, appliedIndex: slot(3) }, 128).chunks())
    checker.restored(2, stale)
    expect(checker.violations).toEqual([expect.stringMatching(/^snapshot-restore: node 2 restored a snapshot at slot 3/)])
  })

  it('flags a snapshot at a slot no replica applied', () => {
    const checker = new SnapshotRestoreChecker({ snapshotChunkBytesMax: 128 })
    const ahead = new KvStateMachine({ snapshotChunkBytesMax: 128 })
    ahead.apply(entries)
    checker.restored(1, ahead)
    expect(checker.violations).toHaveLength(1)
  })
})

describe('linearizability checker', () => {
  it('passes a sequential history and concurrent reads that may go either way', () => {
    expect(checkKey([put('a', 0, 2, 1), get(3, 4, 'a', 1), put('b', 5, 9, 2), get(6, 7, 'a', 1), get(6, 8, 'b', 2)])).toEqual({ ok: true })
  })

  it('flags a stale read after an acknowledged write', () => {
    expect(checkKey([put('a', 0, 2, 1), put('b', 3, 4, 2), get(5, 6, 'a', 1)]).ok).toBe(false)
  })

  it('flags a read of a value nobody wrote, and a wrong version', () => {
    expect(checkKey([get(0, 1, 'ghost', 7)]).ok).toBe(false)
    expect(checkKey([put('a', 0, 2, 1), get(3, 4, 'a', 9)]).ok).toBe(false)
  })

  it('accepts a read explained only by an indeterminate write, and one that ignores it', () => {
    expect(checkKey([put('x', 0, null, null), get(5, 6, 'x', 3)])).toEqual({ ok: true })
    expect(checkKey([put('x', 0, null, null), get(5, 6, null, 0)])).toEqual({ ok: true })
  })

  it('an indeterminate write cannot take effect before it was invoked', () => {
    expect(checkKey([get(0, 1, 'x', 3), put('x', 5, null, null)]).ok).toBe(false)
  })

  it('checks cas: a success needs a matching version, a mismatch needs a different one', () => {
    expect(checkKey([put('a', 0, 1, 1), put('b', 2, 3, 2, { cas: 1 })])).toEqual({ ok: true })
    expect(checkKey([put('a', 0, 1, 1), put('b', 2, 3, 2, { cas: 5 })]).ok).toBe(false)
    const mismatch = op('put', 2, 3, { type: 'cas_mismatch', version: 1 }, { value: 'b', cas: 1 })
    expect(checkKey([put('a', 0, 1, 1), mismatch]).ok).toBe(false)
  })

  it('checks a delete reports whether the key existed', () => {
    const deleted = (existed: boolean) => op('delete', 2, 3, { type: 'written', version: 2, deleted: existed })
    expect(checkKey([put('a', 0, 1, 1), deleted(true)])).toEqual({ ok: true })
    expect(checkKey([put('a', 0, 1, 1), deleted(false)]).ok).toBe(false)
  })
})

describe('linearizability checker, txns over several keys', () => {
  // Keys a and b, k as the single-key ops' key. A txn: if a is absent, put a and b; else get a, delete b.
  const txnOf = (tag: string) => ({
    compare: { key: 'a', value: null },
    success: [{ type: 'put' as const, key: 'a', value: `a${tag}` }, { type: 'put' as const, key: 'b', value: `b${tag}` }],
    failure: [{ type: 'get' as const, key: 'a' }, { type: 'delete' as const, key: 'b' }],
  })
  const txn = (tag: string, from: number, to: number | null, result: OpResult | null) => op('txn', from, to, result, { key: 'a', txn: txnOf(tag) })
  const wrote = (revision: number): OpResult => ({ type: 'txn', succeeded: true, revision, results: [{ type: 'put', version: revision }, { type: 'put', version: revision }] })
  const getOf = (key: string, from: number, to: number, value: string | null, version: number) => ({ ...get(from, to, value, version), key })

  it('passes a txn and reads of both its keys after it, and a second txn that sees the first', () => {
    const second: OpResult = { type: 'txn', succeeded: false, revision: 2, results: [{ type: 'get', value: 'a1', version: 1 }, { type: 'delete', deleted: 1 }] }
    expect(checkLinearizability([txn('1', 0, 2, wrote(1)), getOf('a', 3, 4, 'a1', 1), getOf('b', 3, 4, 'b1', 1), txn('2', 5, 6, second), getOf('b', 7, 8, null, 0)])).toEqual([])
  })

  it('flags a torn txn: after it, one key shows its write and the other does not', () => {
    const violations = checkLinearizability([txn('1', 0, 2, wrote(1)), getOf('a', 3, 4, 'a1', 1), getOf('b', 5, 6, null, 0)])
    expect(violations).toEqual([expect.stringMatching(/^linearizability: keys a, b: no linearization exists/)])
  })

  it('flags a txn that took the wrong branch, and one whose get saw a value nobody wrote', () => {
    const wrongBranch: OpResult = { type: 'txn', succeeded: false, revision: 0, results: [{ type: 'get', value: null, version: 0 }, { type: 'delete', deleted: 0 }] }
    expect(checkLinearizability([txn('1', 0, 2, wrongBranch)])).toHaveLength(1) // a is absent: the success branch must run
    const ghost: OpResult = { type: 'txn', succeeded: false, revision: 2, results: [{ type: 'get', value: 'ghost', version: 1 }, { type: 'delete', deleted: 1 }] }
    expect(checkLinearizability([txn('1', 0, 2, wrote(1)), txn('2', 3, 4, ghost)])).toHaveLength(1)
  })

  it('an indeterminate txn may have applied (both keys) or not (neither), never half', () => {
    expect(checkLinearizability([txn('1', 0, null, null), getOf('a', 3, 4, 'a1', 1), getOf('b', 5, 6, 'b1', 1)])).toEqual([])
    expect(checkLinearizability([txn('1', 0, null, null), getOf('a', 3, 4, null, 0), getOf('b', 5, 6, null, 0)])).toEqual([])
    expect(checkLinearizability([txn('1', 0, null, null), getOf('a', 3, 4, 'a1', 1), getOf('b', 5, 6, null, 0)])).toHaveLength(1)
  })

  it('keeps keys no txn joins apart: a violation on k names k alone', () => {
    const violations = checkLinearizability([txn('1', 0, 2, wrote(1)), put('x', 0, 1, 1), get(2, 3, 'y', 1)])
    expect(violations).toEqual([expect.stringMatching(/^linearizability: key k: /)])
  })
})

describe('watch-streams checker', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64')
  const applied = () => {
    const reference = new KvStateMachine({ history: { revisionsMax: 100, bytesMax: 1 << 20 } })
    const puts: WriteCommand[] = ['k0', 'k1', 'k0', 'k1'].map((key, index) => ({ type: 'put', proposal: `w${index}`, key, value: b64(`v${index}`), cas: null, idempotency: null }))
    reference.apply(puts.map((command, index) => ({ slot: slot(index + 1), value: [command] })))
    return reference
  }
  /** What a correct stream of prefix k0 from revision 1 through 4 saw. */
  const stream = (reference: KvStateMachine, prefix: string, start: number, next: number): WatchStream => {
    const read = reference.history.read(revision(start), 100)
    const events = read.type === 'changes' ? read.entries.filter((entry) => entry.revision < next).flatMap((entry) => {
      const changes = eventChanges(entry.changes, prefix)
      return changes === null ? [] : [{ revision: entry.revision as number, changes }]
    }) : []
    return { prefix, start, next, events, nodes: [nodeId(1)] }
  }

  it('passes streams that saw exactly the applied changes of their keys', () => {
    const reference = applied()
    expect(checkWatchStreams([stream(reference, 'k0', 1, 5), stream(reference, '', 2, 4)], reference.history)).toEqual([])
  })

  it('flags a gap, a repeat, and a change that was not applied', () => {
    const reference = applied()
    const gap = stream(reference, 'k0', 1, 5)
    gap.events.splice(0, 1)
    const repeat = stream(reference, 'k0', 1, 5)
    repeat.events.push(repeat.events[1]!)
    const altered = stream(reference, '', 1, 5)
    altered.events[2] = { ...altered.events[2]!, changes: altered.events[2]!.changes.replace(b64('v2'), b64('other')) }
    for (const bad of [gap, repeat, altered]) expect(checkWatchStreams([bad], reference.history)).toEqual([expect.stringMatching(/^watch-streams: /)])
  })
})

describe('lease-safety checker', () => {
  /** A tick of the lease clock is a second. */
  const checker = () => new LeaseSafetyChecker((ttlSeconds) => ttlSeconds)

  it('passes expiries a full TTL after the last restart on that leader, and revokes that leave nothing', () => {
    const leases = checker()
    leases.restarted(1, '7', 20, 100, 'grant')
    leases.restarted(1, '7', 20, 110, 'keepalive')
    leases.expired(1, '7', 130)
    leases.restarted(2, '8', 30, 200, 'leadership')
    leases.expired(2, '8', 240)
    leases.revokeApplied(3, '7', 0, false, 131)
    leases.readAfterRevoke('l1.1', '7', null, 140)
    expect(leases.violations).toEqual([])
    expect(leases.expiries).toBe(2)
  })

  it('flags an expiry inside the TTL after a keepalive, after a new leader restarted it, or with no countdown at all', () => {
    const early = checker()
    early.restarted(1, '7', 20, 100, 'grant')
    early.restarted(1, '7', 20, 110, 'keepalive')
    early.expired(1, '7', 125) // 20 ticks after the grant, 15 after the keepalive
    expect(early.violations).toEqual(['lease-safety: node 1 expired lease 7 at tick 125, 15 ticks after its keepalive at tick 110: its TTL is 20 ticks'])
    const newLeader = checker()
    newLeader.restarted(2, '7', 20, 300, 'leadership')
    newLeader.expired(2, '7', 319)
    expect(newLeader.violations).toEqual([expect.stringMatching(/^lease-safety: node 2 expired lease 7 at tick 319, 19 ticks after its leadership/)])
    const stranger = checker()
    stranger.restarted(1, '7', 20, 100, 'grant')
    stranger.forgot(1, null) // it stepped down
    stranger.expired(1, '7', 500)
    expect(stranger.violations).toEqual(['lease-safety: node 1 expired lease 7 at tick 500 without ever counting it down'])
  })

  describe('a renewal is honoured', () => {
    const leader = (round: number, node: number): Ballot => ({ round, node: nodeId(node) })
    const decided = (node: number, ballot: Ballot, decidedAt: number) => ({ node, ballot, decidedAt })
    const at = (slot: number, write = 0) => ({ slot, write })

    it('passes expiries a full TTL after the last acknowledged keepalive, and a new life of the id', () => {
      const leases = checker()
      leases.granted('7', at(3), true)
      leases.acknowledged(1, leader(1, 1), '7', 20, 100)
      leases.expiryApplied(decided(2, leader(2, 2), 118), '7', at(9), 120) // deleted exactly a TTL after the keepalive
      leases.granted('7', at(12), true) // a retried grant of the same id, after the revoke: a new lease
      leases.acknowledged(2, leader(2, 2), '7', 20, 130)
      leases.expiryApplied(decided(2, leader(2, 2), 150), '7', at(20), 151)
      leases.expiryApplied(decided(1, leader(1, 1), 110), '7', at(9), 160) // a restarted replica applies the first life's revoke again
      expect(leases.violations).toEqual([])
    })

    it('passes a revoke and a retried grant of the same id in one batch, however late each replica applies them', () => {
      // The leader's expiry and a client's retried grant (the answer to its first try was lost)
      // were proposed at the same tick and chosen in one slot: the revoke ends the first life, the
      // grant begins the next, which the leader renews. The others apply the batch ticks later.
      const leases = checker()
      leases.granted('7', at(552), true)
      leases.expiryApplied(decided(1, leader(3, 1), 723), '7', at(554, 0), 726)
      leases.granted('7', at(554, 1), true)
      leases.expiryApplied(decided(1, leader(3, 1), 723), '7', at(554, 0), 728)
      leases.granted('7', at(554, 1), true)
      leases.acknowledged(1, leader(3, 1), '7', 34, 738)
      expect(leases.violations).toEqual([])
      const firstLife = checker() // the same batch ends a life that was renewed: flagged
      firstLife.granted('7', at(552), true)
      firstLife.acknowledged(1, leader(3, 1), '7', 20, 720)
      firstLife.expiryApplied(decided(1, leader(3, 1), 719), '7', at(554, 0), 726)
      firstLife.granted('7', at(554, 1), true)
      expect(firstLife.violations).toEqual([expect.stringMatching(/^lease-safety: the expiry of lease 7 that node 1 decided at tick 719 \(ballot 3\.1\) deleted its keys at tick 726, 6 ticks after/)])
    })

    it('flags a keepalive acknowledged after its own leader decided the expiry, and a deposed leader acknowledging one late', () => {
      const ownLate = checker()
      ownLate.granted('7', at(3), true)
      ownLate.acknowledged(1, leader(1, 1), '7', 20, 473) // the leader had decided the expiry at 470
      ownLate.expiryApplied(decided(1, leader(1, 1), 470), '7', at(16), 479)
      expect(ownLate.violations).toEqual(['lease-safety: the expiry of lease 7 that node 1 decided at tick 470 (ballot 1.1) deleted its keys at tick 479, 6 ticks after node 1 acknowledged a keepalive of it at tick 473 (ballot 1.1): its TTL is 20 ticks'])
      const deposed = checker()
      deposed.granted('7', at(3), true)
      deposed.acknowledged(1, leader(1, 1), '7', 20, 140) // node 2 took over at 110: node 1's barrier completed late
      deposed.expiryApplied(decided(2, leader(2, 2), 131), '7', at(9), 133)
      expect(deposed.violations).toEqual([expect.stringMatching(/^lease-safety: the expiry of lease 7 that node 2 decided at tick 131 \(ballot 2\.2\) deleted its keys at tick 133, -7 ticks after node 1/)])
      const later = checker() // the acknowledgement is recorded after the revoke applied: flagged all the same
      later.granted('7', at(3), true)
      later.expiryApplied(decided(2, leader(2, 2), 131), '7', at(9), 133)
      later.acknowledged(1, leader(1, 1), '7', 20, 125)
      expect(later.violations).toHaveLength(1)
    })

    it('flags an older leader\'s expiry chosen after a newer leader renewed the lease (what the lease epoch prevents)', () => {
      const stale = checker()
      stale.granted('7', at(3), true)
      stale.acknowledged(1, leader(15, 1), '7', 45, 534)
      stale.expiryApplied(decided(2, leader(13, 2), 503), '7', at(20), 546)
      expect(stale.violations).toEqual(['lease-safety: the expiry of lease 7 that node 2 decided at tick 503 (ballot 13.2) deleted its keys at tick 546, 12 ticks after node 1 acknowledged a keepalive of it at tick 534 (ballot 15.1): its TTL is 45 ticks'])
    })

    it('a grant that created nothing (a retried copy, a retry answered from its record) begins no new life', () => {
      const retried = checker()
      retried.granted('7', at(3), true)
      retried.acknowledged(1, leader(2, 1), '7', 20, 100)
      retried.granted('7', at(5), false) // a retried copy of the grant, chosen later: the lease was there
      retried.expiryApplied(decided(1, leader(2, 1), 104), '7', at(6), 105)
      expect(retried.violations).toEqual([expect.stringMatching(/^lease-safety: the expiry of lease 7 that node 1 decided at tick 104 \(ballot 2\.1\) deleted its keys at tick 105, 5 ticks after node 1 acknowledged/)])
      const regranted = checker() // the same, but the grant created the lease again (after a revoke): a new life, nothing to flag
      regranted.granted('7', at(3), true)
      regranted.acknowledged(1, leader(2, 1), '7', 20, 100)
      regranted.granted('7', at(5), true)
      regranted.expiryApplied(decided(1, leader(2, 1), 104), '7', at(6), 105)
      expect(regranted.violations).toEqual([])
    })
  })

  it('flags a revoke that left keys or the lease, and a read after an acknowledged revoke that saw its key', () => {
    const leases = checker()
    leases.revokeApplied(1, '7', 1, false, 50)
    leases.revokeApplied(2, '7', 0, true, 50)
    leases.readAfterRevoke('l1.1', '7', 'held by lease 7', 60)
    expect(leases.violations).toEqual([
      'lease-safety: node 1 applied the revoke of lease 7 at tick 50, and 1 keys are still attached to it',
      'lease-safety: node 2 applied the revoke of lease 7 at tick 50, and 0 keys are still attached to it, the lease itself too',
      'lease-safety: a read of l1.1 at tick 60, after the revoke of its lease 7 was acknowledged, saw "held by lease 7"',
    ])
  })
})

describe('lease-liveness checker', () => {
  /** A tick of the lease clock is a second; the margin a new leader adds is 5 ticks, the slack 3. */
  const checker = () => new LeaseLivenessChecker({ ticksOf: (ttlSeconds) => ttlSeconds, marginTicks: 5, applySlackTicks: 3 })
  const run = (leases: LeaseLivenessChecker, node: number, from: number, to: number, holds: (tick: number) => boolean, serving: (tick: number) => boolean = () => true) => {
    for (let tick = from; tick <= to; tick += 1) {
      leases.ticked(node, tick, serving(tick))
      leases.endOfTick(tick, () => holds(tick))
    }
  }

  it('passes a lease revoked within the slack of TTL, one tick and the margin on the leader\'s clock, and nothing left at the end', () => {
    const leases = checker()
    leases.restarted(1, '7', 10) // before healing: not counted
    leases.healed()
    leases.restarted(1, '7', 10) // took over at tick 100, clock 0
    run(leases, 1, 101, 125, (tick) => tick < 119) // due at 116 (16 ticks), revoked by the end of 118
    leases.finished(new Map([[1, []], [2, []]]), 25)
    expect(leases.violations).toEqual([])
  })

  it('counts in the leader\'s ticks: a clock that misses ticks is given the time it lost', () => {
    const leases = checker()
    leases.healed()
    leases.restarted(2, '8', 10)
    for (let tick = 1; tick <= 40; tick += 1) {
      if (tick % 2 === 0) leases.ticked(2, tick, true) // half the ticks missed: due at tick 32
      leases.endOfTick(tick, () => tick < 35)
    }
    expect(leases.violations).toEqual([])
  })

  it('flags a lease a leader still holds past the slack, and leases left when the phase ends', () => {
    const leases = checker()
    leases.healed()
    leases.restarted(1, '7', 10)
    run(leases, 1, 1, 30, () => true)
    leases.finished(new Map([[1, ['7']], [3, []]]), 30)
    expect(leases.violations).toEqual([
      'lease-liveness: node 1 led through tick 20 and still held lease 7, which its clock had counted down (TTL 10 ticks, plus 6) by tick 16',
      'lease-liveness: node 1 still held 1 leases (7) 30 ticks after healing',
    ])
  })

  it('a countdown that ran out before the leader served (its epoch marker applied) is due once it serves', () => {
    const leases = checker()
    leases.healed()
    leases.restarted(1, '7', 10)
    run(leases, 1, 1, 40, (tick) => tick < 27, (tick) => tick >= 23) // ran out at 16, served from 23: due then, revoked by 26
    expect(leases.violations).toEqual([])
    const late = checker() // the same, revoked a tick past the slack after it served
    late.healed()
    late.restarted(1, '7', 10)
    run(late, 1, 1, 40, (tick) => tick < 28, (tick) => tick >= 23)
    expect(late.violations).toEqual(['lease-liveness: node 1 led through tick 27 and still held lease 7, which its clock had counted down (TTL 10 ticks, plus 6) by tick 23'])
  })

  it('owes nothing for a lease once the leader stepped down or applied its revoke', () => {
    const leases = checker()
    leases.healed()
    leases.restarted(1, '7', 10)
    leases.restarted(1, '8', 10)
    leases.forgot(1, '8')
    run(leases, 1, 1, 10, () => true)
    leases.forgot(1, null)
    run(leases, 1, 11, 40, () => true)
    expect(leases.violations).toEqual([])
  })
})

describe('durability checker', () => {
  it('flags a node whose revision fell below an acknowledged write', () => {
    const history = [put('a', 0, 1, 1), put('b', 2, 3, 2)]
    expect(checkDurability(history, new Map([[1, 2], [2, 2]]))).toEqual([])
    expect(checkDurability(history, new Map([[1, 2], [2, 1]]))).toHaveLength(1)
  })
})

describe('promise checker', () => {
  const ballot = (round: number, node: number): Ballot => ({ round, node: nodeId(node) })
  const from1 = (message: PeerMessage<WriteCommand>): Envelope<WriteCommand> => ({ from: nodeId(1), to: nodeId(2), message })
  const promise = (round: number) => from1({ type: 'promise', ballot: ballot(round, 2), fromSlot: slot(1), accepted: [], throughSlot: slot(0), more: false })
  const accepted = (round: number) => from1({ type: 'accepted', ballot: ballot(round, 2), firstSlot: slot(1), lastSlot: slot(1) })

  it('passes votes in rising or equal ballots, and rejects of lower ones', () => {
    const checker = new PromiseChecker()
    checker.sent([promise(1), accepted(1), accepted(1), promise(3)], 0)
    checker.sent([from1({ type: 'reject', ballot: ballot(2, 2), promised: ballot(3, 2) })], 1)
    expect(checker.violations).toEqual([])
  })

  it('flags a vote below a ballot the node promised or reported in a reject, even after a restart', () => {
    const afterVote = new PromiseChecker()
    afterVote.sent([promise(3)], 0)
    afterVote.sent([accepted(2)], 9)
    expect(afterVote.violations).toHaveLength(1)
    const afterReject = new PromiseChecker()
    afterReject.sent([from1({ type: 'reject', ballot: ballot(1, 2), promised: ballot(4, 2) }), promise(2)], 0)
    expect(afterReject.violations).toHaveLength(1)
  })
})

describe('ballot checker', () => {
  const accept = (round: number, first: number): Envelope<WriteCommand> =>
    ({ from: nodeId(1), to: nodeId(2), message: { type: 'accept', ballot: { round, node: nodeId(1) }, firstSlot: slot(first), values: [], commitIndex: slot(0) } })

  it('passes one incarnation using its ballot many times, and a restart using a higher one', () => {
    const checker = new BallotChecker()
    checker.sent([accept(2, 1), accept(2, 2)], 1, 0)
    checker.sent([accept(3, 1)], 2, 5)
    expect(checker.violations).toEqual([])
  })

  it('flags a restarted node sending accepts in the ballot its earlier incarnation used', () => {
    const checker = new BallotChecker()
    checker.sent([accept(2, 1)], 1, 0)
    checker.sent([accept(2, 1)], 2, 5)
    expect(checker.violations).toHaveLength(1)
  })
})

describe('durable-log checker', () => {
  const applied = new Map([[1, '"a"']])
  const disk = (value: string | null) => new Map(value === null ? [] : [[1, `"${value}"`]])

  it('passes a chosen slot held by a majority of the disks', () => {
    expect(checkDurableLogs(applied, new Map([[1, disk('a')], [2, disk('a')], [3, disk(null)]]), 'test')).toEqual([])
  })

  it('flags a chosen slot that a majority of the disks lost or hold with another value', () => {
    expect(checkDurableLogs(applied, new Map([[1, disk('a')], [2, disk(null)], [3, disk(null)]]), 'test')).toHaveLength(1)
    expect(checkDurableLogs(applied, new Map([[1, disk('a')], [2, disk('b')], [3, disk('b')]]), 'test')).toHaveLength(1)
  })
})

describe('stale-read checker', () => {
  const stale = (from: number, value: string | null, version: number) => op('stale-get', from, from, { type: 'read', value, version })

  it('passes old values and absent keys, and flags a value nobody wrote, a read before the write, a wrong version', () => {
    const history = [put('a', 0, 2, 1), put('b', 3, 4, 2)]
    expect(checkStaleReads([...history, stale(5, 'a', 1), stale(5, null, 0), stale(3, 'b', 2)])).toEqual([])
    expect(checkStaleReads([...history, stale(5, 'ghost', 1)])).toHaveLength(1)
    expect(checkStaleReads([...history, stale(1, 'b', 2)])).toHaveLength(1)
    expect(checkStaleReads([...history, stale(5, 'a', 2)])).toHaveLength(1)
  })
})

describe('liveness checker', () => {
  it('flags a request that never completed, a client that never got through, replicas that did not converge', () => {
    expect(checkLiveness({ pendingOps: [], unissued: new Map([[1, 0]]), appliedIndexes: new Map(), converged: true, budget: 10 })).toEqual([])
    expect(checkLiveness({ pendingOps: [put('a', 0, null, null)], unissued: new Map([[1, 2]]), appliedIndexes: new Map([[1, 3], [2, 2]]), converged: false, budget: 10 })).toHaveLength(3)
  })
})

describe('message-size checker', () => {
  const bounds = { batchBytesMax: 2000, messageBytesMax: 3000, pipelineBytesMax: 4000, queuedBytesMax: 4000, frameBytesMax: 3100 }
  const chosen = (valueChars: number): Envelope<WriteCommand> => ({
    from: nodeId(1), to: nodeId(2),
    message: { type: 'chosen', entries: [{ slot: slot(1), value: [{ type: 'put', proposal: 'p', key: 'k', value: 'A'.repeat(valueChars), cas: null, idempotency: null }] }] },
  })

  it('passes messages within the bounds and flags one over messageBytesMax', () => {
    const checker = new MessageSizeChecker(bounds)
    checker.sent([chosen(100), chosen(2000)], 0)
    expect(checker.violations).toEqual([])
    checker.sent([chosen(2500)], 1)
    expect(checker.violations).toHaveLength(1)
    expect(checker.violations[0]).toMatch(/^message-sizes: at tick 1 node 1→2 chosen is \d+ bytes by estimate, over messageBytesMax 3000/)
  })

  it('flags a message whose encoding no frame holds', () => {
    const checker = new MessageSizeChecker({ ...bounds, messageBytesMax: 5000 })
    checker.sent([chosen(3100)], 2)
    expect(checker.violations[0]).toMatch(/no frame of 3100 holds it/)
  })
})

describe('disruption checker', () => {
  const ballot: Ballot = { round: 3, node: nodeId(1) }
  const base = { leader: nodeId(1), cutOff: nodeId(3), leaderAtEnd: nodeId(1), appliedIndexes: new Map([[1, 9], [2, 9], [3, 9]]) }

  it('passes a phase where the cut-off node only asked for pre-votes and caught up', () => {
    const events = [{ node: nodeId(3), tick: 5, event: { type: 'pre-vote-started', ballot } as const }]
    expect(checkNoDisruption({ ...base, events })).toEqual([])
  })

  it('flags an election, a deposed leader, and a node that never caught up', () => {
    const events = [
      { node: nodeId(3), tick: 5, event: { type: 'became-candidate', ballot } as const },
      { node: nodeId(1), tick: 9, event: { type: 'became-follower', ballot, leader: null, reason: 'saw a higher ballot' } as const },
    ]
    const violations = checkNoDisruption({ ...base, events, leaderAtEnd: nodeId(3), appliedIndexes: new Map([[1, 9], [2, 9], [3, 4]]) })
    expect(violations).toHaveLength(3)
    expect(violations.every((violation) => violation.startsWith('disruption:'))).toBe(true)
    expect(checkNoDisruption({ ...base, events: [events[0]!] })).toHaveLength(1)
    expect(checkNoDisruption({ ...base, events: [], leaderAtEnd: null })).toHaveLength(1)
  })
})
