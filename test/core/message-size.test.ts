/**
 * Goal: the size estimates the byte bounds rest on are upper bounds of the real encoding
 * (UTF-8 bytes of JSON.stringify), for every message type, at the widest numbers and the most
 * escaped text; the largest command the edge lets in is what `commandBytesMax` says; a
 * maximal slot fits one message and a maximal message one frame.
 * Method: seeded random messages with adversarial fields, and the maximal cases built by hand.
 */
import { describe, expect, it } from 'vitest'
import { byteLimits, frameOverheadBytes, limits, MessageSizes, nodeId, randomBelow, revision, seededRandom, slot, type PeerMessage, type Random, type Value } from '../../src/core/index.js'
import { commandBytes, commandBytesMax, kvCommands, type Command, type TxnCompare, type TxnOp, type WriteCommand } from '../../src/kv/command.js'

const widest = Number.MAX_SAFE_INTEGER
const ballot = { round: widest, node: nodeId(7) }
const sizes = new MessageSizes(kvCommands)
const encodedBytes = (message: PeerMessage<WriteCommand>): number => Buffer.byteLength(JSON.stringify(message))

/** Text whose JSON is as long as text of its length gets: control characters, quotes, emoji, lone surrogates. */
function nastyText(random: Random, length: number): string {
  const alphabet = ['\u0000', '\u001f', '"', '\\', 'é', '€', '😀', '\ud800', 'a', '\n']
  let text = ''
  while (text.length < length) text += alphabet[randomBelow(random, alphabet.length)]
  return text.slice(0, length)
}

/** A txn with every kind of compare and op, nasty keys and widest numbers. */
function randomTxn(random: Random, { proposal, idempotency, request }: { proposal: string; idempotency: Readonly<{ key: string; atMs: number }> | null; request?: Readonly<{ id: string; atMs: number }> }): Command {
  const text = () => nastyText(random, 1 + randomBelow(random, 64))
  const value = () => Buffer.from(nastyText(random, randomBelow(random, 200))).toString('base64')
  const lease = () => (randomBelow(random, 2) === 0 ? null : '9223372036854775807')
  const compares: TxnCompare[] = [
    { key: text(), target: 'value', op: '!=', value: value() },
    { key: text(), target: 'createRevision', op: '>', value: widest },
    { key: text(), target: 'lease', op: '<', value: lease() },
  ]
  const ops: TxnOp[] = [
    { type: 'put', key: text(), value: value(), lease: lease() }, { type: 'delete', key: text() }, { type: 'deletePrefix', prefix: text() },
    { type: 'get', key: text() }, { type: 'list', prefix: text(), limit: limits.listItemsMax },
  ]
  const pick = <T>(from: T[]) => many(random, () => from[randomBelow(random, from.length)]!)
  return { type: 'txn', proposal, idempotency, ...(request === undefined ? {} : { request }), compare: pick(compares), success: pick(ops), failure: pick(ops), quotaBytes: widest }
}

function randomCommand(random: Random): Command {
  const roll = randomBelow(random, 6)
  if (roll === 0) return { type: 'noop' }
  const fields = {
    proposal: nastyText(random, 1 + randomBelow(random, 128)),
    key: nastyText(random, 1 + randomBelow(random, 300)),
    cas: randomBelow(random, 2) === 0 ? null : revision(widest),
    idempotency: randomBelow(random, 2) === 0 ? null : { key: nastyText(random, 1 + randomBelow(random, 256)), atMs: widest },
    ...(randomBelow(random, 2) === 0 ? {} : { request: { id: nastyText(random, 1 + randomBelow(random, 128)), atMs: widest } }),
  }
  if (roll === 1) return { type: 'delete', ...fields }
  if (roll === 3) return randomTxn(random, fields)
  // The leader's own lease commands, at the widest ballot: its epoch marker and an expiry's revoke.
  const { key: _key, cas: _cas, ...proposal } = fields
  if (roll === 4) return { type: 'lease-epoch', ballot, ...proposal }
  if (roll === 5) return { type: 'lease-revoke', id: '9223372036854775807', ...(randomBelow(random, 2) === 0 ? {} : { expiryBallot: ballot }), ...proposal }
  return { type: 'put', value: Buffer.from(nastyText(random, randomBelow(random, 2000))).toString('base64'), ...fields }
}

