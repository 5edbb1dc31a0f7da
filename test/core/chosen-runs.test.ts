/**
 * Goal: the leader reports chosen slots as runs of consecutive slots with one quorum each, so
 * every slot's receipt names exactly the voters that chose it, and no slot is reported twice.
 * Method: ChosenRuns fed by hand; events collected.
 */
import { describe, expect, it } from 'vitest'
import { nodeId, slot, type CoreEvent } from '../../src/core/index.js'
import { ChosenRuns } from '../../src/core/chosen-runs.js'

describe('ChosenRuns', () => {
  it('splits on a gap and on a different quorum, and reports nothing when nothing was chosen', () => {
    const events: CoreEvent[] = []
    const ballot = { round: 1, node: nodeId(1) }
    const runs = new ChosenRuns(ballot, (event) => events.push(event))
    const q12 = [nodeId(1), nodeId(2)]
    const q13 = [nodeId(1), nodeId(3)]
    runs.add(slot(4), q12)
    runs.add(slot(5), [...q12])
    runs.add(slot(7), q12)
    runs.add(slot(8), q13)
    runs.flush()
    runs.flush()
    expect(events).toEqual([
      { type: 'slots-chosen', firstSlot: 4, lastSlot: 5, ballot, quorum: [1, 2] },
      { type: 'slots-chosen', firstSlot: 7, lastSlot: 7, ballot, quorum: [1, 2] },
      { type: 'slots-chosen', firstSlot: 8, lastSlot: 8, ballot, quorum: [1, 3] },
    ])
  })
})
