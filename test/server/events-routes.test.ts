/**
 * Goal: GET /v1/events is an SSE stream any EventSource reads (hello, then frames), queues
 * are bounded (a subscriber that does not read is cut off, the subscriber count is capped),
 * bad queries are 400, and `?node=N` relays member N's own feed.
 * Method: app.request() against createApp with a FakeNode whose real LiveFeed gets frames
 * published by hand; the relay goes to a real second server on 127.0.0.1.
 */
import { serve } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { limits, nodeId, slot } from '../../src/core/index.js'
import type { LiveFrame } from '../../src/observability/live-frame.js'
import { createApp } from '../../src/server/app.js'
import { FakeNode } from './fake-node.js'
import { PeerCodec } from '../../src/transport/codec.js'
import { writeCommandSchema } from '../../src/kv/command-codec.js'

function setup() {
  const node = new FakeNode()
  const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node, secret: 's', clusterId: 'c1', members: new Set([nodeId(1), nodeId(2)]), requestTimeoutMs: 300, valueBytesMax: 1024, onFatal: () => {} })
  return { node, app }
}

type SseEvent = { event: string; data: unknown }

/** Reads SSE events from a response body; text left over from one call is kept for the next. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  readonly #decoder = new TextDecoder()
  #text = ''
  #events: SseEvent[] = []

  constructor(response: Response) {
    this.#reader = response.body!.getReader()
  }

  /** The next `count` events, or fewer if the stream ended first. */
  async read(count: number): Promise<{ events: SseEvent[]; ended: boolean }> {
    for (;;) {
      const blocks = this.#text.split('\n\n')
      this.#text = blocks.pop()!
      for (const block of blocks) {
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event !== undefined && data !== undefined) this.#events.push({ event, data: JSON.parse(data) })
      }
      if (this.#events.length >= count) return { events: this.#events.splice(0, count), ended: false }
      const { done, value } = await this.#reader.read()
      if (done) return { events: this.#events.splice(0), ended: true }
      this.#text += this.#decoder.decode(value)
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel()
  }
}

const closers: Array<() => void> = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

describe('GET /v1/events', () => {
  it('streams hello, then one frame per publish, as text/event-stream', async () => {
    const { app, node } = setup()
    const response = await app.request('/v1/events')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    node.live.recorder.coreEvent({ type: 'became-leader', ballot: { round: 2, node: nodeId(1) }, recoveredThrough: slot(1) }, 5)
    node.live.publishFrame()
    const reader = new SseReader(response)
    const { events } = await reader.read(2)
    expect(events[0]).toMatchObject({ event: 'hello', data: { id: 1, members: [1, 2], frameMs: limits.liveFrameMs } })
    expect(events[1]!.event).toBe('frame')
    const frame = events[1]!.data as LiveFrame
    expect(frame.node).toMatchObject({ id: 1, role: 'leader', promised: '1.1' })
    expect(frame.roleChanges).toEqual([{ atMs: 5, role: 'leader', ballot: '2.1', reason: 'a quorum promised', recoveredThrough: 1 }])
    await reader.cancel()
    expect((await app.request('/v1/events')).status).toBe(200) // the cancelled one left room
  })

  it('cuts off a subscriber that does not read, and does not hold up the others', async () => {
    const { app, node } = setup()
    const slow = new SseReader(await app.request('/v1/events'))
    const fast = new SseReader(await app.request('/v1/events'))
    const fastFrames: SseEvent[] = []
    for (let frame = 0; frame < limits.liveQueueFramesMax * 2; frame += 1) {
      node.live.publishFrame()
      fastFrames.push(...(await fast.read(frame === 0 ? 2 : 1)).events)
    }
    expect(fastFrames.filter((event) => event.event === 'frame')).toHaveLength(limits.liveQueueFramesMax * 2)
    const { events, ended } = await slow.read(Infinity)
    expect(ended).toBe(true)
    expect(events.filter((event) => event.event === 'frame').length).toBeLessThanOrEqual(limits.liveQueueFramesMax + 1)
  })

  it('refuses a subscriber past the limit with 503, and a bad query with 400', async () => {
    const { app } = setup()
    const open: Response[] = []
    for (let index = 0; index < limits.liveSubscribersMax; index += 1) open.push(await app.request('/v1/events'))
    expect(open.every((response) => response.status === 200)).toBe(true)
    const refused = await app.request('/v1/events')
    expect(refused.status).toBe(503)
    expect(await refused.json()).toMatchObject({ error: 'overloaded' })
    for (const response of open) await response.body!.cancel()
    expect((await app.request('/v1/events?node=x')).status).toBe(400)
    expect((await app.request('/v1/events?other=1')).status).toBe(400)
    expect((await app.request('/v1/events?node=2')).status).toBe(404) // no URL for member 2
  })

  it('?node=N relays member N\'s feed; an unreachable member is 503', async () => {
    const peer = setup()
    const server = serve({ port: 0, hostname: '127.0.0.1', fetch: peer.app.fetch })
    closers.push(() => server.close())
    await new Promise((resolve) => server.once('listening', resolve))
    const address = server.address()
    const { app, node } = setup()
    node.leaderUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    const response = await app.request('/v1/events?node=2')
    expect(response.status).toBe(200)
    const relayed = new SseReader(response)
    peer.node.stateMachine.apply([{ slot: slot(1), value: [{ type: 'delete', proposal: 'p', key: 'k', cas: null, idempotency: null }] }])
    const { events: [hello] } = await relayed.read(1)
    expect(hello!.event).toBe('hello')
    peer.node.live.publishFrame()
    const { events: [frame] } = await relayed.read(1)
    expect((frame!.data as LiveFrame).node.revision).toBe(1) // the peer's state, not ours (0)
    await relayed.cancel()
    node.leaderUrl = 'http://127.0.0.1:9'
    expect((await app.request('/v1/events?node=2')).status).toBe(503)
  })
})
