/**
 * Goal: a node that was cut off, or is far behind, never deposes a live leader, and the cluster
 * still elects a new leader once the old one is really gone.
 * Method: the voter's rule as a table; then the small Harness (real Replicas, perfect delivery
 * except for what a test cuts). The disruption test runs twice: as built, and with every voter
 * forced to say yes (a broken peer injected by the test), which must make the same check fail.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, limits, nodeId, slot, type Ballot, type NodeId } from '../../src/core/index.js'
import { grantsPreVote, type VoterView } from '../../src/core/pre-vote.js'
import { Harness, put } from './harness.js'

const ballot: Ballot = { round: 4, node: nodeId(3) }
const request = { type: 'pre-vote', ballot, commitIndex: slot(10) } as const
const quiet: VoterView = { isLeader: false, ticksSinceLeader: null, electionTimeoutTicks: 15, commitIndex: slot(10) }

describe('grantsPreVote', () => {
  it.each<[string, Partial<VoterView>, boolean]>([
    ['a member that has heard no leader since it started', {}, true],
    ['a member whose leader went quiet for an election timeout', { ticksSinceLeader: 15 }, true],
    ['a member that heard its leader one tick short of the timeout', { ticksSinceLeader: 14 }, false],
    ['a member that just heard its leader', { ticksSinceLeader: 0 }, false],
    ['the leader itself', { isLeader: true }, false],
    ['a member that knows of more chosen slots than the asker', { commitIndex: slot(11) }, false],
    ['a member behind the asker', { commitIndex: slot(3) }, true],
  ])('%s: %s', (_label, view, granted) => {
    expect(grantsPreVote({ ...quiet, ...view }, request)).toBe(granted)
  })
})

function elected(harness: Harness): NodeId {
  harness.run(60)
  const leader = harness.leader()
  expect(leader).not.toBeNull()
  return leader!
}

function campaignsSince(harness: Harness, from: number): string[] {
  return harness.events.slice(from).filter(({ event }) => event.type === 'became-candidate').map(({ node }) => `node ${node}`)
}

type RunTick = (harness: Harness, cut: ReadonlySet<NodeId>) => void

const asBuilt: RunTick = (harness, cut) => harness.run(1, cut)

/**
 * No pre-vote protection: every pre-vote is answered yes by each member at once, reached or
 * not, as if the node skipped the question and went straight to Phase 1 (the old behaviour).
 * Pre-votes only leave on a tick, so after the tick's turn the queue holds all of them.
 */
const answeredYesUnasked: RunTick = (harness, cut) => {
  for (const replica of harness.replicas.values()) replica.tick()
  harness.process()
  for (let round = 0; round < 10; round += 1) {
    const asked = harness.queue.filter((envelope) => envelope.message.type === 'pre-vote')
    if (asked.length === 0) break
    harness.queue = harness.queue.filter((envelope) => envelope.message.type !== 'pre-vote')
    for (const { from, to, message } of asked) {
      if (message.type !== 'pre-vote') continue
      const reply = { type: 'pre-vote-reply', ballot: message.ballot, granted: true, promised: ballotZero } as const
      harness.replicas.get(from)?.step({ from: to, to: from, message: reply })
    }
    harness.process()
  }
  harness.deliverAll(cut)
}

/** A follower is cut off for several election timeouts while the leader takes writes, then heals. */
function partitionAndHeal(harness: Harness, runTick: RunTick): { leader: NodeId; cutOff: NodeId; campaigns: string[]; ballots: Ballot[] } {
  const leader = elected(harness)
  const cutOff = harness.ids.find((id) => id !== leader)!
  const before = harness.events.length
  const ballots = harness.ids.map((id) => harness.replica(id).status().ballot)
  for (let round = 0; round < 5 * limits.electionTimeoutTicks; round += 1) {
    if (round % 5 === 0) harness.replica(leader).propose(put(`k${round}`, 'v'))
    runTick(harness, new Set([cutOff]))
  }
  for (let round = 0; round < 10 * limits.electionTimeoutTicks; round += 1) runTick(harness, new Set())
  return { leader, cutOff, campaigns: campaignsSince(harness, before), ballots }
}

describe('pre-vote', () => {
  it('a partitioned-then-healed follower does not depose the leader, and catches up', () => {
    const harness = new Harness(3, 21)
    const { leader, cutOff, campaigns, ballots } = partitionAndHeal(harness, asBuilt)
    // It asked while cut off, and nobody raised a ballot: not it, not the others after the heal.
    expect(harness.events.some(({ node, event }) => node === cutOff && event.type === 'pre-vote-started')).toBe(true)
    expect(campaigns).toEqual([])
    expect(harness.ids.map((id) => harness.replica(id).status().ballot)).toEqual(ballots)
    expect(harness.leader()).toBe(leader)
    expect(harness.replica(cutOff).status().commitIndex).toBe(harness.replica(leader).status().commitIndex)
  })

  it('the same check fails without pre-vote protection', () => {
    const harness = new Harness(3, 21)
    const { leader, cutOff, campaigns } = partitionAndHeal(harness, answeredYesUnasked)
    expect(campaigns).toContain(`node ${cutOff}`)
    expect(harness.leader()).not.toBe(leader)
  })

  it('elects a new leader once the leader is really gone', () => {
    const harness = new Harness(5, 9)
    const first = elected(harness)
    harness.crash(first)
    const before = harness.events.length
    harness.run(4 * limits.electionTimeoutTicks)
    const second = harness.leader()
    expect(second).not.toBeNull()
    expect(second).not.toBe(first)
    expect(campaignsSince(harness, before).length).toBeGreaterThan(0)
  })

  it('a node far behind is refused by one ahead of it, which leads instead', () => {
    const harness = new Harness(3, 4)
    const first = elected(harness)
    const [ahead, behind] = harness.ids.filter((id) => id !== first) as [NodeId, NodeId]
    harness.crash(behind)
    for (let round = 0; round < 10; round += 1) {
      harness.replica(first).propose(put(`k${round}`, 'v'))
      harness.run(2)
    }
    harness.crash(first)
    // `ahead` stops hearing a leader; then `behind` comes back and is the first to ask.
    const tickOnly = (id: NodeId, ticks: number): void => {
      for (let tick = 0; tick < ticks; tick += 1) {
        harness.replica(id).tick()
        harness.process()
        harness.deliverAll()
      }
    }
    tickOnly(ahead, limits.electionTimeoutTicks)
    harness.start(behind)
    const before = harness.events.length
    tickOnly(behind, 2 * limits.electionTimeoutTicks)
    harness.run(6 * limits.electionTimeoutTicks)
    expect(harness.leader()).toBe(ahead)
    const leadership = harness.events.slice(before).filter(({ event }) => event.type === 'became-leader').map(({ node }) => node)
    expect(leadership).toEqual([ahead])
    const asked = harness.events.slice(before).filter(({ node }) => node === behind).map(({ event }) => event.type)
    expect(asked).toContain('pre-vote-started')
    expect(asked).not.toContain('became-candidate')
    expect(harness.replica(behind).status().commitIndex).toBe(harness.replica(ahead).status().commitIndex)
  })

  it('an explicit campaign skips the pre-vote (operator transfer, dueling proposers in the simulator)', () => {
    const harness = new Harness(3, 2)
    const leader = elected(harness)
    const other = harness.ids.find((id) => id !== leader)!
    harness.replica(other).campaign()
    harness.run(5)
    expect(harness.leader()).toBe(other)
  })
})
