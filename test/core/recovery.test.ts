/**
 * Goal: Phase 1's choice per slot: a known-chosen value wins, else the highest ballot's value;
 * slots below fromSlot are ignored; the highest reported slot bounds the recovered range.
 * Method: hand-built promise sets.
 */
import { describe, expect, it } from 'vitest'
import { ballotZero, nodeId, slot, type Value } from '../../src/core/index.js'
import type { LogEntry, PromiseMessage } from '../../src/core/messages.js'
import { recoverSlots } from '../../src/core/recovery.js'
import type { WriteCommand } from '../../src/kv/command.js'

const b = (round: number, node: number) => ({ round, node: nodeId(node) })
const value = (name: string): Value<WriteCommand> => [{ type: 'put', proposal: name, key: 'k', value: '', cas: null, idempotency: null }]
const promise = (accepted: LogEntry<WriteCommand>[]): PromiseMessage<WriteCommand> => ({ type: 'promise', ballot: b(9, 1), fromSlot: slot(3), accepted, throughSlot: slot(accepted.at(-1)?.slot ?? 2), more: false })
const entry = (at: number, ballot: ReturnType<typeof b>, name: string, chosen = false): LogEntry<WriteCommand> => ({ slot: slot(at), ballot, value: value(name), chosen })

describe('recoverSlots', () => {
  it('takes the highest ballot per slot', () => {
    const recovery = recoverSlots([promise([entry(3, b(1, 1), 'old')]), promise([entry(3, b(2, 2), 'new')])], slot(3))
    expect(recovery.slots.get(slot(3))?.value).toEqual(value('new'))
  })

  it('a chosen report wins over any ballot', () => {
    const recovery = recoverSlots([
      promise([{ ...entry(4, ballotZero, 'chosen'), chosen: true }]),
      promise([entry(4, b(7, 3), 'later')]),
    ], slot(3))
    expect(recovery.slots.get(slot(4))).toEqual({ value: value('chosen'), ballot: ballotZero, chosen: true })
  })

  it('ignores slots below fromSlot and reports the highest slot', () => {
    const recovery = recoverSlots([promise([entry(2, b(1, 1), 'below'), entry(6, b(1, 1), 'far')])], slot(3))
    expect(recovery.slots.has(slot(2))).toBe(false)
    expect(recovery.highestSlot).toBe(6)
    expect(recovery.slots.has(slot(5))).toBe(false) // a hole: the leader fills it with a noop
  })
})
