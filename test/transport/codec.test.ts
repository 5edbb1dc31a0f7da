/**
 * Goal: the codec accepts every core message type and rejects anything else: unknown types,
 * extra fields, bad numbers, oversized batches, bad base64, promise pages that do not add up;
 * the encoder packs frames within the frame limit and leaves out (and reports) what no frame can
 * hold. Method: round trips and a table.
 */
import { describe, expect, it } from 'vitest'
import { limits } from '../../src/core/limits.js'
import type { PeerMessage } from '../../src/core/messages.js'
import { encodeFrames, encodePeerBatch, PeerCodec } from '../../src/transport/codec.js'
import { writeCommandSchema } from '../../src/kv/command-codec.js'
import { nodeId, slot } from '../../src/core/index.js'
import { type TxnCommand, type WriteCommand } from '../../src/kv/command.js'

const codec = new PeerCodec(writeCommandSchema)
const decodePeerBatch = (json: unknown) => codec.decodeBatch(json)

const ballot = { round: 2, node: nodeId(1) }
const put = { type: 'put' as const, proposal: 'p1', key: 'k', value: 'aGk=', cas: null, idempotency: { key: 'i', atMs: 5 } }
const txn: TxnCommand = {
  type: 'txn', proposal: 'p3', idempotency: null, quotaBytes: 10,
  compare: [{ key: 'k', target: 'value', op: '=', value: 'aGk=' }, { key: 'k', target: 'writes', op: '>', value: 2 }, { key: 'k', target: 'lease', op: '!=', value: null }],
  success: [{ type: 'put', key: 'k', value: 'aGk=', lease: '12' }, { type: 'deletePrefix', prefix: 'd/' }, { type: 'get', key: 'k' }],
  failure: [{ type: 'delete', key: 'k' }, { type: 'list', prefix: '', limit: 10 }],
}
const epochMarker: WriteCommand = { type: 'lease-epoch', ballot: { round: 4, node: nodeId(3) }, proposal: 'p5', idempotency: null }
const expiry: WriteCommand = { type: 'lease-revoke', id: '12', expiryBallot: { round: 4, node: nodeId(3) }, proposal: 'p6', idempotency: null }
const every: PeerMessage<WriteCommand>[] = [
  { type: 'prepare', ballot, fromSlot: slot(1) },
  { type: 'promise', ballot, fromSlot: slot(1), accepted: [{ slot: slot(1), ballot, value: [put], chosen: false }], throughSlot: slot(1), more: false },
  { type: 'accept', ballot, firstSlot: slot(1), values: [[put], [{ type: 'noop' }], [txn], [{ type: 'compact', revision: 7, proposal: 'p4', idempotency: null }], [epochMarker, expiry]], commitIndex: slot(0) },
  { type: 'accepted', ballot, firstSlot: slot(1), lastSlot: slot(2) },
  { type: 'reject', ballot, promised: { round: 3, node: nodeId(2) } },
  { type: 'heartbeat', ballot, commitIndex: slot(2), readRound: 4 },
  { type: 'heartbeat-ack', ballot, readRound: 4 },
  { type: 'catch-up', fromSlot: slot(3) },
  { type: 'compacted', through: slot(40) },
  { type: 'promise', ballot, fromSlot: slot(2), accepted: [], throughSlot: slot(40), more: true, compactedThrough: slot(40) },
  { type: 'chosen', entries: [{ slot: slot(3), value: [{ type: 'delete', proposal: 'p2', key: 'k', cas: null, idempotency: null, request: { id: 'n2-abc-r9', atMs: 7 } }] }] },
  { type: 'pre-vote', ballot, commitIndex: slot(7) },
  { type: 'pre-vote-reply', ballot, granted: false, promised: { round: 3, node: nodeId(2) } },
]

