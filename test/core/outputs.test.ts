/**
 * Goal: the core says which messages wait for the disk. An acceptor's replies (promise,
 * accepted, heartbeat-ack, reject) go only through `reply` and come out in
 * Ready.messagesAfterPersist; every other message goes through `send` and leaves at once; each
 * path refuses the other's messages (an assertion: a bug, not bad input).
 * Method: a table over one message of every type, through a fresh Outputs.
 */
import { describe, expect, it } from 'vitest'
import { AssertionError, nodeId, slot, slotZero, type PeerMessage } from '../../src/core/index.js'
import { Outputs, type AcceptorReply } from '../../src/core/outputs.js'
import type { WriteCommand } from '../../src/kv/command.js'

const ballot = { round: 1, node: nodeId(1) }
const replies: AcceptorReply<WriteCommand>[] = [
  { type: 'promise', ballot, fromSlot: slot(1), accepted: [], throughSlot: slotZero, more: false },
  { type: 'accepted', ballot, firstSlot: slot(1), lastSlot: slot(1) },
  { type: 'heartbeat-ack', ballot, readRound: 1 },
  { type: 'reject', ballot, promised: ballot },
]
const others: PeerMessage<WriteCommand>[] = [
  { type: 'prepare', ballot, fromSlot: slot(1) },
  { type: 'accept', ballot, firstSlot: slot(1), values: [], commitIndex: slotZero },
  { type: 'heartbeat', ballot, commitIndex: slotZero, readRound: 0 },
  { type: 'catch-up', fromSlot: slot(1) },
  { type: 'chosen', entries: [] },
  { type: 'pre-vote', ballot, commitIndex: slotZero },
  { type: 'pre-vote-reply', ballot, granted: true, promised: ballot },
]

const outputs = () => new Outputs(nodeId(1), () => [nodeId(1), nodeId(2), nodeId(3)])

describe('Outputs: which messages wait for the disk', () => {
  it.each(replies.map((message) => [message.type, message] as const))('a %s waits (to a peer, and to this node itself)', (_type, message) => {
    const out = outputs()
    out.reply(nodeId(2), message)
    out.reply(nodeId(1), message)
    const taken = out.take()
    expect(taken.messages).toEqual([])
    expect(taken.messagesAfterPersist.map((envelope) => [envelope.to, envelope.message])).toEqual([[2, message], [1, message]])
    expect(() => outputs().send(nodeId(2), message)).toThrow(AssertionError)
  })

  it.each(others.map((message) => [message.type, message] as const))('a %s leaves at once', (_type, message) => {
    const out = outputs()
    out.send(nodeId(2), message)
    const taken = out.take()
    expect(taken.messagesAfterPersist).toEqual([])
    expect(taken.messages.map((envelope) => envelope.message)).toEqual([message])
    expect(() => outputs().reply(nodeId(2), message as unknown as AcceptorReply<WriteCommand>)).toThrow(AssertionError)
  })
})
