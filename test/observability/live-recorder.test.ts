/**
 * Goal: what the live page is told about a node is true and bounded: the slot window keeps
 * only the newest slots, tells this acceptor's vote apart from a chosen mark it learned, and
 * carries the leader's quorum; links count per directed link and type; role changes are
 * capped per frame (the rest counted); percentiles are nearest-rank.
 * Method: LiveRecorder and its parts fed by hand.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, nodeId, noopValue, slot, type Ballot, type Value } from '../../src/core/index.js'
import { LiveRecorder } from '../../src/observability/live-recorder.js'
import { RecentSamples } from '../../src/observability/samples.js'
import { SlotWindow } from '../../src/observability/slot-window.js'
import type { WriteCommand } from '../../src/kv/command.js'

const ballot: Ballot = { round: 4, node: nodeId(2) }
const put: Value<WriteCommand> = [{ type: 'put', proposal: 'p', key: 'k', value: 'dg==', cas: null, idempotency: null }]
const inputs = { atMs: 0, node: { id: 1, role: 'follower', leader: 2, promised: '4.2', commitIndex: 0, appliedIndex: 0, revision: 0, inboxDepth: 0 }, peers: [], held: null } as const

describe('SlotWindow', () => {
  it('records votes, chosen marks, batches and quorums, and keeps only the newest slots', () => {
    const window = new SlotWindow(3)
    window.persisted([{ slot: slot(1), ballot, value: put, chosen: false }])
    window.persisted([{ slot: slot(2), ballot: ballotZero, value: noopValue, chosen: true }]) // learned, not voted
    window.chosen({ type: 'slots-chosen', firstSlot: slot(1), lastSlot: slot(1), ballot, quorum: [nodeId(1), nodeId(2)] })
    expect(window.snapshot()).toEqual([
      { slot: 1, accepted: '4.2', batch: 1, chosen: true, quorum: [1, 2] },
      { slot: 2, accepted: null, batch: 0, chosen: true, quorum: null },
    ])
    window.applied([{ slot: slot(5), value: put }])
    window.persisted([{ slot: slot(1), ballot, value: put, chosen: true }]) // below the window now
    expect(window.snapshot().map((entry) => entry.slot)).toEqual([5])
  })
})

describe('LiveRecorder', () => {
  it('counts messages per directed link and type, cumulatively', () => {
    const recorder = new LiveRecorder()
    const accept = { type: 'accept', ballot, firstSlot: slot(1), values: [put], commitIndex: slot(0) } as const
    recorder.sent([{ from: nodeId(1), to: nodeId(2), message: accept }, { from: nodeId(1), to: nodeId(3), message: accept }])
    recorder.sent([{ from: nodeId(1), to: nodeId(2), message: accept }])
    recorder.received([{ from: nodeId(2), to: nodeId(1), message: { type: 'accepted', ballot, firstSlot: slot(1), lastSlot: slot(1) } }])
    const frame = recorder.frame(inputs)
    expect(frame.sent).toEqual({ 2: { accept: 2 }, 3: { accept: 1 } })
    expect(frame.received).toEqual({ 2: { accepted: 1 } })
    expect(recorder.frame(inputs).sent).toEqual(frame.sent)
  })

  it('lists role changes up to the limit per frame and counts the rest; latencies start over per frame', () => {
    const recorder = new LiveRecorder({ slotsMax: 4, roleChangesMax: 2, latencySamplesMax: 8 })
    for (let round = 1; round <= 3; round += 1) recorder.coreEvent({ type: 'became-candidate', ballot: { round, node: nodeId(1) } }, round)
    for (const ms of [1, 2, 3, 4, 100]) recorder.writeApplied(ms)
    recorder.writeApplied(null)
    const first = recorder.frame(inputs)
    expect(first.roleChanges.map((change) => change.ballot)).toEqual(['1.1', '2.1'])
    expect(first.roleChangesUnlisted).toBe(1)
    expect(first.writes).toEqual({ applied: 6, commitMsP50: 3, commitMsP99: 100 })
    expect(recorder.history().map((change) => change.ballot)).toEqual(['2.1', '3.1'])
    const second = recorder.frame(inputs)
    expect(second).toMatchObject({ roleChanges: [], roleChangesUnlisted: 0, writes: { applied: 6, commitMsP50: null } })
  })
})

describe('RecentSamples', () => {
  it('keeps the newest values and answers nearest-rank percentiles', () => {
    const samples = new RecentSamples(4)
    expect(samples.percentile(99)).toBeNull()
    for (const value of [50, 1, 2, 3, 4]) samples.add(value) // 50 falls out
    expect(samples.size).toBe(4)
    expect([samples.percentile(25), samples.percentile(50), samples.percentile(100)]).toEqual([1, 2, 4])
  })
})
