/**
 * POST /peer/messages: the only way into the protocol from outside. Secret and cluster id are
 * checked first (401, nothing changes), then size (413) and shape (400), then the batch is
 * queued for the core (202) or refused when the inbox is full (503). GET /peer/snapshot: the
 * newest durable snapshot, for a peer that lacks slots this node has compacted (404 if none).
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { Context, Hono } from 'hono'
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { Envelope } from '../core/messages.js'
import type { NodeService } from './node-service.js'
import type { PeerBatch, PeerCodec } from '../transport/codec.js'
import { snapshotBody, snapshotPath, snapshotResponseHeaders } from '../transport/snapshot-transfer.js'
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
  app.post('/peer/stream', (c) => reportRefusal(c, options, async () => {
    authenticate(c.req.header(peerHeaders.secret), c.req.header(peerHeaders.cluster))
    const incoming = incomingOf(c)
    if (incoming === undefined) throw new ApiError('bad_request', 'peer streams need a Node HTTP server')
    const outcome = await consumeStream(incoming, (frame) => acceptFrame(frame, options))
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
    let json: unknown
    try {
      json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
    } catch {
      throw new ApiError('bad_request', 'body is not JSON')
    }
    const decoded = options.peerCodec.decodeBatch(json)
    if (!decoded.ok) throw new ApiError('bad_request', `malformed peer batch: ${decoded.error}`)
    const envelopes = envelopesOf(decoded.batch, options)
    if (typeof envelopes === 'string') throw new ApiError('bad_request', envelopes)
    if (options.node.deliver(envelopes) === 'overloaded') throw new ApiError('overloaded', 'inbox full')
    return c.body(null, 202)
  }))
}

function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
}

const streamBroke = 'the stream broke'
const streamEndedInFrame = 'the stream ended inside a frame'
const streamLost: ReadonlySet<string> = new Set([streamBroke, streamEndedInFrame])

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

/** A batch's envelopes, or why the batch is refused (a foreign sender or recipient). */
function envelopesOf(batch: PeerBatch<WriteCommand>, options: PeerRouteOptions): Envelope<WriteCommand>[] | string {
  const { from, to, messages } = batch
  if (!options.members.has(from) || from === options.node.id) return `node ${from} is not a member of this cluster (members ${[...options.members].join(', ')})`
  if (to !== options.node.id) return `batch addressed to node ${to}, this is node ${options.node.id}`
  return messages.map((message) => ({ from, to, message }))
}

/** One frame of a stream: null when accepted (or dropped for a full inbox), else the error. */
function acceptFrame(frame: string, options: PeerRouteOptions): string | null {
  let json: unknown
  try {
    json = JSON.parse(frame)
  } catch {
    return 'a frame is not JSON'
  }
  const decoded = options.peerCodec.decodeBatch(json)
  if (!decoded.ok) return `malformed peer batch: ${decoded.error}`
  const envelopes = envelopesOf(decoded.batch, options)
  if (typeof envelopes === 'string') return envelopes
  options.node.deliver(envelopes) // a full inbox drops the frame: Paxos re-sends what matters
  return null
}

/**
 * Reads newline-delimited frames until the stream ends. Resolves null at a clean end, or the
 * reason it stopped early (a bad frame or an oversized one): the sender is then cut off.
 * Chunks are kept as bytes and only a new chunk is searched for the newline, so a frame costs
 * time linear in its size; a frame longer than the frame limit (newline included, the same
 * limit the sender packs to) is refused as soon as it is.
 */
function consumeStream(incoming: IncomingMessage, onFrame: (frame: string) => string | null): Promise<string | null> {
  return new Promise((resolve) => {
    let parts: Buffer[] = []
    let partsBytes = 0
    const stop = (reason: string | null): void => {
      incoming.removeAllListeners('data')
      if (reason !== null) incoming.destroy()
      resolve(reason)
    }
    const tooLong = 'a frame is over the size limit'
    incoming.on('data', (chunk: Buffer) => {
      let start = 0
      for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, newline)
        if (partsBytes + piece.length + 1 > limits.peerFrameBytesMax) return stop(tooLong)
        const frame = parts.length === 0 ? piece : Buffer.concat([...parts, piece])
        parts = []
        partsBytes = 0
        const error = onFrame(frame.toString('utf8'))
        if (error !== null) return stop(error)
        start = newline + 1
      }
      if (start < chunk.length) {
        parts.push(chunk.subarray(start))
        partsBytes += chunk.length - start
      }
      if (partsBytes + 1 > limits.peerFrameBytesMax) stop(tooLong)
    })
    incoming.once('end', () => stop(partsBytes === 0 ? null : streamEndedInFrame))
    incoming.once('error', () => stop(streamBroke))
  })
}
