/**
 * Goal: the acceptor's rules. It promises only above its promise, reports what it accepted,
 * accepts at or above its promise, never votes for a value other than a chosen one, and hands
 * every promise and acceptance to persist in the same Ready as its reply.
 * Method: drive an Acceptor directly and inspect its Outputs.
 */
import { describe, expect, it } from 'vitest'
import { Acceptor } from '../../src/core/acceptor.js'
import { ballotZero, limits, MessageSizes, noopValue, nodeId, slot, type Value } from '../../src/core/index.js'
import { Log } from '../../src/core/log.js'
import { Outputs } from '../../src/core/outputs.js'
import { kvCommands, type WriteCommand } from '../../src/kv/command.js'

const b = (round: number, node: number) => ({ round, node: nodeId(node) })
const value = (name: string): Value<WriteCommand> => [{ type: 'put', proposal: name, key: name, value: '', cas: null, idempotency: null }]
const leader = nodeId(2)

function setup(entries: ConstructorParameters<typeof Log<WriteCommand>>[0] = []) {
  const log = new Log<WriteCommand>(entries)
  const outputs = new Outputs<WriteCommand>(nodeId(1), () => [nodeId(1), nodeId(2), nodeId(3)])
  const acceptor = new Acceptor({ log, outputs, promised: ballotZero, sizes: new MessageSizes(kvCommands), messageBytesMax: limits.messageBytesMax })
  return { log, outputs, acceptor }
}

