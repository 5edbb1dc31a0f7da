/**
 * Goal: each claim of Lamport's "Paxos Made Simple" (2001) holds of this core, one test per
 * claim, in the spirit of etcd-io/raft's raft_paper_test.go: P1, P1a, P2, P2a, P2b, P2c, the
 * learner's rule, and the Multi-Paxos leader skipping Phase 1 for new slots.
 * Method: the real Replica, stepped through the production processReady: a lone replica fed
 * hand-made envelopes for the acceptor's and proposer's rules, the test Harness (memory
 * storage, a network the test controls, every envelope recorded) for the cluster claims.
 * Ballots are the paper's proposal numbers; a slot is one instance of single-decree Paxos.
 */
import { describe, expect, it } from 'vitest'
import { compareBallots, nodeId, slot, type Ballot, type Envelope, type NodeId, type PeerMessage, type Value } from '../../src/core/index.js'
import { Replica, seededRandom, slotZero } from '../../src/core/index.js'
import { processReady } from '../../src/node/process-ready.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import { Harness, put } from './harness.js'
import { type WriteCommand, kvCommands } from '../../src/kv/command.js'

const members = [nodeId(1), nodeId(2), nodeId(3)]
const b = (round: number, node: number): Ballot => ({ round, node: nodeId(node) })
const value = (name: string): Value<WriteCommand> => [{ type: 'put', proposal: name, key: name, value: '', cas: null, idempotency: null }]

/** Replica 1 of 3, alone: the test plays the other two nodes and sees everything it sends. */
class LoneReplica {
  readonly storage = new MemoryAcceptorStorage<WriteCommand>()
  readonly replica = new Replica<WriteCommand>({ commands: kvCommands, self: nodeId(1), members, durable: this.storage.load(), appliedIndex: slotZero, random: seededRandom(1) })
  sent: Envelope<WriteCommand>[] = []

  receive(from: number, message: PeerMessage<WriteCommand>): PeerMessage<WriteCommand>[] {
    this.replica.step({ from: nodeId(from), to: nodeId(1), message })
    return this.drain()
  }

  drain(): PeerMessage<WriteCommand>[] {
    const before = this.sent.length
    processReady(this.replica, {
      self: nodeId(1),
      atomically: (work) => work(),
      persist: (batch) => this.storage.persist(batch),
      apply: () => {},
      send: (envelopes) => this.sent.push(...envelopes),
      reads: () => {},
      dropped: () => {},
      fetchSnapshot: () => {},
      installSnapshot: () => {},
      takeSnapshot: () => {},
    })
    return this.sent.slice(before).map((envelope) => envelope.message)
  }

  accepted(at: number) {
    return this.storage.load().entries.find((entry) => entry.slot === at)
  }
}

/** Runs the harness for `ticks`, recording every envelope that was sent (delivered or not). */
function runRecording(harness: Harness, ticks: number, cut: ReadonlySet<NodeId> = new Set()): Envelope<WriteCommand>[] {
  const seen: Envelope<WriteCommand>[] = []
  for (let tick = 0; tick < ticks; tick += 1) {
    for (const replica of harness.replicas.values()) replica.tick()
    harness.process()
    for (let round = 0; round < 100 && harness.queue.length > 0; round += 1) {
      const batch = harness.queue
      harness.queue = []
      seen.push(...batch)
      for (const envelope of batch) {
        if (cut.has(envelope.to) || cut.has(envelope.from) || harness.down.has(envelope.to)) continue
        harness.replicas.get(envelope.to)?.step(envelope)
      }
      harness.process()
    }
  }
  return seen
}

function appliedValue(harness: Harness, id: NodeId, at: number): Value<WriteCommand> | undefined {
  return harness.applied.get(id)!.find((entry) => entry.slot === at)?.value
}

/** Makes `id` the leader by campaigning at once, with everyone reachable except `cut`. */
function elect(harness: Harness, id: NodeId, cut: ReadonlySet<NodeId> = new Set()): void {
  harness.replica(id).campaign()
  harness.process()
  harness.deliverAll(cut)
  expect(harness.replica(id).status().role).toBe('leader')
}

