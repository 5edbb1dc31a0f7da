/**
 * The HTTP routes that carry the peer protocol in: POST /peer/stream (the receiving half of the
 * peer stream, src/transport/stream-receiver.ts) and POST /peer/messages (one batch). Secret and
 * cluster id are checked first (401, nothing changes), then the sender its headers name: a
 * member (403 otherwise) in the incarnation this node knows for it (409 otherwise: it lost its
 * data directory, and with it its promises), recorded and synced on first contact before
 * anything it sent is believed. Then size (413) and shape (400); each batch must come from that
 * sender, and is queued for the core (202) or refused when the inbox is full (503). GET
 * /peer/identity: identity-route.ts. GET /peer/snapshot:
 * the newest durable snapshot, for a peer that lacks slots this node has compacted (404 if
 * none). What is on the wire is the transport's; these routes authenticate, answer from the one
 * error table, and hand envelopes to the node.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { Context, Hono } from 'hono'
import { nodeId, type NodeId } from '../core/ids.js'
import type { Envelope } from '../core/messages.js'
import { limits } from '../core/limits.js'
import type { NodeService } from './node-service.js'
import type { PeerCodec } from '../transport/codec.js'
import { snapshotBody, snapshotPath, snapshotResponseHeaders } from '../transport/snapshot-transfer.js'
import { consumeStream, PeerReceiver, streamLost, type Received } from '../transport/stream-receiver.js'
import { peerHeaders } from '../transport/transport.js'
import { readBoundedBody } from './body.js'
import { ApiError } from './errors.js'
import { mountIdentityRoute } from './identity-route.js'
import { peerAuthenticator } from './peer-auth.js'
import type { WriteCommand } from '../kv/command.js'

export type PeerRouteOptions = Readonly<{
  node: NodeService
  secret: string
  clusterId: string
  members: ReadonlySet<NodeId>
  /** Decodes peer batches, their commands included (the composition root picks the commands' codec). */
  peerCodec: PeerCodec<WriteCommand>
  /** A peer request was refused: who sent it and why. */
  onPeerRefused?: (from: RefusedSender, reason: string) => void
}>

/** Who sent a refused request: the node id its headers claim (null if none), and its address. */
export type RefusedSender = Readonly<{ claimedNode: string | null; host: string; address: string }>

export function mountPeerRoutes(app: Hono, options: PeerRouteOptions): void {
  const authenticate = peerAuthenticator(options)
  const receiver = new PeerReceiver({ self: options.node.id, members: options.members, codec: options.peerCodec })
  mountIdentityRoute(app, { secret: options.secret, identity: (asker) => options.node.identity(asker) })
  app.post('/peer/stream', (c) => reportRefusal(c, options, async () => {
    authenticate(c.req.header(peerHeaders.secret), c.req.header(peerHeaders.cluster))
    const sender = await admitSender(c, options)
    const incoming = incomingOf(c)
    if (incoming === undefined) throw new ApiError('bad_request', 'peer streams need a Node HTTP server')
    const outcome = await consumeStream(incoming, (frame) => acceptFrame(receiver, frame, options.node, sender))
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
    const sender = await admitSender(c, options)
    const body = await readBoundedBody(c, limits.peerFrameBytesMax, `peer batches are limited to ${limits.peerFrameBytesMax} bytes`)
    const received = fromSender(receiver.receive(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')), sender)
    if (received.type === 'not_json') throw new ApiError('bad_request', 'body is not JSON')
    if (received.type === 'refused') throw new ApiError('bad_request', received.reason)
    if (options.node.deliver(received.envelopes) === 'overloaded') throw new ApiError('overloaded', 'inbox full')
    return c.body(null, 202)
  }))
}

const incarnationPattern = /^[\w-]{1,64}$/

/** The sender a peer request names, once it is a member in the incarnation this node knows. */
async function admitSender(c: Context, options: PeerRouteOptions): Promise<NodeId> {
  const claimed = Number(c.req.header(peerHeaders.node))
  const incarnation = c.req.header(peerHeaders.incarnation) ?? ''
  if (!Number.isInteger(claimed) || claimed < 1 || !incarnationPattern.test(incarnation)) {
    throw new ApiError('bad_request', `peer requests name their sender (${peerHeaders.node}) and its incarnation (${peerHeaders.incarnation})`)
  }
  const sender = nodeId(claimed)
  if (sender === options.node.id) throw new ApiError('bad_request', `a peer request from node ${sender}, which is this node's own id: two processes run as node ${sender}`)
  if (!options.members.has(sender)) throw new ApiError('not_a_member', `node ${sender} is not a member of this cluster (members ${[...options.members].join(', ')})`)
  const admitted = await options.node.admitPeer(sender, incarnation)
  if (admitted.type === 'changed') {
    throw new ApiError('incarnation_changed', `node ${sender} came back with another data directory (incarnation ${incarnation}; this node knows ${admitted.known}): ` +
      `it has forgotten its promises, so its messages are refused. Remove it (paxos-kv member remove ${sender}) and add it again`)
  }
  return sender
}

/** A batch on `sender`'s connection must come from it. */
function fromSender(received: Received<WriteCommand>, sender: NodeId): Received<WriteCommand> {
  if (received.type !== 'envelopes') return received
  const foreign = received.envelopes.find((envelope: Envelope<WriteCommand>) => envelope.from !== sender)
  return foreign === undefined ? received : { type: 'refused', reason: `a batch from node ${foreign.from} on node ${sender}'s connection` }
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
      const host = socket?.remoteAddress ?? 'unknown address'
      const address = socket === undefined ? host : `${host}:${socket.remotePort}`
      // The id is the sender's own claim, unproven when the secret was wrong: said as a claim.
      const claimedNode = c.req.header(peerHeaders.node)?.slice(0, 16) ?? null
      options.onPeerRefused?.({ claimedNode, host, address }, error.message)
    }
    throw error
  }
}

/** One frame of a stream: null when accepted (or dropped for a full inbox), else the error. */
function acceptFrame(receiver: PeerReceiver<WriteCommand>, frame: string, node: NodeService, sender: NodeId): string | null {
  const received = fromSender(receiver.receive(frame), sender)
  if (received.type === 'not_json') return 'a frame is not JSON'
  if (received.type === 'refused') return received.reason
  node.deliver(received.envelopes) // a full inbox drops the frame: Paxos re-sends what matters
  return null
}
