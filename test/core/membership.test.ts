/**
 * Membership in the log (Lamport's α scheme): table tests of which configuration governs which
 * slot, then scenarios on real replicas: grow with a learner, promote it, a learner's vote that
 * must not count, remove the leader, and one change at a time.
 */
import { describe, expect, it } from 'vitest'
import { configDelaySlots, nodeId, slot, slotZero, type ChosenConfig, type ConfigMember, type NodeId } from '../../src/core/index.js'
import { Configurations } from '../../src/core/configuration.js'
import { Harness, put } from './harness.js'

const member = (id: number, role: ConfigMember['role'] = 'voter'): ConfigMember => ({ id: nodeId(id), url: `node:${id}`, role })
const config = (at: number, ...members: ConfigMember[]): ChosenConfig => ({ slot: slot(at), members })
const ids = (members: Iterable<NodeId>) => [...members].map(Number)

describe('Configurations', () => {
  const bootstrap = config(0, member(1), member(2), member(3))
  const grown = config(10, member(1), member(2), member(3), member(4, 'learner'))

  it('a configuration chosen in slot s governs from s + α; the bootstrap one from slot 1', () => {
    const configs = new Configurations([bootstrap, grown])
    expect(configs.at(slot(1)).chosenIn).toBe(0)
    expect(configs.at(slot(10 + configDelaySlots - 1)).chosenIn).toBe(0)
    expect(configs.at(slot(10 + configDelaySlots)).chosenIn).toBe(10)
    expect(ids(configs.at(slot(10 + configDelaySlots)).voters)).toEqual([1, 2, 3])
    expect(configs.at(slot(10 + configDelaySlots)).isMember(nodeId(4))).toBe(true)
  })

  it('lists every configuration still to govern a slot, and their members, for quorums and sends', () => {
    const configs = new Configurations([bootstrap, grown])
    expect(configs.from(slot(5)).map((c) => c.chosenIn)).toEqual([0, 10])
    expect(configs.from(slot(10 + configDelaySlots)).map((c) => c.chosenIn)).toEqual([10])
    expect(configs.membersFrom(slot(5)).map(Number)).toEqual([1, 2, 3, 4])
  })

  it('forgets only what no slot after the commit index can be governed by', () => {
    const configs = new Configurations([bootstrap, grown])
    configs.prune(slot(10 + configDelaySlots - 2))
    expect(configs.list().map((c) => c.slot)).toEqual([0, 10])
    configs.prune(slot(10 + configDelaySlots - 1))
    expect(configs.list().map((c) => c.slot)).toEqual([10])
  })

  it('counts a quorum among voters only: a learner is no vote', () => {
    const configs = new Configurations([grown])
    const governing = configs.at(slot(10 + configDelaySlots))
    expect(governing.hasQuorum([nodeId(1), nodeId(4)])).toBe(false)
    expect(governing.hasQuorum([nodeId(1), nodeId(2)])).toBe(true)
  })

  it('refuses a configuration without a voter, with a repeated id or a shared URL', () => {
    expect(() => new Configurations([config(0, member(1, 'learner'))])).toThrow(/no voter/)
    expect(() => new Configurations([config(0, member(1), member(1))])).toThrow(/twice/)
    expect(() => new Configurations([config(0, member(1), { ...member(2), url: 'node:1' })])).toThrow(/share a URL/)
  })
})

/** Elects node 1 and writes `count` keys through it. */
function electedCluster(count = 3): Harness {
  const cluster = new Harness(count)
  cluster.replica(nodeId(1)).campaign()
  cluster.process()
  cluster.deliverAll()
  expect(cluster.leader()).toBe(nodeId(1))
  return cluster
}

/** A write through `leader`, and a few ticks for the followers to hear it is chosen. */
function write(cluster: Harness, leader: NodeId, key: string): void {
  expect(cluster.replica(leader).propose(put(key, key)).type).toBe('proposed')
  cluster.process()
  cluster.deliverAll()
  cluster.run(3)
}

function chosenConfigs(cluster: Harness, node: NodeId): number[] {
  return cluster.events.filter((entry) => entry.node === node && entry.event.type === 'config-chosen').map((entry) => (entry.event as { slot: number }).slot)
}

function appliedKeys(cluster: Harness, node: NodeId): string[] {
  return cluster.applied.get(node)!.flatMap((entry) => entry.value.flatMap((command) => (command.type === 'put' ? [command.key] : [])))
}

