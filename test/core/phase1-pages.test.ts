/**
 * Goal: a candidate reads each acceptor's Phase 1 report page by page and leads only once a
 * quorum's reports (its own included) are complete; an unfinished report never counts as
 * "nothing accepted"; duplicated, reordered and stale pages change nothing; and a node that
 * missed every write can still be elected, paging through a long report of large values,
 * and recovers every chosen value.
 * Method: a Replica stepped with hand-made pages; then the Harness with shrunken byte limits.
 */
import { describe, expect, it } from 'vitest'
import { MessageSizes, nodeId, noopValue, Replica, seededRandom, slot, slotZero, type ByteLimits, type Envelope, type LogEntry, type PromiseMessage, type Value } from '../../src/core/index.js'
import { processReady } from '../../src/node/process-ready.js'
import { Harness, put } from './harness.js'
import { type WriteCommand, kvCommands } from '../../src/kv/command.js'

const value = (name: string): Value<WriteCommand> => [{ type: 'put', proposal: name, key: 'k', value: '', cas: null, idempotency: null }]
const old = { round: 1, node: nodeId(2) }
const entry = (at: number, name: string): LogEntry<WriteCommand> => ({ slot: slot(at), ballot: old, value: value(name), chosen: false })

function candidate(): { replica: Replica<WriteCommand>; sent: Envelope<WriteCommand>[]; drain: () => Envelope<WriteCommand>[] } {
  const replica = new Replica<WriteCommand>({ commands: kvCommands, self: nodeId(1), members: [nodeId(1), nodeId(2), nodeId(3)], durable: { promised: old, entries: [] }, appliedIndex: slotZero, random: seededRandom(1) })
  const sent: Envelope<WriteCommand>[] = []
  const drain = (): Envelope<WriteCommand>[] => {
    const before = sent.length
    processReady(replica, {
      self: nodeId(1), atomically: (work) => work(), persist: () => {}, apply: () => {}, reads: () => {}, dropped: () => {}, fetchSnapshot: () => {}, installSnapshot: () => {}, takeSnapshot: () => {},
      send: (envelopes) => sent.push(...envelopes),
    })
    return sent.slice(before)
  }
  return { replica, sent, drain }
}

describe('Phase 1 in pages', () => {
  it('asks for the next page, ignores repeats and strays, and leads only on complete reports', () => {
    const { replica, drain } = candidate()
    replica.campaign()
    drain()
    expect(replica.status().role).toBe('candidate')
    const ballot = replica.status().ballot
    const page = (fromSlot: number, accepted: LogEntry<WriteCommand>[], throughSlot: number, more: boolean): Envelope<WriteCommand> => ({
      from: nodeId(2), to: nodeId(1), message: { type: 'promise', ballot, fromSlot: slot(fromSlot), accepted, throughSlot: slot(throughSlot), more } satisfies PromiseMessage<WriteCommand>,
    })
    replica.step(page(1, [entry(1, 'a'), entry(2, 'b')], 2, true))
    expect(drain().map((envelope) => [envelope.to, envelope.message])).toEqual([[2, { type: 'prepare', ballot, fromSlot: 3 }]])
    // Its own report is complete and node 2's is not: no quorum of complete reports yet.
    expect(replica.status().role).toBe('candidate')
    replica.step(page(1, [entry(1, 'a'), entry(2, 'b')], 2, true)) // a duplicate
    replica.step(page(5, [], 4, false)) // a page nobody asked for
    expect(drain()).toEqual([])
    expect(replica.status().role).toBe('candidate')
    replica.step(page(3, [entry(4, 'd')], 4, false))
    expect(replica.status().role).toBe('leader')
    const accepts = drain().filter((envelope) => envelope.to === nodeId(2) && envelope.message.type === 'accept')
    expect(accepts.flatMap((envelope) => (envelope.message.type === 'accept' ? envelope.message.values : []))).toEqual([value('a'), value('b'), noopValue, value('d')])
  })

  it('a node that missed everything is elected through paged reports of large values and recovers every write', () => {
    // A page holds about two of these values: 30 slots take some 15 pages.
    const bytes: ByteLimits = { batchBytesMax: 2500, messageBytesMax: 2500 * 2 + 1000, pipelineBytesMax: 2500 * 4, queuedBytesMax: 2500 * 8, frameBytesMax: 8000 }
    const harness = new Harness(3, 7, bytes)
    const isolated = new Set([nodeId(3)])
    harness.run(60, isolated)
    const leader = harness.leader()!
    expect(leader).not.toBe(nodeId(3))
    for (let index = 0; index < 30; index += 1) {
      expect(harness.replica(leader).propose(put(`k${index}`, 'v'.repeat(1500)))).toEqual({ type: 'proposed' })
      harness.run(1, isolated)
    }
    harness.run(20, isolated)
    const written = harness.applied.get(leader)!.filter((item) => item.value[0]?.type === 'put').length
    expect(written).toBeGreaterThan(10)
    harness.crash(leader)
    const sentBefore = harness.sent.length
    harness.replica(nodeId(3)).campaign()
    harness.run(80, new Set([leader]))
    expect(harness.leader()).toBe(nodeId(3))
    const campaign = harness.sent.slice(sentBefore)
    const pageRequests = campaign.filter((envelope) => envelope.from === nodeId(3) && envelope.message.type === 'prepare' && envelope.message.fromSlot > 1)
    expect(pageRequests.length).toBeGreaterThan(5)
    for (const { message } of campaign) {
      if (message.type === 'promise' || message.type === 'accept' || message.type === 'chosen') expect(new MessageSizes(kvCommands).messageBytes(message)).toBeLessThanOrEqual(bytes.messageBytesMax)
    }
    const proposals = (id: number) => harness.applied.get(nodeId(id))!.flatMap((item) => item.value.map((command) => (command.type === 'put' ? command.proposal : '')))
    const before = harness.applied.get(leader)!.flatMap((item) => item.value.map((command) => (command.type === 'put' ? command.proposal : '')))
    expect(proposals(3).slice(0, before.length)).toEqual(before)
  })
})
