/**
 * POST /peer/messages: the only way into the protocol from outside. Secret and cluster id are
 * checked first (401, nothing changes), then size (413) and shape (400), then the batch is
 * queued for the core (202) or refused when the inbox is full (503).
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { Envelope } from '../core/messages.js'
import type { NodeService } from '../node/node-service.js'
import { decodePeerBatch } from '../transport/codec.js'
import { peerHeaders } from '../transport/transport.js'
import { ApiError } from './errors.js'

export type PeerRouteOptions = Readonly<{ node: NodeService; secret: string; clusterId: string; members: ReadonlySet<NodeId> }>

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

export function mountPeerRoutes(app: Hono, options: PeerRouteOptions): void {
  const expectedSecret = digest(options.secret)
  const authenticate = (secret: string | undefined, clusterId: string | undefined): void => {
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (secret === undefined || !timingSafeEqual(digest(secret), expectedSecret)) {
      throw new ApiError('unauthorized', 'missing or wrong cluster secret')
    }
    if (clusterId !== options.clusterId) throw new ApiError('unauthorized', 'wrong cluster id')
  }
  const limit = bodyLimit({
    maxSize: limits.peerBodyBytesMax,
    onError: () => {
      throw new ApiError('too_large', `peer batches are limited to ${limits.peerBodyBytesMax} bytes`)
    },
  })

  app.post(
    '/peer/messages',
    async (c, next) => {
      authenticate(c.req.header(peerHeaders.secret), c.req.header(peerHeaders.cluster))
      await next()
    },
    limit,
    async (c) => {
      let json: unknown
      try {
        json = await c.req.json()
      } catch {
        throw new ApiError('bad_request', 'body is not JSON')
      }
      const decoded = decodePeerBatch(json)
      if (!decoded.ok) throw new ApiError('bad_request', `malformed peer batch: ${decoded.error}`)
      const { from, to, messages } = decoded.batch
      if (!options.members.has(from) || from === options.node.id) throw new ApiError('bad_request', `unknown peer ${from}`)
      if (to !== options.node.id) throw new ApiError('bad_request', `batch addressed to node ${to}, this is node ${options.node.id}`)
      const envelopes: Envelope[] = messages.map((message) => ({ from, to, message }))
      if (options.node.deliver(envelopes) === 'overloaded') throw new ApiError('overloaded', 'inbox full')
      return c.body(null, 202)
    },
  )
}
