/**
 * Goal: the step-through routes exist only with --debug-step (404 otherwise), refuse a missing
 * or wrong X-Paxos-Secret with 401 and change nothing, validate their bodies (400), and hold,
 * list, release and drop this node's outgoing messages in order, within a bound.
 * Method: app.request() against createApp with a FakeNode whose step port is a real
 * HoldingTransport over a transport that records what it was given.
 */
import { describe, expect, it } from 'vitest'
import { nodeId, slot, type Envelope } from '../../src/core/index.js'
import { createApp } from '../../src/server/app.js'
import { HoldingTransport } from '../../src/transport/holding-transport.js'
import { FakeNode } from './fake-node.js'
import type { WriteCommand } from '../../src/kv/command.js'
import { PeerCodec } from '../../src/transport/codec.js'
import { writeCommandSchema } from '../../src/kv/command-codec.js'

const secret = 'step-secret'

function setup(debugStep: boolean, heldMax = 8) {
  const node = new FakeNode()
  const sent: Envelope<WriteCommand>[] = []
  const transport = new HoldingTransport<WriteCommand>({ send: (envelopes) => void sent.push(...envelopes), close: async () => {} }, heldMax)
  if (debugStep) node.step = transport
  const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node, secret, clusterId: 'c1', members: new Set([nodeId(1), nodeId(2), nodeId(3)]), requestTimeoutMs: 100, valueBytesMax: 1024, onFatal: () => {} })
  const post = (path: string, body: unknown, headers: Record<string, string> = { 'x-paxos-secret': secret }) =>
    app.request(path, { method: 'POST', body: body === undefined ? '' : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } })
  return { app, transport, sent, post }
}

const accept = (to: number, at: number): Envelope<WriteCommand> => ({
  from: nodeId(1), to: nodeId(to), message: { type: 'accept', ballot: { round: 2, node: nodeId(1) }, firstSlot: slot(at), values: [[{ type: 'noop' }]], commitIndex: slot(0) },
})
const heartbeat = (to: number): Envelope<WriteCommand> => ({ from: nodeId(1), to: nodeId(to), message: { type: 'heartbeat', ballot: { round: 2, node: nodeId(1) }, commitIndex: slot(0), readRound: 0 } })

describe('step-through routes', () => {
  it('are 404 without --debug-step', async () => {
    const { app, post } = setup(false)
    expect((await post('/v1/debug/hold', { to: 2, types: ['accept'] })).status).toBe(404)
    expect((await app.request('/v1/debug/held', { headers: { 'x-paxos-secret': secret } })).status).toBe(404)
  })

  it('need the cluster secret: 401 without it or with a wrong one, and nothing is held', async () => {
    const { app, transport, post } = setup(true)
    expect((await post('/v1/debug/hold', { to: 2, types: ['accept'] }, {})).status).toBe(401)
    expect((await post('/v1/debug/hold', { to: 2, types: ['accept'] }, { 'x-paxos-secret': 'wrong-secret' })).status).toBe(401)
    expect((await app.request('/v1/debug/held')).status).toBe(401)
    expect(transport.view().rules).toEqual([])
  })

  it('hold, list, release one, drop one, release all: in the order held, the rest passing through', async () => {
    const { app, transport, sent, post } = setup(true)
    const held = await post('/v1/debug/hold', { to: 2, types: ['accept'] })
    expect(held.status).toBe(200)
    expect(await held.json()).toMatchObject({ rules: [{ to: 2, types: ['accept'] }], held: [] })
    transport.send([accept(2, 1), accept(3, 1), heartbeat(2), accept(2, 2), accept(2, 3)])
    expect(sent).toEqual([accept(3, 1), heartbeat(2)])
    const listed = await (await app.request('/v1/debug/held', { headers: { 'x-paxos-secret': secret } })).json() as { held: unknown[] }
    expect(listed.held).toEqual([
      { id: 1, to: 2, type: 'accept', ballot: '2.1', slots: '1' },
      { id: 2, to: 2, type: 'accept', ballot: '2.1', slots: '2' },
      { id: 3, to: 2, type: 'accept', ballot: '2.1', slots: '3' },
    ])
    expect(await (await post('/v1/debug/release', { count: 1 })).json()).toMatchObject({ released: 1, held: [{ id: 2 }, { id: 3 }] })
    expect(sent.slice(2)).toEqual([accept(2, 1)])
    expect(await (await post('/v1/debug/drop', undefined)).json()).toMatchObject({ dropped: 1, held: [{ id: 3 }] })
    expect(await (await post('/v1/debug/release', { all: true })).json()).toMatchObject({ released: 1, held: [] })
    expect(sent.slice(3)).toEqual([accept(2, 3)]) // slot 2's accept was dropped, never sent
    await post('/v1/debug/hold', { to: 2, types: [] }) // no types: stop holding
    transport.send([accept(2, 4)])
    expect(sent.slice(4)).toEqual([accept(2, 4)])
  })

  it('holds at most its bound; past it a matching message is dropped and counted', async () => {
    const { transport, sent, post } = setup(true, 2)
    await post('/v1/debug/hold', { to: 3, types: ['accept', 'heartbeat'] })
    transport.send([accept(3, 1), heartbeat(3), accept(3, 2)])
    expect(transport.view()).toMatchObject({ held: [{ id: 1 }, { id: 2 }], droppedOverLimit: 1 })
    expect(sent).toEqual([])
  })

  it('bad bodies are 400 and change nothing', async () => {
    const { transport, post } = setup(true)
    for (const body of [{ to: 1, types: ['accept'] }, { to: 9, types: ['accept'] }, { to: 2, types: ['bogus'] }, { to: 2 }, { to: 2, types: ['accept'], extra: 1 }]) {
      expect((await post('/v1/debug/hold', body)).status, JSON.stringify(body)).toBe(400)
    }
    for (const body of [{}, { count: 0 }, { count: 'one' }, { all: false }]) {
      expect((await post('/v1/debug/release', body)).status, JSON.stringify(body)).toBe(400)
    }
    expect((await post('/v1/debug/release', undefined)).status).toBe(400)
    expect(transport.view().rules).toEqual([])
  })
})
