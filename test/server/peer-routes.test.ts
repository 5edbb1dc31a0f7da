/**
 * Goal: the peer endpoint authenticates before anything else, rejects malformed or foreign
 * batches with 400, and only then queues envelopes for the core. Method: app.request().
 */
import { describe, expect, it } from 'vitest'
import { nodeId } from '../../src/core/index.js'
import { createApp } from '../../src/server/app.js'
import { FakeNode } from './fake-node.js'
import { PeerCodec } from '../../src/transport/codec.js'
import { writeCommandSchema } from '../../src/kv/command-codec.js'

function setup() {
  const node = new FakeNode()
  const refused: string[] = []
  const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), 
    node, secret: 'peer-secret', clusterId: 'c1', members: new Set([nodeId(1), nodeId(2), nodeId(3)]), requestTimeoutMs: 100, valueBytesMax: 1024, onFatal: () => {},
    onPeerRefused: (_from, reason) => refused.push(reason),
  })
  return { node, app, refused }
}

const good = { from: 2, to: 1, messages: [{ type: 'prepare', ballot: { round: 3, node: 2 }, fromSlot: 1 }] }
const post = (app: ReturnType<typeof setup>['app'], body: unknown, headers: Record<string, string> = { 'x-paxos-secret': 'peer-secret', 'x-paxos-cluster': 'c1' }) =>
  app.request('/peer/messages', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } })

describe('POST /peer/messages', () => {
  it('queues a valid batch and answers 202', async () => {
    const { app, node } = setup()
    expect((await post(app, good)).status).toBe(202)
    expect(node.delivered).toEqual([{ from: 2, to: 1, message: good.messages[0] }])
  })

  it.each([
    [{}],
    [{ 'x-paxos-secret': 'wrong', 'x-paxos-cluster': 'c1' }],
    [{ 'x-paxos-secret': 'peer-secret', 'x-paxos-cluster': 'other' }],
  ])('401 and nothing queued without the right secret and cluster (%o)', async (headers) => {
    const { app, node, refused } = setup()
    const response = await post(app, good, headers)
    expect(response.status).toBe(401)
    expect(node.delivered).toEqual([])
    expect(refused).toEqual([(headers as Record<string, string>)['x-paxos-cluster'] === 'other' ? 'wrong cluster id' : 'missing or wrong cluster secret'])
  })

  it('names a sender that is not a member, and reports the refusal', async () => {
    const { app, refused } = setup()
    const response = await post(app, { ...good, from: 4 })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { message: string }).message).toMatch(/node 4 is not a member of this cluster \(members 1, 2, 3\)/)
    expect(refused).toHaveLength(1)
  })

  it('does not report a full inbox as a refusal', async () => {
    const { app, node, refused } = setup()
    node.inboxFull = true
    expect((await post(app, good)).status).toBe(503)
    expect(refused).toEqual([])
  })

  it.each([
    ['not json'],
    [{ ...good, from: 9 }],
    [{ ...good, from: 1 }],
    [{ ...good, to: 3 }],
    [{ ...good, messages: [] }],
    [{ ...good, messages: [{ type: 'prepare', ballot: { round: 3, node: 2 }, fromSlot: -1 }] }],
    [{ ...good, messages: [{ type: 'prepare', ballot: { round: 3, node: 2 }, fromSlot: 1, extra: true }] }],
    [{ ...good, messages: [{ type: 'teleport' }] }],
  ])('400 and nothing queued for %j', async (body) => {
    const { app, node } = setup()
    const response = await post(app, body)
    expect(response.status).toBe(400)
    expect(node.delivered).toEqual([])
  })

  it('503 when the inbox is full', async () => {
    const { app, node } = setup()
    node.inboxFull = true
    expect((await post(app, good)).status).toBe(503)
  })
})
