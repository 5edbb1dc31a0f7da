/**
 * Goal: a node far behind catches up in pipelined chunks: several catch-up requests in flight
 * (never more than catchUpRequestsMax), each answer making room for the next, and it applies
 * every slot it missed in order. A lost answer is asked for again after the catch-up timeout.
 * Method: the small Harness; the test delivers the queue round by round (one round is one trip
 * across the network) and looks at what is in flight between rounds.
 */
import { describe, expect, it } from 'vitest'
import { limits, type Envelope, type NodeId } from '../../src/core/index.js'
import { Harness, put } from './harness.js'
import type { WriteCommand } from '../../src/kv/command.js'

const slotsBehind = 3 * limits.catchUpRequestsMax * limits.catchUpSlotsMax + 100

/** A leader, and a follower that was down while `slotsBehind` slots were chosen, restarted. */
function lagging(seed: number): { harness: Harness; leader: NodeId; behind: NodeId } {
  const harness = new Harness(3, seed)
  harness.run(60)
  const leader = harness.leader()!
  const behind = harness.ids.find((id) => id !== leader)!
  harness.crash(behind)
  for (let index = 0; index < slotsBehind; index += 1) {
    harness.replica(leader).propose(put(`k${index % 50}`, String(index)))
    harness.process() // one turn, one slot
    harness.deliverAll()
  }
  harness.start(behind)
  return { harness, leader, behind }
}

/** One trip: every queued envelope is delivered (except those `lose` picks), then every Ready drained. */
function deliverRound(harness: Harness, lose: (envelope: Envelope<WriteCommand>) => boolean = () => false): void {
  const batch = harness.queue
  harness.queue = []
  for (const envelope of batch) if (!lose(envelope)) harness.replicas.get(envelope.to)?.step(envelope)
  harness.process()
}

const catchUpsFrom = (harness: Harness, node: NodeId) => harness.queue.filter((envelope) => envelope.from === node && envelope.message.type === 'catch-up').length

describe('catch-up', () => {
  it(`pipelines: up to ${limits.catchUpRequestsMax} chunks in flight, and ${slotsBehind} slots in a few trips`, () => {
    const { harness, leader, behind } = lagging(5)
    const inFlight: number[] = []
    let trips = 0
    for (let tick = 0; tick < 200 && harness.replica(behind).status().appliedIndex < slotsBehind; tick += 1) {
      for (const replica of harness.replicas.values()) replica.tick()
      harness.process()
      while (harness.queue.length > 0) {
        const count = catchUpsFrom(harness, behind)
        if (count > 0) {
          inFlight.push(count)
          trips += 1
        }
        deliverRound(harness)
      }
    }
    expect(harness.replica(behind).status().appliedIndex).toBe(harness.replica(leader).status().appliedIndex)
    expect(Math.max(...inFlight)).toBe(limits.catchUpRequestsMax)
    // One chunk per trip would take slotsBehind / catchUpSlotsMax trips; the pipeline needs far fewer.
    expect(trips).toBeLessThan(slotsBehind / limits.catchUpSlotsMax)
    const applied = (harness.applied.get(behind) ?? []).map((entry) => entry.slot)
    expect(applied).toEqual(applied.map((_, index) => index + 1))
  })

  it('a node that caught up once and falls behind again catches up again', () => {
    const { harness, leader, behind } = lagging(7)
    harness.run(40)
    expect(harness.replica(behind).status().appliedIndex).toBe(harness.replica(leader).status().appliedIndex)
    for (let index = 0; index < 30; index += 1) {
      harness.replica(leader).propose(put(`again${index}`, 'v'))
      harness.run(1, new Set([behind]))
    }
    harness.run(20)
    expect(harness.replica(behind).status().appliedIndex).toBe(harness.replica(leader).status().appliedIndex)
  })

  it('asks again after the catch-up timeout when answers are lost', () => {
    const { harness, leader, behind } = lagging(6)
    let lost = 0
    for (let tick = 0; tick < 400 && harness.replica(behind).status().appliedIndex < slotsBehind; tick += 1) {
      for (const replica of harness.replicas.values()) replica.tick()
      harness.process()
      // Every other answer to the lagging node is lost on the way.
      while (harness.queue.length > 0) deliverRound(harness, (envelope) => envelope.to === behind && envelope.message.type === 'chosen' && lost++ % 2 === 0)
    }
    expect(lost).toBeGreaterThan(0)
    expect(harness.replica(behind).status().appliedIndex).toBe(harness.replica(leader).status().appliedIndex)
  })
})