describe('codec', () => {
  it('round-trips every message type', () => {
    const decoded = decodePeerBatch(JSON.parse(encodePeerBatch({ from: nodeId(1), to: nodeId(2), messages: every })))
    expect(decoded).toEqual({ ok: true, batch: { from: 1, to: 2, messages: every } })
    expect(new Set(every.map((message) => message.type)).size).toBe(12)
  })

  it('encodes exactly as JSON.stringify, also when peers share one cache of encoded messages', () => {
    const encoded = new Map()
    for (const to of [2, 3]) {
      const batch = { from: nodeId(1), to: nodeId(to), messages: every }
      expect(encodePeerBatch(batch, encoded)).toBe(JSON.stringify(batch))
    }
    expect(encoded.size).toBe(every.length) // each message was stringified once for both peers
  })

  it.each([
    ['unknown type', { type: 'teleport' }],
    ['extra field', { type: 'catch-up', fromSlot: 1, hint: 1 }],
    ['negative slot', { type: 'catch-up', fromSlot: -1 }],
    ['fractional slot', { type: 'catch-up', fromSlot: 1.5 }],
    ['node out of range', { type: 'prepare', ballot: { round: 1, node: 99 }, fromSlot: 1 }],
    ['bad base64', { type: 'accept', ballot, firstSlot: 1, values: [[{ ...put, value: 'not base64!' }]], commitIndex: 0 }],
    ['empty batch value', { type: 'accept', ballot, firstSlot: 1, values: [[]], commitIndex: 0 }],
    ['pre-vote reply without an answer', { type: 'pre-vote-reply', ballot, promised: ballot }],
    ['backwards range', { type: 'accepted', ballot, firstSlot: 5, lastSlot: 4 }],
    ['oversized request id', { type: 'accept', ballot, firstSlot: 1, values: [[{ ...put, request: { id: 'r'.repeat(limits.requestIdBytesMax + 1), atMs: 1 } }]], commitIndex: 0 }],
    ['request id without time', { type: 'accept', ballot, firstSlot: 1, values: [[{ ...put, request: { id: 'r1' } }]], commitIndex: 0 }],
    ['oversized key', { type: 'chosen', entries: [{ slot: 1, value: [{ ...put, key: 'k'.repeat(limits.keyBytesMax + 1) }] }] }],
    ['a page ending before it starts', { type: 'promise', ballot, fromSlot: 5, accepted: [], throughSlot: 3, more: false }],
    ['a page entry outside the page', { type: 'promise', ballot, fromSlot: 1, accepted: [{ slot: 3, ballot, value: [put], chosen: false }], throughSlot: 2, more: false }],
    ['page entries out of order', { type: 'promise', ballot, fromSlot: 1, accepted: [{ slot: 2, ballot, value: [put], chosen: false }, { slot: 1, ballot, value: [put], chosen: false }], throughSlot: 2, more: false }],
    ['an unfinished page that does not end on an entry', { type: 'promise', ballot, fromSlot: 1, accepted: [{ slot: 1, ballot, value: [put], chosen: false }], throughSlot: 4, more: true }],
    ['an unfinished empty page', { type: 'promise', ballot, fromSlot: 1, accepted: [], throughSlot: 0, more: true }],
    ['a compacted page that lists entries', { type: 'promise', ballot, fromSlot: 1, accepted: [{ slot: 1, ballot, value: [put], chosen: true }], throughSlot: 4, more: false, compactedThrough: 4 }],
    ['a compacted page ending elsewhere', { type: 'promise', ballot, fromSlot: 1, accepted: [], throughSlot: 3, more: false, compactedThrough: 4 }],
    ['a compacted page ending before it starts', { type: 'promise', ballot, fromSlot: 5, accepted: [], throughSlot: 4, more: false, compactedThrough: 4 }],
    ['a compacted answer with an extra field', { type: 'compacted', through: 4, revision: 2 }],
  ])('rejects %s', (_label, message) => {
    expect(decodePeerBatch({ from: 1, to: 2, messages: [message] }).ok).toBe(false)
  })

  it('packs messages into frames within the frame limit, in order, each exactly the JSON of its batch', () => {
    const big = (index: number): PeerMessage<WriteCommand> => ({ type: 'accept', ballot, firstSlot: slot(index + 1), values: [[{ ...put, value: 'QUFB'.repeat(500 + index * 100) }]], commitIndex: slot(0) })
    const messages = [...Array.from({ length: 12 }, (_, index) => big(index)), ...every]
    const frameBytesMax = 12_000
    const { frames, oversized } = encodeFrames({ from: nodeId(1), to: nodeId(2), messages }, frameBytesMax)
    expect(oversized).toEqual([])
    expect(frames.length).toBeGreaterThan(3)
    const decoded: unknown[] = []
    for (const frame of frames) {
      const text = frame.pieces.join('')
      expect(Buffer.byteLength(text)).toBe(frame.bytes)
      expect(frame.bytes).toBeLessThanOrEqual(frameBytesMax)
      expect(text.endsWith('\n') && text.indexOf('\n') === text.length - 1).toBe(true)
      const batch = JSON.parse(text) as { messages: unknown[] }
      expect(batch.messages).toHaveLength(frame.messages)
      decoded.push(...batch.messages)
    }
    expect(decoded).toEqual(JSON.parse(JSON.stringify(messages)))
  })

  it('leaves out a message no frame can hold, and says which and how big', () => {
    const huge: PeerMessage<WriteCommand> = { type: 'accept', ballot, firstSlot: slot(1), values: [[{ ...put, value: 'QUFB'.repeat(5000) }]], commitIndex: slot(0) }
    const { frames, oversized } = encodeFrames({ from: nodeId(1), to: nodeId(2), messages: [every[0]!, huge, every[1]!] }, 10_000)
    expect(oversized).toEqual([{ type: 'accept', bytes: JSON.stringify(huge).length }])
    expect(frames.flatMap((frame) => (JSON.parse(frame.pieces.join('')) as { messages: unknown[] }).messages)).toEqual(JSON.parse(JSON.stringify([every[0], every[1]])))
  })

  it.each([
    ['a key written twice', { ...txn, success: [...txn.success, { type: 'delete', key: 'k' }] }],
    ['more parts than a txn may have', { ...txn, failure: Array.from({ length: limits.txnPartsMax }, () => ({ type: 'get', key: 'k' })) }],
    ['a lease id past int64', { ...txn, failure: [{ type: 'put', key: 'x', value: '', lease: '9223372036854775808' }] }],
    ['a compare of a value with a number', { ...txn, compare: [{ key: 'k', target: 'value', op: '=', value: 1 }] }],
    ['a lease epoch of ballot zero', { ...epochMarker, ballot: { round: 0, node: 0 } }],
    ['a lease epoch of a node past the largest cluster', { ...epochMarker, ballot: { round: 4, node: limits.nodesMax + 1 } }],
    ['an expiry whose ballot has an extra field', { ...expiry, expiryBallot: { round: 4, node: 3, term: 1 } }],
  ])('rejects a command with %s', (_name, command) => {
    expect(decodePeerBatch({ from: 1, to: 2, messages: [{ type: 'accept', ballot, firstSlot: 1, values: [[command]], commitIndex: 0 }] }).ok).toBe(false)
  })

  it('rejects a batch with too many messages', () => {
    const messages = Array.from({ length: limits.outboxEnvelopesMax + 1 }, () => ({ type: 'catch-up', fromSlot: 1 }))
    expect(decodePeerBatch({ from: 1, to: 2, messages }).ok).toBe(false)
  })
})
