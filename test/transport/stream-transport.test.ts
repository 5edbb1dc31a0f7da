/**
 * Goal: the streaming peer transport delivers every batch in order over one long-lived request,
 * is refused without the right secret (nothing delivered), cuts off a sender of a malformed
 * frame, and a dead peer never holds up a live one. Method: real @hono/node-server receivers on
 * 127.0.0.1 running createApp with a FakeNode that records deliveries.
 */
import { serve, type ServerType } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { limits, nodeId, slot, type Envelope } from '../../src/core/index.js'
import { createApp } from '../../src/server/app.js'
import { StreamTransport } from '../../src/transport/stream-transport.js'
import { FakeNode } from '../server/fake-node.js'
import { freePort, waitFor } from '../integration/harness.js'
import type { WriteCommand } from '../../src/kv/command.js'
import { PeerCodec } from '../../src/transport/codec.js'
import { writeCommandSchema } from '../../src/kv/command-codec.js'

const servers: ServerType[] = []
const transports: StreamTransport[] = []
afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()))
  for (const server of servers.splice(0)) server.close()
})

async function receiver(secret = 'stream-secret'): Promise<{ node: FakeNode; url: string }> {
  const node = new FakeNode()
  const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node, secret, clusterId: 'c1', members: new Set([nodeId(1), nodeId(2), nodeId(3)]), requestTimeoutMs: 100, valueBytesMax: 1024, onFatal: () => {} })
  const port = await freePort()
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' })
  servers.push(server)
  await new Promise((resolve) => server.once('listening', resolve))
  return { node, url: `http://127.0.0.1:${port}` }
}

function transport(peers: Array<[number, string]>, secret = 'stream-secret', more: Partial<ConstructorParameters<typeof StreamTransport>[0]> = {}): StreamTransport {
  const created = new StreamTransport({ self: nodeId(2), peers: new Map(peers.map(([id, url]) => [nodeId(id), url])), secret, clusterId: 'c1', now: () => performance.now(), ...more })
  transports.push(created)
  return created
}

const catchUp = (fromSlot: number): Envelope<WriteCommand> => ({ from: nodeId(2), to: nodeId(1), message: { type: 'catch-up', fromSlot: slot(fromSlot) } })

describe('StreamTransport', () => {
  it('delivers every batch, in order, over one stream', async () => {
    const { node, url } = await receiver()
    const sender = transport([[1, url]])
    for (let batch = 0; batch < 50; batch += 1) sender.send([catchUp(batch * 2 + 1), catchUp(batch * 2 + 2)])
    await waitFor('100 deliveries', async () => (node.delivered.length === 100 ? true : null), 5000)
    expect(node.delivered.map((envelope) => (envelope.message as { fromSlot: number }).fromSlot)).toEqual(Array.from({ length: 100 }, (_, index) => index + 1))
    expect(sender.counters.sent).toBe(100)
  })

  it('delivers nothing without the right secret, and reports the peer unreachable', async () => {
    const { node, url } = await receiver()
    const sender = transport([[1, url]], 'wrong-secret')
    sender.send([catchUp(1)])
    await waitFor('a refused stream', async () => (sender.counters.failures > 0 ? true : null), 5000)
    expect(node.delivered).toEqual([])
  })

  it('cuts off a stream that sends a malformed frame, and delivers nothing from it', async () => {
    const { node, url } = await receiver()
    const response = await fetch(`${url}/peer/stream`, {
      method: 'POST',
      headers: { 'x-paxos-secret': 'stream-secret', 'x-paxos-cluster': 'c1' },
      body: `${JSON.stringify({ from: 9, to: 1, messages: [{ type: 'catch-up', fromSlot: 1 }] })}\n`,
    }).catch(() => null)
    expect(response === null || response.status === 400).toBe(true)
    expect(node.delivered).toEqual([])
  })

  it('delivers messages of several MiB, each frame within the limit the receiver enforces', async () => {
    const { node, url } = await receiver()
    const sender = transport([[1, url]])
    const value = Buffer.alloc(limits.valueBytesMax, 7).toString('base64')
    const put = (name: string) => ({ type: 'put' as const, proposal: name, key: 'k', value, cas: null, idempotency: null })
    const accept = (first: number): Envelope<WriteCommand> => ({
      from: nodeId(2), to: nodeId(1),
      message: { type: 'accept', ballot: { round: 1, node: nodeId(2) }, firstSlot: slot(first), values: [[put(`a${first}`), put(`b${first}`), put(`c${first}`)]], commitIndex: slot(0) },
    })
    sender.send([accept(1), accept(2), accept(3), accept(4), catchUp(9)])
    await waitFor('five deliveries', async () => (node.delivered.length === 5 ? true : null), 20_000)
    expect(node.delivered.map((envelope) => envelope.message.type)).toEqual(['accept', 'accept', 'accept', 'accept', 'catch-up'])
    expect(sender.counters.batches).toBeGreaterThan(1) // 16 MiB of base64 does not fit one frame
    expect(sender.counters.oversized).toBe(0)
  })

  it('counts and reports (at most once per interval) a message too large for a frame, and sends the rest', async () => {
    const { node, url } = await receiver()
    const reports: unknown[] = []
    const sender = transport([[1, url]], 'stream-secret', { frameBytesMax: 4096, onOversized: (report) => reports.push(report) })
    const huge: Envelope<WriteCommand> = { from: nodeId(2), to: nodeId(1), message: { type: 'chosen', entries: [{ slot: slot(1), value: [{ type: 'put', proposal: 'p', key: 'k', value: 'QUFB'.repeat(2000), cas: null, idempotency: null }] }] } }
    sender.send([catchUp(1)])
    await waitFor('the stream open', async () => (node.delivered.length === 1 ? true : null), 5000)
    sender.send([huge, catchUp(2), huge])
    await waitFor('the small message', async () => (node.delivered.length === 2 ? true : null), 5000)
    expect(sender.counters.oversized).toBe(2)
    expect(reports).toEqual([{ peer: 1, message: { type: 'chosen', bytes: JSON.stringify(huge.message).length }, frameBytesMax: 4096, unreported: 0 }])
  })

  it('cuts off a stream whose frame is over the frame limit, and delivers nothing from it', async () => {
    const { node, url } = await receiver()
    const frame = `${JSON.stringify({ from: 2, to: 1, messages: [{ type: 'catch-up', fromSlot: 1 }] }).slice(0, -1)}${' '.repeat(limits.peerFrameBytesMax)}}\n`
    const response = await fetch(`${url}/peer/stream`, {
      method: 'POST',
      headers: { 'x-paxos-secret': 'stream-secret', 'x-paxos-cluster': 'c1' },
      body: frame,
    }).catch(() => null)
    expect(response === null || response.status === 400).toBe(true)
    expect(node.delivered).toEqual([])
  })

  it('a dead peer does not hold up a live one', async () => {
    const { node, url } = await receiver()
    const deadPort = await freePort()
    const sender = transport([[1, url], [3, `http://127.0.0.1:${deadPort}`]])
    for (let round = 0; round < 20; round += 1) {
      sender.send([catchUp(round + 1), { from: nodeId(2), to: nodeId(3), message: { type: 'catch-up', fromSlot: slot(1) } }])
    }
    await waitFor('deliveries to the live peer', async () => (node.delivered.length === 20 ? true : null), 5000)
    await waitFor('the dead peer marked unreachable', async () => (sender.reachable(nodeId(3)) ? null : true), 5000)
  })
})
