/**
 * GET /v1/events: the live feed as Server-Sent Events (any browser EventSource reads it).
 * `?node=N` relays member N's own feed through this node, so one page served by one node sees
 * every member without cross-origin requests. Each stream is pulled: a subscriber that does not
 * read is cut off by its bounded queue, and a relay reads its peer only as fast as it is read.
 * @module
 */
import { Readable } from 'node:stream'
import type { Context, Hono } from 'hono'
import { request } from 'undici'
import { z } from 'zod'
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { NodeService } from './node-service.js'
import { ApiError } from './errors.js'

const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }
/** A relayed feed that sends nothing for this long is dead: frames come every liveFrameMs. */
const relayIdleMs = Math.max(5000, limits.liveFrameMs * 20)

const querySchema = z.strictObject({ node: z.string().regex(/^\d{1,3}$/).transform(Number).optional() })

function localFeed(node: NodeService): Response {
  const subscription = node.liveEvents()
  if (subscription === null) throw new ApiError('overloaded', `at most ${limits.liveSubscribersMax} live-feed subscribers per node`)
  const encoder = new TextEncoder()
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // EventSource reconnects after `retry` ms when the stream breaks.
      controller.enqueue(encoder.encode(`retry: 1000\n\n${subscription.hello}`))
    },
    async pull(controller) {
      const frame = await subscription.frames.next()
      if (frame === null) controller.close()
      else controller.enqueue(encoder.encode(frame))
    },
    cancel() {
      subscription.frames.close()
    },
  })
  return new Response(stream, { headers: sseHeaders })
}

class RelayCount {
  active = 0
}

async function relayedFeed(node: NodeService, target: NodeId, relays: RelayCount): Promise<Response> {
  const base = node.peerUrl(target)
  if (base === null) throw new ApiError('not_found', `no member ${target}`)
  if (relays.active >= limits.liveSubscribersMax) throw new ApiError('overloaded', 'too many relayed live feeds')
  let response: Awaited<ReturnType<typeof request>>
  try {
    response = await request(`${base}/v1/events`, { method: 'GET', headersTimeout: relayIdleMs, bodyTimeout: relayIdleMs })
  } catch {
    throw new ApiError('unavailable', `member ${target} cannot be reached`)
  }
  if (response.statusCode !== 200) {
    await response.body.dump()
    throw new ApiError('unavailable', `member ${target} answered ${response.statusCode}`)
  }
  relays.active += 1
  const body = response.body
  body.once('close', () => (relays.active -= 1))
  return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, { headers: sseHeaders })
}

export function mountEventsRoutes(app: Hono, node: NodeService): void {
  const relays = new RelayCount()
  app.get('/v1/events', async (c: Context) => {
    const parsed = querySchema.safeParse(c.req.query())
    if (!parsed.success) throw new ApiError('bad_request', 'the only query parameter is node, a member id')
    const target = parsed.data.node
    if (target === undefined || target === node.id) return localFeed(node)
    return relayedFeed(node, target as NodeId, relays)
  })
}
