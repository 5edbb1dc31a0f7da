/**
 * Goal: a receipt reports what the node saw of a slot and nothing it did not: the chosen
 * ballot and quorum with proposal-to-chosen time, and the node's own WAL sync of the accept
 * (not of a later chosen mark); the table stays bounded.
 * Method: Receipts fed by hand, with made-up millisecond times.
 */
import { describe, expect, it } from 'vitest'
import { nodeId, noopValue, slot, type Ballot } from '../../src/core/index.js'
import { Receipts } from '../../src/node/receipts.js'

const ballot: Ballot = { round: 2, node: nodeId(1) }
const entry = (at: number, chosen = false, b: Ballot = ballot) => ({ slot: slot(at), ballot: b, value: noopValue, chosen })

describe('Receipts', () => {
  it('times the accept sync and proposal-to-chosen for the slot a write was applied in', () => {
    const receipts = new Receipts(nodeId(1))
    receipts.persisted([entry(5), entry(6)], 100)
    receipts.synced([entry(5), entry(6)], 103.5)
    receipts.chosen({ type: 'slots-chosen', firstSlot: slot(5), lastSlot: slot(6), ballot, quorum: [nodeId(1), nodeId(3)] }, 104)
    receipts.persisted([entry(6, true)], 105) // the chosen mark: not the accept's sync
    receipts.synced([entry(6, true)], 120)
    expect(receipts.receipt(slot(6), 99)).toEqual({ slot: 6, ballot, leader: 1, quorum: [1, 3], commitMs: 5, fsyncMs: 3.5 })
  })

  it('leaves out what it did not see: a slot chosen elsewhere, a sync still running', () => {
    const receipts = new Receipts(nodeId(2))
    expect(receipts.receipt(slot(9), 0)).toEqual({ slot: 9, ballot: null, leader: null, quorum: null, commitMs: null, fsyncMs: null })
    receipts.persisted([entry(10)], 1)
    receipts.chosen({ type: 'slots-chosen', firstSlot: slot(10), lastSlot: slot(10), ballot, quorum: [nodeId(2), nodeId(3)] }, 2)
    expect(receipts.receipt(slot(10), 0)).toMatchObject({ leader: 2, quorum: [2, 3], fsyncMs: null })
  })

  it('a value accepted again in a new ballot is timed anew', () => {
    const receipts = new Receipts(nodeId(1))
    receipts.persisted([entry(1)], 0)
    receipts.synced([entry(1)], 1)
    receipts.persisted([entry(1, false, { round: 3, node: nodeId(2) })], 10)
    receipts.synced([entry(1, false, { round: 3, node: nodeId(2) })], 17)
    expect(receipts.receipt(slot(1), 0).fsyncMs).toBe(7)
  })

  it('keeps at most its limit of slots, forgetting the oldest', () => {
    const receipts = new Receipts(nodeId(1), 4)
    for (let at = 1; at <= 10; at += 1) receipts.persisted([entry(at)], at)
    for (let at = 1; at <= 10; at += 1) receipts.synced([entry(at)], at + 1)
    expect(receipts.size).toBe(4)
    expect(receipts.receipt(slot(6), 0).fsyncMs).toBeNull()
    expect(receipts.receipt(slot(7), 0).fsyncMs).toBe(1)
  })
})
