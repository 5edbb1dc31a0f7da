/**
 * Goal: processReady orders effects (persist, then send, then loop back to itself) and asks for
 * an fsync exactly when the turn changes acceptor state (replies rest on state an earlier
 * durable turn wrote).
 * Method: a table for needsFsync; a recording port set around a real Replica.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, noopValue, nodeId, Replica, seededRandom, slot, slotZero, type PeerMessage, type Ready } from '../../src/core/index.js'
import { needsFsync, processReady } from '../../src/node/process-ready.js'

const ballot = { round: 1, node: nodeId(1) }
function ready(overrides: Partial<Ready>): Ready {
  return { persist: { promised: null, entries: [] }, messages: [], committed: [], reads: [], dropped: [], ...overrides }
}
const to2 = (message: PeerMessage) => [{ from: nodeId(1), to: nodeId(2), message }]

describe('needsFsync', () => {
  it.each([
    ['a new promise', ready({ persist: { promised: ballot, entries: [] } }), true],
    ['an accepted value', ready({ persist: { promised: null, entries: [{ slot: slot(1), ballot, value: noopValue, chosen: false }] } }), true],
    ['an accepted reply resting on earlier state', ready({ messages: to2({ type: 'accepted', ballot, firstSlot: slot(1), lastSlot: slot(1) }) }), false],
    ['a repeated promise reply', ready({ messages: to2({ type: 'promise', ballot, fromSlot: slot(1), accepted: [] }) }), false],
    ['a heartbeat ack with applies', ready({ persist: { promised: null, entries: [{ slot: slot(1), ballot: ballotZero, value: noopValue, chosen: true }] }, committed: [{ slot: slot(1), value: noopValue }], messages: to2({ type: 'heartbeat-ack', ballot, readRound: 1 }) }), false],
    ['a heartbeat ack with a raised promise', ready({ persist: { promised: ballot, entries: [] }, messages: to2({ type: 'heartbeat-ack', ballot, readRound: 1 }) }), true],
    ['only chosen marks and applies', ready({ persist: { promised: null, entries: [{ slot: slot(1), ballot: ballotZero, value: noopValue, chosen: true }] }, committed: [{ slot: slot(1), value: noopValue }] }), false],
    ['a leader sending accepts and heartbeats', ready({ messages: [...to2({ type: 'accept', ballot, firstSlot: slot(1), values: [noopValue], commitIndex: slotZero }), ...to2({ type: 'heartbeat', ballot, commitIndex: slotZero, readRound: 0 })] }), false],
  ])('%s → %s', (_label, turn, expected) => {
    expect(needsFsync(turn)).toBe(expected)
  })
})

describe('processReady', () => {
  it('persists before sending, and the node votes for itself only after its own persist', () => {
    const events: string[] = []
    const replica = new Replica({ self: nodeId(1), members: [nodeId(1)], durable: { promised: ballotZero, entries: [] }, appliedIndex: slotZero, random: seededRandom(1) })
    replica.campaign()
    processReady(replica, {
      self: nodeId(1),
      atomically: (work, options) => {
        events.push(`begin durable=${options.durable}`)
        work()
        events.push('commit')
      },
      persist: (batch) => events.push(`persist promised=${batch.promised === null ? '-' : batch.promised.round} entries=${batch.entries.length}`),
      apply: (entries) => events.push(`apply ${entries.length}`),
      send: (envelopes) => events.push(`send ${envelopes.length}`),
      reads: () => {},
      dropped: () => {},
    })
    // A single-node cluster: its own promise must be durable before it counts and leads.
    expect(events.slice(0, 3)).toEqual(['begin durable=true', 'persist promised=1 entries=0', 'commit'])
    expect(replica.status().role).toBe('leader')
    expect(events.some((event) => event.startsWith('send'))).toBe(false)
  })
})