describe('reconfiguration on real replicas', () => {
  it('adds a learner that catches up and never campaigns, then promotes it to a voter whose vote counts', () => {
    const cluster = electedCluster()
    const leader = nodeId(1)
    write(cluster, leader, 'before')
    const withLearner = [member(1), member(2), member(3), member(4, 'learner')]
    expect(cluster.replica(leader).proposeConfig(withLearner)).toEqual({ type: 'proposed' })
    cluster.process()
    cluster.deliverAll()
    const configSlot = chosenConfigs(cluster, leader)[0]!
    expect(configSlot).toBeGreaterThan(0)
    // The leader pads the α slots with noops, so the change is in force without waiting for writes.
    expect(cluster.replica(leader).membership()).toEqual({ configSlot, members: withLearner, inForce: true })
    cluster.join(nodeId(4), [config(0, ...withLearner)])
    cluster.run(40)
    write(cluster, leader, 'after')
    expect(appliedKeys(cluster, nodeId(4))).toEqual(['before', 'after'])
    expect(cluster.events.some((entry) => entry.node === nodeId(4) && entry.event.type === 'became-candidate')).toBe(false)
    expect(cluster.replica(leader).caughtUp(nodeId(4))).toBe(true)

    const promoted = [member(1), member(2), member(3), member(4)]
    expect(cluster.replica(leader).proposeConfig(promoted).type).toBe('proposed')
    cluster.process()
    cluster.deliverAll()
    cluster.run(5)
    expect(cluster.replica(nodeId(4)).membership().members).toEqual(promoted)
    // Four voters need three votes: with 2 and 3 cut off, 1 and 4 choose nothing...
    const cut = new Set([nodeId(2), nodeId(3)])
    const appliedBefore = cluster.applied.get(leader)!.length
    expect(cluster.replica(leader).propose(put('needs-three', 'x')).type).toBe('proposed')
    cluster.process()
    cluster.deliverAll(cut)
    expect(cluster.applied.get(leader)!.length).toBe(appliedBefore)
    // ...and with 3 back, node 4's vote is one of the three.
    cluster.run(3, new Set([nodeId(2)]))
    expect(appliedKeys(cluster, leader)).toContain('needs-three')
    const receipt = cluster.events.filter((entry) => entry.node === leader && entry.event.type === 'slots-chosen').at(-1)!.event as { quorum: readonly NodeId[] }
    expect(ids(receipt.quorum)).toEqual([1, 3, 4])
  })

  it('never counts a learner toward a quorum', () => {
    const cluster = electedCluster()
    const leader = nodeId(1)
    expect(cluster.replica(leader).proposeConfig([member(1), member(2), member(3), member(4, 'learner')]).type).toBe('proposed')
    cluster.process()
    cluster.deliverAll()
    cluster.join(nodeId(4), [config(0, member(1), member(2), member(3), member(4, 'learner'))])
    cluster.run(20)
    const appliedBefore = cluster.applied.get(leader)!.length
    expect(cluster.replica(leader).propose(put('k', 'v')).type).toBe('proposed')
    cluster.process()
    // Only the leader and the learner vote: one voter of three.
    cluster.deliverAll(new Set([nodeId(2), nodeId(3)]))
    expect(cluster.applied.get(leader)!.length).toBe(appliedBefore)
    expect(cluster.applied.get(nodeId(4))!.some((entry) => entry.value.some((command) => command.type === 'put' && command.key === 'k'))).toBe(false)
  })

  it('removes the leader: it steps down once the change is in force, and a remaining voter takes over with every write', () => {
    const cluster = electedCluster()
    const leader = nodeId(1)
    write(cluster, leader, 'one')
    expect(cluster.replica(leader).proposeConfig([member(2), member(3)]).type).toBe('proposed')
    cluster.process()
    cluster.deliverAll()
    cluster.run(60)
    const stepDown = cluster.events.find((entry) => entry.node === leader && entry.event.type === 'became-follower')
    expect(stepDown?.event).toMatchObject({ reason: 'removed from the configuration' })
    const next = cluster.leader()
    expect(next === nodeId(2) || next === nodeId(3)).toBe(true)
    write(cluster, next!, 'two')
    for (const node of [nodeId(2), nodeId(3)]) expect(appliedKeys(cluster, node)).toEqual(['one', 'two'])
    // The removed node never campaigns again, and the others refuse its elections.
    cluster.run(60)
    expect(cluster.leader()).toBe(next)
    expect(cluster.events.filter((entry) => entry.node === leader && entry.event.type === 'became-candidate')).toHaveLength(1)
  })

  it('one change at a time: a second proposal while one is under way is refused', () => {
    const cluster = electedCluster()
    const leader = nodeId(1)
    expect(cluster.replica(leader).proposeConfig([member(1), member(2), member(3), member(4, 'learner')]).type).toBe('proposed')
    expect(cluster.replica(leader).proposeConfig([member(1), member(2)])).toEqual({ type: 'change_in_progress' })
    expect(cluster.replica(nodeId(2)).proposeConfig([member(1), member(2)])).toMatchObject({ type: 'not_leader' })
    expect(cluster.replica(leader).proposeConfig([member(1, 'learner')])).toEqual({ type: 'invalid', reason: 'no voter' })
  })

  it('a candidate needs a quorum of every configuration a report carries (the change below its commit index)', () => {
    const cluster = electedCluster()
    const leader = nodeId(1)
    // Grow to five voters: 1..3 accept the entry, but only the leader learns it is chosen.
    const five = [member(1), member(2), member(3), member(4), member(5)]
    expect(cluster.replica(leader).proposeConfig(five).type).toBe('proposed')
    cluster.process()
    cluster.deliverAll()
    cluster.join(nodeId(4), [config(0, ...five)])
    cluster.join(nodeId(5), [config(0, ...five)])
    cluster.run(10)
    expect(cluster.replica(nodeId(2)).membership().members).toEqual(five)
    // The leader dies; 2 and 3 alone are not a majority of five: no one may lead.
    cluster.crash(leader)
    cluster.run(200, new Set([nodeId(4), nodeId(5)]))
    expect(cluster.leader()).toBeNull()
    // With 4 back there is a majority of the five voters.
    cluster.run(200, new Set([nodeId(5)]))
    expect(cluster.leader()).not.toBeNull()
    expect(slotZero).toBe(0)
  })
})