const randomValue = (random: Random): Value<WriteCommand> => Array.from({ length: 1 + randomBelow(random, 5) }, () => randomCommand(random))
const many = <T>(random: Random, make: (index: number) => T): T[] => Array.from({ length: randomBelow(random, 6) }, (_, index) => make(index))

function randomMessage(random: Random): PeerMessage<WriteCommand> {
  const at = slot(widest - 10)
  switch (randomBelow(random, 9)) {
    case 0: return { type: 'prepare', ballot, fromSlot: at }
    case 1: return { type: 'promise', ballot, fromSlot: at, accepted: many(random, (index) => ({ slot: slot(at + index), ballot, value: randomValue(random), chosen: false })), throughSlot: at, more: true }
    case 2: return { type: 'accept', ballot, firstSlot: at, values: [randomValue(random), ...many(random, () => randomValue(random))], commitIndex: at }
    case 3: return { type: 'accepted', ballot, firstSlot: at, lastSlot: at }
    case 4: return { type: 'reject', ballot, promised: ballot }
    case 5: return { type: 'heartbeat', ballot, commitIndex: at, readRound: widest }
    case 6: return { type: 'heartbeat-ack', ballot, readRound: widest }
    case 7: return { type: 'catch-up', fromSlot: at }
    default: return { type: 'chosen', entries: [{ slot: at, value: randomValue(random) }, ...many(random, (index) => ({ slot: slot(at + index + 1), value: randomValue(random) }))] }
  }
}

describe('message sizes', () => {
  it('estimate at least the encoded bytes of every message type (seed 9)', () => {
    const random = seededRandom(9)
    const seen = new Set<string>()
    for (let index = 0; index < 3000; index += 1) {
      const message = randomMessage(random)
      seen.add(message.type)
      expect(sizes.messageBytes(message), `${message.type} #${index}`).toBeGreaterThanOrEqual(encodedBytes(message))
    }
    expect(seen.size).toBe(9)
  })

  it('commandBytesMax is the estimate of the largest command the edge accepts, and bounds its encoding', () => {
    const command: Command = {
      type: 'put',
      value: Buffer.alloc(limits.valueBytesMax, 0xff).toString('base64'),
      proposal: 'p'.repeat(128),
      key: '\u0001'.repeat(limits.keyBytesMax),
      cas: revision(widest),
      idempotency: { key: '\u0001'.repeat(limits.idempotencyKeyBytesMax), atMs: widest },
      request: { id: '\u0001'.repeat(limits.requestIdBytesMax), atMs: widest },
    }
    expect(commandBytes(command)).toBe(commandBytesMax)
    expect(Buffer.byteLength(JSON.stringify(command))).toBeLessThanOrEqual(commandBytesMax)
  })

  it('one maximal slot fits one message of every kind that carries slots, and a maximal message one frame', () => {
    const big: Command = { type: 'put', value: 'A'.repeat(byteLimits.batchBytesMax - 200), proposal: 'p', key: 'k', cas: null, idempotency: null }
    const value: Value<WriteCommand> = [big]
    const at = slot(widest)
    const carriers: PeerMessage<WriteCommand>[] = [
      { type: 'promise', ballot, fromSlot: at, accepted: [{ slot: at, ballot, value, chosen: true }], throughSlot: at, more: false },
      { type: 'accept', ballot, firstSlot: at, values: [value], commitIndex: at },
      { type: 'chosen', entries: [{ slot: at, value }] },
    ]
    for (const message of carriers) expect(sizes.messageBytes(message)).toBeLessThanOrEqual(byteLimits.messageBytesMax)
    expect(byteLimits.messageBytesMax + frameOverheadBytes).toBeLessThanOrEqual(byteLimits.frameBytesMax)
  })
})
