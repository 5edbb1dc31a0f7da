/**
 * The HTTP routes that carry the peer protocol in: POST /peer/stream (the receiving half of the
 * peer stream, src/transport/stream-receiver.ts) and POST /peer/messages (one batch). Secret and
 * cluster id are checked first (401, nothing changes), then size (413) and shape (400), then the
 * batch is queued for the core (202) or refused when the inbox is full (503). GET /peer/snapshot:
 * the newest durable snapshot, for a peer that lacks slots this node has compacted (404 if
 * none). What is on the wire is the transport's; these routes authenticate, answer from the one
 * error table, and hand envelopes to the node.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { Context, Hono } from 'hono'
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { NodeService } from './node-service.js'
import type { PeerCodec } from '../transport/codec.js'
import { snapshotBody, snapshotPath, snapshotResponseHeaders } from '../transport/snapshot-transfer.js'
import { consumeStream, PeerReceiver, streamLost } from '../transport/stream-receiver.js'
import { peerHeaders } from '../transport/transport.js'
import { readBoundedBody } from './body.js'
import { ApiError } from './errors.js'
import { peerAuthenticator } from './peer-auth.js'
import type { WriteCommand } from '../kv/command.js'

export type PeerRouteOptions = Readonly<{
  node: NodeService
  secret: string
  clusterId: string
  members: ReadonlySet<NodeId>
  /** Decodes peer batches, their commands included (the composition root picks the commands' codec). */
  peerCodec: PeerCodec<WriteCommand>
  /** A peer request was refused: who sent it (address, and node id when known) and why. */
  onPeerRefused?: (from: string, reason: string) => void
}>

export function mountPeerRoutes(app: Hono, options: PeerRouteOptions): void {
  const authenticate = peerAuthenticator(options)
  const receiver = new PeerReceiver({ self: options.node.id, members: options.members, codec: options.peerCodec })
  app.post('/peer/stream', (c) => reportRefusal(c, options, async () => {
    authenticate(c.req.header(peerHeaders.secret), c.req.header(peerHeaders.cluster))
    const incoming = incomingOf(c)
    if (incoming === undefined) throw new ApiError('bad_request', 'peer streams need a Node HTTP server')
    const outcome = await consumeStream(incoming, (frame) => acceptFrame(receiver, frame, options.node))
    if (outcome !== null) throw new ApiError('bad_request', outcome)
    return c.body(null, 200)
  }))

  // A lagging peer pulls this node's newest durable snapshot, streamed chunk by chunk.
  app.get(snapshotPath, (c) => reportRefusal(c, options, async () => {
    authenticate(c.req.header(peerHeaders.secret), c.req.header(peerHeaders.cluster))
    const source = options.node.newestSnapshot()
    if (source === null) throw new ApiError('not_found', 'this node has no snapshot yet')
    return new Response(snapshotBody(source), { status: 200, headers: snapshotResponseHeaders(source) })
  }))

  app.post('/peer/messages', (c) => reportRefusal(c, options, async () => {
    authenticate(c.req.header(peerHeaders.secret), c.req.header(peerHeaders.cluster))
    const body = await readBoundedBody(c, limits.peerFrameBytesMax, `peer batches are limited to ${limits.peerFrameBytesMax} bytes`)
    const received = receiver.receive(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
    if (received.type === 'not_json') throw new ApiError('bad_request', 'body is not JSON')
    if (received.type === 'refused') throw new ApiError('bad_request', received.reason)
    if (options.node.deliver(received.envelopes) === 'overloaded') throw new ApiError('overloaded', 'inbox full')
    return c.body(null, 202)
  }))
}

function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
}

/**
 * A refused peer is told why (the error body), and this node says so too: a node started with
 * the wrong secret, or one nobody knows, is otherwise visible only as a metric on one side.
 */
async function reportRefusal(c: Context, options: PeerRouteOptions, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work()
  } catch (error) {
    // A full inbox, or a peer that went away mid-stream (it stopped or restarted), refused nothing.
    if (error instanceof ApiError && error.code !== 'overloaded' && !streamLost.has(error.message)) {
      const socket = incomingOf(c)?.socket
      options.onPeerRefused?.(socket === undefined ? 'unknown address' : `${socket.remoteAddress}:${socket.remotePort}`, error.message)
    }
    throw error
  }
}

/** One frame of a stream: null when accepted (or dropped for a full inbox), else the error. */
function acceptFrame(receiver: PeerReceiver<WriteCommand>, frame: string, node: NodeService): string | null {
  const received = receiver.receive(frame)
  if (received.type === 'not_json') return 'a frame is not JSON'
  if (received.type === 'refused') return received.reason
  node.deliver(received.envelopes) // a full inbox drops the frame: Paxos re-sends what matters
  return null
}
