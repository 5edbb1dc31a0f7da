/**
 * Goal: the composed Replica elects one leader, replicates batches to every node in order,
 * survives leader failure, catches up a restarted node and serves read-index reads.
 * Method: the small Harness (real Replicas + processReady + memory storage), perfect delivery
 * except for the nodes a test cuts off.
 */
import { describe, expect, it } from 'vitest'
import { limits, nodeId, type NodeId } from '../../src/core/index.js'
import { Harness, put } from './harness.js'

function appliedCommands(harness: Harness, id: number): string[] {
  return (harness.applied.get(nodeId(id)) ?? []).flatMap((entry) =>
    entry.value.map((command) => (command.type === 'put' ? command.proposal : command.type)),
  )
}

describe('Replica', () => {
  it('elects exactly one leader and replicates a batch to all nodes', () => {
    const harness = new Harness(3)
    harness.run(60)
    const leader = harness.leader()
    expect(leader).not.toBeNull()
    const replica = harness.replica(leader!)
    const commands = [put('a', '1'), put('b', '2'), put('c', '3')]
    for (const command of commands) expect(replica.propose(command)).toEqual({ type: 'proposed' })
    harness.run(10)
    for (const id of [1, 2, 3]) {
      expect(appliedCommands(harness, id).filter((name) => name.startsWith('t-'))).toEqual(commands.map((c) => c.proposal))
    }
    // One turn's proposals ride in one slot.
    const slotsWithPuts = harness.applied.get(leader!)!.filter((entry) => entry.value[0]?.type === 'put')
    expect(slotsWithPuts).toHaveLength(1)
  })

  it('a follower refuses proposals and names the leader', () => {
    const harness = new Harness(3)
    harness.run(60)
    const leader = harness.leader()!
    const follower = harness.ids.find((id) => id !== leader)!
    harness.run(5)
    expect(harness.replica(follower).propose(put('x', 'y'))).toEqual({ type: 'not_leader', leader })
  })

  it('a new leader takes over after the leader crashes and keeps chosen values', () => {
    const harness = new Harness(3, 7)
    harness.run(60)
    const first = harness.leader()!
    const command = put('k', 'v')
    harness.replica(first).propose(command)
    harness.run(5)
    harness.crash(first)
    harness.run(120)
    const second = harness.leader()
    expect(second).not.toBeNull()
    expect(second).not.toBe(first)
    harness.replica(second!).propose(put('k', 'w'))
    harness.run(10)
    const survivors = harness.ids.filter((id) => id !== first)
    const logs = survivors.map((id) => appliedCommands(harness, id))
    expect(logs[0]).toEqual(logs[1])
    expect(logs[0]).toContain(command.proposal)
  })

  it('a restarted node catches up on everything it missed', () => {
    const harness = new Harness(3, 3)
    harness.run(60)
    const leader = harness.leader()!
    const lagging = harness.ids.find((id) => id !== leader)!
    harness.crash(lagging)
    for (let round = 0; round < 20; round += 1) {
      harness.replica(leader).propose(put(`k${round}`, 'v'))
      harness.run(2)
    }
    harness.start(lagging)
    harness.run(60)
    expect(appliedCommands(harness, lagging)).toEqual(appliedCommands(harness, leader))
    expect(harness.replica(lagging).status().commitIndex).toBe(harness.replica(leader).status().commitIndex)
  })

  it('serves a read only after a quorum confirms the ballot, and fails it on a cut-off leader', () => {
    const harness = new Harness(3, 5)
    harness.run(60)
    const leader = harness.leader()!
    expect(harness.replica(leader).read(1)).toEqual({ type: 'reading' })
    harness.run(3)
    expect(harness.reads.get(leader)).toEqual([{ id: 1, type: 'ready' }])
    const isolated = new Set([leader])
    expect(harness.replica(leader).read(2)).toEqual({ type: 'reading' })
    harness.run(10, isolated)
    expect(harness.reads.get(leader)).toEqual([{ id: 1, type: 'ready' }])
    // Within two check-quorum periods the isolated leader notices it lost its quorum, steps
    // down and fails the pending read.
    harness.run(2 * limits.checkQuorumTicks, isolated)
    expect(harness.reads.get(leader)).toEqual([{ id: 1, type: 'ready' }, { id: 2, type: 'not_leader' }])
  })

  it('a cut-off leader that keeps proposing steps down all the same: its own votes count once', () => {
    // Three members, quorum two: the leader's own acceptor answers each accept it sends itself,
    // and it must not count as a second member heard from (it kept a cut-off leader of a
    // three-node cluster leading for as long as it proposed, such as its lease epoch marker).
    const harness = new Harness(3, 5)
    harness.run(60)
    const leader = harness.leader()!
    const replica = harness.replica(leader)
    for (let tick = 0; tick < 2 * limits.checkQuorumTicks && replica.status().role === 'leader'; tick += 1) {
      if (tick % 3 === 0) replica.propose(put(`k${tick}`, 'v'))
      for (const each of harness.replicas.values()) each.tick()
      harness.process()
      // Only what the leader sends itself gets through (its own votes); the peers hear nothing.
      for (let round = 0; round < 10; round += 1) {
        const own = harness.queue.filter((envelope) => envelope.from === leader && envelope.to === leader)
        harness.queue = []
        for (const envelope of own) replica.step(envelope)
        harness.process()
      }
    }
    expect(replica.status().role).toBe('follower')
    expect(harness.events).toContainEqual({ node: leader, event: expect.objectContaining({ type: 'became-follower', reason: 'lost contact with a quorum' }) })
  })

  it('answers overloaded once the pipeline and the bounded queue are full, and never grows past them', () => {
    const harness = new Harness(3, 11)
    harness.run(60)
    const leader = harness.leader()!
    const replica = harness.replica(leader)
    let proposed = 0
    let overloaded = 0
    for (let index = 0; index < limits.queuedCommandsMax + limits.pipelineSlotsMax * limits.batchCommandsMax + 10; index += 1) {
      const result = replica.propose(put(`k${index}`, 'v'))
      if (result.type === 'proposed') proposed += 1
      if (result.type === 'overloaded') overloaded += 1
      if (index % 1000 === 0) {
        // A turn moves queued commands into the window; no tick, so the leader keeps leading,
        // and nothing is delivered, so no slot is ever chosen.
        harness.process()
        harness.queue = []
      }
    }
    expect(replica.status().role).toBe('leader')
    expect(overloaded).toBeGreaterThan(0)
    expect(proposed).toBeLessThanOrEqual(limits.queuedCommandsMax + limits.pipelineSlotsMax * limits.batchCommandsMax)
  })

  it('reports, on the leader, how many slots each peer has not acknowledged', () => {
    const harness = new Harness(3, 13)
    harness.run(60)
    const leader = harness.leader()!
    const [reachable, cutOff] = harness.ids.filter((id) => id !== leader) as [NodeId, NodeId]
    for (let round = 0; round < 3; round += 1) {
      harness.replica(leader).propose(put(`lag${round}`, 'v'))
      harness.run(1, new Set([cutOff]))
    }
    const lag = harness.replica(leader).peerLag()
    expect(lag.get(reachable)).toBe(0)
    expect(lag.get(cutOff)).toBe(3)
    expect(harness.replica(reachable).peerLag().size).toBe(0)
  })
})