describe('Acceptor', () => {
  it('joined with an empty disk, answers no prepare reaching below the slots it may vote in, and votes in none of them', () => {
    const log = new Log<WriteCommand>([])
    const outputs = new Outputs<WriteCommand>(nodeId(1), () => [nodeId(1), nodeId(2), nodeId(3)])
    const acceptor = new Acceptor({ log, outputs, promised: ballotZero, sizes: new MessageSizes(kvCommands), messageBytesMax: limits.messageBytesMax, votesFrom: slot(70) })
    acceptor.onPrepare(leader, { type: 'prepare', ballot: b(2, 2), fromSlot: slot(69) })
    expect(outputs.take()).toMatchObject({ persist: { promised: null, entries: [] }, messagesAfterPersist: [] })
    acceptor.onAccept(leader, { type: 'accept', ballot: b(2, 2), firstSlot: slot(69), values: [value('old'), value('new')], commitIndex: slot(0) })
    const taken = outputs.take()
    expect(taken.persist.entries.map((entry) => entry.slot)).toEqual([70])
    expect(taken.messagesAfterPersist.map((envelope) => envelope.message)).toEqual([{ type: 'accepted', ballot: b(2, 2), firstSlot: 70, lastSlot: 70 }])
    acceptor.onPrepare(leader, { type: 'prepare', ballot: b(3, 2), fromSlot: slot(70) })
    expect(outputs.take().messagesAfterPersist.map((envelope) => envelope.message.type)).toEqual(['promise'])
  })

  it('writes no vote in a slot a snapshot applied, whatever older row the log kept (an install whose truncation a crash undid)', () => {
    const stale = { slot: slot(8), ballot: b(1, 3), value: value('old'), chosen: false }
    const archive = { read: (fromSlot: number) => ({ type: 'entries' as const, entries: fromSlot <= 8 ? [stale] : [] }) }
    const log = new Log<WriteCommand>([], archive, slot(10))
    const outputs = new Outputs<WriteCommand>(nodeId(1), () => [nodeId(1), nodeId(2), nodeId(3)])
    const acceptor = new Acceptor({ log, outputs, promised: ballotZero, sizes: new MessageSizes(kvCommands), messageBytesMax: limits.messageBytesMax })
    acceptor.onAccept(leader, { type: 'accept', ballot: b(4, 2), firstSlot: slot(8), values: [value('chosen'), value('nine'), value('ten'), value('eleven')], commitIndex: slot(0) })
    const taken = outputs.take()
    expect(taken.persist.entries.map((entry) => entry.slot)).toEqual([11])
    expect(taken.messagesAfterPersist.map((envelope) => envelope.message)).toEqual([{ type: 'accepted', ballot: b(4, 2), firstSlot: 11, lastSlot: 11 }])
  })

  it('promises a higher ballot, persists it, and reports accepted entries from fromSlot', () => {
    const { outputs, acceptor } = setup([
      { slot: slot(1), ballot: b(1, 3), value: value('a'), chosen: true },
      { slot: slot(2), ballot: b(1, 3), value: value('b'), chosen: false },
    ])
    expect(acceptor.onPrepare(leader, { type: 'prepare', ballot: b(2, 2), fromSlot: slot(2) })).toBe('granted')
    const taken = outputs.take()
    expect(taken.persist.promised).toEqual(b(2, 2))
    expect(taken.messagesAfterPersist).toEqual([{
      from: 1, to: 2,
      message: { type: 'promise', ballot: b(2, 2), fromSlot: 2, accepted: [{ slot: 2, ballot: b(1, 3), value: value('b'), chosen: false }], throughSlot: 2, more: false },
    }])
  })

  it('rejects a prepare or accept below its promise, with the promise, and persists nothing', () => {
    const { outputs, acceptor } = setup()
    acceptor.onPrepare(leader, { type: 'prepare', ballot: b(3, 3), fromSlot: slot(1) })
    outputs.take()
    expect(acceptor.onPrepare(leader, { type: 'prepare', ballot: b(2, 2), fromSlot: slot(1) })).toBe('rejected')
    expect(acceptor.onAccept(leader, { type: 'accept', ballot: b(3, 2), firstSlot: slot(1), values: [value('x')], commitIndex: slot(0) })).toBe('rejected')
    const taken = outputs.take()
    expect(taken.persist).toEqual({ promised: null, entries: [] })
    expect(taken.messagesAfterPersist.map((e) => e.message)).toEqual([
      { type: 'reject', ballot: b(2, 2), promised: b(3, 3) },
      { type: 'reject', ballot: b(3, 2), promised: b(3, 3) },
    ])
  })

  it('accepts a batch at or above its promise, raises the promise, persists, then replies accepted', () => {
    const { outputs, acceptor } = setup()
    acceptor.onAccept(leader, { type: 'accept', ballot: b(1, 2), firstSlot: slot(4), values: [value('x'), value('y')], commitIndex: slot(0) })
    const taken = outputs.take()
    expect(taken.persist.promised).toEqual(b(1, 2))
    expect(taken.persist.entries.map((entry) => entry.slot)).toEqual([4, 5])
    expect(taken.messagesAfterPersist.map((e) => e.message)).toEqual([{ type: 'accepted', ballot: b(1, 2), firstSlot: 4, lastSlot: 5 }])
  })

  it('gives no vote to another value for a chosen slot, and splits the accepted runs around it', () => {
    const { outputs, acceptor } = setup([{ slot: slot(2), ballot: ballotZero, value: value('chosen'), chosen: true }])
    acceptor.onAccept(leader, { type: 'accept', ballot: b(1, 2), firstSlot: slot(1), values: [value('a'), value('other'), value('c')], commitIndex: slot(0) })
    const taken = outputs.take()
    expect(taken.messagesAfterPersist.map((e) => e.message)).toEqual([
      { type: 'accepted', ballot: b(1, 2), firstSlot: 1, lastSlot: 1 },
      { type: 'accepted', ballot: b(1, 2), firstSlot: 3, lastSlot: 3 },
    ])
    expect(taken.persist.entries.map((entry) => entry.slot)).toEqual([1, 3])
  })

  it('votes again for the chosen value itself (a new leader re-proposing it)', () => {
    const { outputs, acceptor } = setup([{ slot: slot(1), ballot: ballotZero, value: noopValue, chosen: true }])
    acceptor.onAccept(leader, { type: 'accept', ballot: b(5, 2), firstSlot: slot(1), values: [noopValue], commitIndex: slot(0) })
    expect(outputs.take().messagesAfterPersist.map((e) => e.message)).toEqual([{ type: 'accepted', ballot: b(5, 2), firstSlot: 1, lastSlot: 1 }])
  })

  it('acknowledges a heartbeat at or above its promise and rejects a stale one', () => {
    const { outputs, acceptor } = setup()
    expect(acceptor.onHeartbeat(leader, { type: 'heartbeat', ballot: b(2, 2), commitIndex: slot(0), readRound: 7 }, slot(0))).toBe('granted')
    expect(acceptor.onHeartbeat(leader, { type: 'heartbeat', ballot: b(1, 3), commitIndex: slot(0), readRound: 1 }, slot(0))).toBe('rejected')
    const taken = outputs.take()
    expect(taken.persist.promised).toEqual(b(2, 2))
    expect(taken.messagesAfterPersist.map((e) => e.message.type)).toEqual(['heartbeat-ack', 'reject'])
  })
})
