/**
 * Goal: processReady orders effects: a turn commits, messages that carry no acceptor state leave
 * at once, and an acceptor's replies and the node's own votes wait until the disk has the turn.
 * Method: recording ports (with a held whenSynced) around real Replicas; which messages wait is
 * the core's answer (Ready.messagesAfterPersist, test/core/outputs.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, nodeId, Replica, seededRandom, slot, slotZero } from '../../src/core/index.js'
import { processReady, type ReadyPorts } from '../../src/node/process-ready.js'
import { kvCommands, type WriteCommand } from '../../src/kv/command.js'

const ballot = { round: 1, node: nodeId(1) }

/** Ports that record what happens, and hold whenSynced releases until `sync()`. */
function recordingPorts(self: number) {
  const events: string[] = []
  const waiting: Array<() => void> = []
  const ports: ReadyPorts = {
    self: nodeId(self),
    atomically: (work) => {
      work()
      events.push('commit')
    },
    whenSynced: (release) => {
      events.push('wait for disk')
      waiting.push(release)
    },
    persist: (batch) => events.push(`persist promised=${batch.promised === null ? '-' : batch.promised.round} entries=${batch.entries.length}`),
    apply: (entries) => events.push(`apply ${entries.length}`),
    send: (envelopes) => events.push(`send ${envelopes.map((envelope) => `${envelope.message.type}→${envelope.to}`).join(',')}`),
    reads: () => {},
    dropped: () => {},
    fetchSnapshot: () => {},
    installSnapshot: () => {},
    takeSnapshot: () => {},
  }
  const sync = (): void => {
    events.push('synced')
    for (const release of waiting.splice(0)) release()
  }
  return { events, ports, sync }
}

describe('processReady', () => {
  it('a candidate counts its own promise only after the disk has it, and leads only then', () => {
    const replica = new Replica<WriteCommand>({ commands: kvCommands, self: nodeId(1), members: [nodeId(1)], durable: { promised: ballotZero, entries: [] }, appliedIndex: slotZero, random: seededRandom(1) })
    const { events, ports, sync } = recordingPorts(1)
    replica.campaign()
    processReady(replica, ports) // its prepare to itself is stepped at once: a promise to persist
    expect(events).toEqual(['persist promised=1 entries=0', 'commit', 'wait for disk'])
    expect(replica.status().role).toBe('candidate')
    sync() // its promise comes back: a quorum of one
    processReady(replica, ports)
    expect(replica.status().role).toBe('leader')
  })

  it('a candidate with a quorum of peers\' promises still waits for its own (a ballot is never reused after a crash)', () => {
    const members = [nodeId(1), nodeId(2), nodeId(3), nodeId(4), nodeId(5)]
    const replica = new Replica<WriteCommand>({ commands: kvCommands, self: nodeId(1), members, durable: { promised: ballotZero, entries: [] }, appliedIndex: slotZero, random: seededRandom(1) })
    const { events, ports, sync } = recordingPorts(1)
    replica.campaign()
    processReady(replica, ports) // its own promise is committed, not yet synced
    for (const peer of [2, 3, 4]) replica.step({ from: nodeId(peer), to: nodeId(1), message: { type: 'promise', ballot, fromSlot: slot(1), accepted: [], throughSlot: slot(0), more: false } })
    processReady(replica, ports)
    expect(replica.status().role).toBe('candidate')
    expect(events.some((event) => event.includes('accept→'))).toBe(false)
    sync()
    processReady(replica, ports)
    expect(replica.status().role).toBe('leader')
  })

  it('an acceptor commits an accept at once but answers only after the sync', () => {
    const replica = new Replica<WriteCommand>({ commands: kvCommands, self: nodeId(2), members: [nodeId(1), nodeId(2), nodeId(3)], durable: { promised: ballotZero, entries: [] }, appliedIndex: slotZero, random: seededRandom(1) })
    const { events, ports, sync } = recordingPorts(2)
    replica.step({ from: nodeId(1), to: nodeId(2), message: { type: 'accept', ballot, firstSlot: slot(1), values: [[{ type: 'noop' }]], commitIndex: slotZero } })
    processReady(replica, ports)
    expect(events).toEqual(['persist promised=1 entries=1', 'commit', 'wait for disk'])
    sync()
    expect(events.slice(3)).toEqual(['synced', 'send accepted→1'])
  })

  it('a leader\'s accepts leave at once; its own vote waits for its disk', () => {
    const replica = new Replica<WriteCommand>({ commands: kvCommands, self: nodeId(1), members: [nodeId(1), nodeId(2), nodeId(3)], durable: { promised: ballotZero, entries: [] }, appliedIndex: slotZero, random: seededRandom(1) })
    const { events, ports, sync } = recordingPorts(1)
    replica.campaign()
    processReady(replica, ports)
    expect(events).toEqual(['send prepare→2,prepare→3', 'persist promised=1 entries=0', 'commit', 'wait for disk'])
    sync() // its own promise
    replica.step({ from: nodeId(2), to: nodeId(1), message: { type: 'promise', ballot, fromSlot: slot(1), accepted: [], throughSlot: slot(0), more: false } })
    processReady(replica, ports)
    expect(replica.status().role).toBe('leader')
    events.length = 0
    expect(replica.propose({ type: 'put', proposal: 'p1', key: 'k', value: 'dg==', cas: null, idempotency: null })).toEqual({ type: 'proposed' })
    processReady(replica, ports)
    expect(events).toEqual(['send accept→2,accept→3', 'persist promised=- entries=1', 'commit', 'wait for disk'])
  })
})