describe('Paxos Made Simple, claim by claim', () => {
  it('P1: an acceptor must accept the first proposal that it receives', () => {
    const lone = new LoneReplica()
    const replies = lone.receive(2, { type: 'accept', ballot: b(1, 2), firstSlot: slot(1), values: [value('v')], commitIndex: slotZero })
    expect(replies).toEqual([{ type: 'accepted', ballot: b(1, 2), firstSlot: 1, lastSlot: 1 }])
    expect(lone.accepted(1)).toMatchObject({ ballot: b(1, 2), value: value('v'), chosen: false })
  })

  it('P1a: an acceptor can accept a proposal numbered n iff it has not responded to a prepare numbered greater than n', () => {
    const lone = new LoneReplica()
    expect(lone.receive(3, { type: 'prepare', ballot: b(5, 3), fromSlot: slot(1) })).toMatchObject([{ type: 'promise', ballot: b(5, 3) }])
    const below = lone.receive(2, { type: 'accept', ballot: b(4, 2), firstSlot: slot(1), values: [value('low')], commitIndex: slotZero })
    expect(below).toEqual([{ type: 'reject', ballot: b(4, 2), promised: b(5, 3) }])
    expect(lone.accepted(1)).toBeUndefined()
    // Equal to the promise is not "greater than n": accepted. So is anything above it.
    expect(lone.receive(3, { type: 'accept', ballot: b(5, 3), firstSlot: slot(1), values: [value('at')], commitIndex: slotZero })).toMatchObject([{ type: 'accepted' }])
    expect(lone.receive(2, { type: 'accept', ballot: b(6, 2), firstSlot: slot(2), values: [value('above')], commitIndex: slotZero })).toMatchObject([{ type: 'accepted' }])
    // And a prepare below its promise gets no promise either (it could not keep it).
    expect(lone.receive(2, { type: 'prepare', ballot: b(5, 2), fromSlot: slot(1) })).toEqual([{ type: 'reject', ballot: b(5, 2), promised: b(6, 2) }])
  })

  it('P2c: a new proposal carries the value of the highest-numbered proposal a majority reported, or any value (a no-op) if none', () => {
    const lone = new LoneReplica()
    // Node 1's own acceptor accepted A at 1.2 in slot 1; then it promised 2.3.
    lone.receive(2, { type: 'accept', ballot: b(1, 2), firstSlot: slot(1), values: [value('A')], commitIndex: slotZero })
    lone.receive(3, { type: 'prepare', ballot: b(2, 3), fromSlot: slot(1) })
    lone.replica.campaign()
    const prepares = lone.drain().filter((message) => message.type === 'prepare')
    const ballot = (prepares[0] as Extract<PeerMessage<WriteCommand>, { type: 'prepare' }>).ballot
    expect(compareBallots(ballot, b(2, 3))).toBe(1)
    // S = {1, 3}: for slot 1, node 1 reports A at 1.2 and node 3 reports B at 2.3, the higher;
    // for slot 2 nobody reports anything; for slot 3, node 3 reports C.
    const accepts = lone.receive(3, {
      type: 'promise', ballot, fromSlot: slot(1),
      accepted: [{ slot: slot(1), ballot: b(2, 3), value: value('B'), chosen: false }, { slot: slot(3), ballot: b(2, 3), value: value('C'), chosen: false }],
      throughSlot: slot(3), more: false,
    }).filter((message) => message.type === 'accept')
    expect(lone.replica.status().role).toBe('leader')
    expect(accepts.length).toBeGreaterThan(0)
    for (const accept of accepts) {
      expect(accept).toMatchObject({ ballot, firstSlot: 1 })
      expect(accept.type === 'accept' && accept.values).toEqual([value('B'), [{ type: 'noop' }], value('C')])
    }
  })

  it('P2, P2a, P2b: once v is chosen, every higher-numbered proposal issued, accepted and chosen for that slot has value v', () => {
    const harness = new Harness(3, 11)
    const [first, second, third] = harness.ids as [NodeId, NodeId, NodeId]
    elect(harness, first)
    // v is chosen by {first, second} while third hears nothing.
    harness.replica(first).propose(put('k', 'v'))
    const before = runRecording(harness, 3, new Set([third]))
    const chosenSlot = before.find((envelope) => envelope.message.type === 'accept' && envelope.message.values.some((v) => v[0]?.type === 'put'))!
    const at = (chosenSlot.message as Extract<PeerMessage<WriteCommand>, { type: 'accept' }>).firstSlot
    const v = appliedValue(harness, first, at)
    expect(v?.[0]).toMatchObject({ type: 'put', key: 'k' })
    expect(appliedValue(harness, third, at)).toBeUndefined()
    // The leader dies; third, which never saw v, leads next with a higher ballot, from {second, third}.
    harness.crash(first)
    harness.replica(third).campaign()
    const after = runRecording(harness, 40)
    expect(harness.replica(third).status().role).toBe('leader')
    const higher = harness.replica(third).status().ballot
    const acceptsForSlot = after.filter((envelope) => envelope.message.type === 'accept' && envelope.from === third)
      .map((envelope) => envelope.message as Extract<PeerMessage<WriteCommand>, { type: 'accept' }>)
      .filter((accept) => accept.firstSlot <= at && at < accept.firstSlot + accept.values.length)
    expect(acceptsForSlot.length).toBeGreaterThan(0)
    for (const accept of acceptsForSlot) {
      expect(compareBallots(accept.ballot, b(1, first))).toBe(1)
      expect(accept.values[at - accept.firstSlot]).toEqual(v) // P2b: issued with v
    }
    // P2a: what the acceptors hold for that slot at the higher ballot is v.
    for (const id of [second, third]) {
      const entry = harness.storages.get(id)!.load().entries.find((candidate) => candidate.slot === at)!
      expect(entry.value).toEqual(v)
      expect(compareBallots(entry.ballot, higher) <= 0).toBe(true)
    }
    // P2: the value chosen again, at the higher ballot, is v on every live node.
    for (const id of [second, third]) expect(appliedValue(harness, id, at)).toEqual(v)
  })

  it("the learner's rule: a value is chosen once a majority of acceptors accepted it, not before", () => {
    const harness = new Harness(3, 5)
    const [leader, second, third] = harness.ids as [NodeId, NodeId, NodeId]
    elect(harness, leader)
    const appliedBefore = harness.applied.get(leader)!.length
    harness.replica(leader).propose(put('x', '1'))
    // Only the leader's own acceptor accepts: one of three is no majority.
    runRecording(harness, 4, new Set([second, third]))
    const own = harness.storages.get(leader)!.load().entries.filter((entry) => entry.slot > appliedBefore)
    expect(own.map((entry) => entry.value[0])).toMatchObject([{ type: 'put', key: 'x' }]) // accepted by one acceptor
    expect(harness.applied.get(leader)!.length).toBe(appliedBefore)
    expect(harness.replica(leader).status().commitIndex).toBe(appliedBefore)
    // One more acceptor's accepted makes a majority: now it is chosen, and applied.
    runRecording(harness, 4, new Set([third]))
    expect(harness.applied.get(leader)!.slice(appliedBefore).flatMap((entry) => entry.value).some((command) => command.type === 'put' && command.key === 'x')).toBe(true)
  })

  it('Multi-Paxos: a stable leader skips Phase 1 and sends only accepts for each new slot', () => {
    const harness = new Harness(3, 9)
    const [leader] = harness.ids as [NodeId]
    elect(harness, leader)
    const seen: Envelope<WriteCommand>[] = []
    for (let write = 0; write < 5; write += 1) {
      harness.replica(leader).propose(put(`m${write}`, 'v'))
      seen.push(...runRecording(harness, 2))
    }
    const types = new Set(seen.map((envelope) => envelope.message.type))
    expect(types.has('prepare')).toBe(false)
    expect(types.has('promise')).toBe(false)
    const newSlots = new Set(seen.filter((envelope) => envelope.message.type === 'accept').map((envelope) => (envelope.message as Extract<PeerMessage<WriteCommand>, { type: 'accept' }>).firstSlot))
    expect(newSlots.size).toBeGreaterThanOrEqual(5)
    for (const id of harness.ids) expect(harness.applied.get(id)!.flatMap((entry) => entry.value).filter((command) => command.type === 'put')).toHaveLength(5)
  })
})
