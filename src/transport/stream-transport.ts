/**
 * Peer messages over one long-lived HTTP request per peer: `POST /peer/stream`, authenticated
 * once by its headers, whose body is a stream of newline-delimited batch frames. Compared with
 * a request and an answer per batch, a frame costs one write and no HTTP parsing. Frames on one
 * stream arrive in order; a broken stream loses what was in flight (Paxos re-sends) and is
 * reopened with backoff. Each peer's buffer is bounded: past it, frames are dropped. Frames are
 * written piece by piece and never exceed the frame limit the receiver enforces; a message too
 * large for any frame is not sent, and is counted and reported (it would be a bug: the core cuts
 * every message to fit).
 * @module
 */
import { PassThrough } from 'node:stream'
import { Client } from 'undici'
import { assert } from '../core/assert.js'
import type { AppCommand } from '../core/command.js'
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { Envelope, PeerMessage } from '../core/messages.js'
import { encodeFrames, type OversizedMessage } from './codec.js'
import { peerHeaders, type Transport, type TransportCounters } from './transport.js'

/** What the transport reports about messages it could not send for their size. */
export type OversizedReport = Readonly<{
  peer: NodeId
  message: OversizedMessage
  frameBytesMax: number
  /** Oversized messages to any peer not reported since the previous report. */
  unreported: number
}>

type PeerStream = {
  readonly id: NodeId
  readonly client: Client
  body: PassThrough | null
  /** Frames waiting while the stream is being (re)opened; bounded like an outbox. */
  pending: PeerMessage<AppCommand>[]
  reopenAtMs: number
  backoffMs: number
  reachable: boolean
  opening: boolean
}

const backoffMaxMs = 1000
/** At most one oversized-message report this often; the counter counts every one. */
const oversizedReportMs = 10_000

export class StreamTransport implements Transport<AppCommand> {
  readonly #self: NodeId
  readonly #peers = new Map<NodeId, PeerStream>()
  readonly #urls = new Map<NodeId, string>()
  readonly #headers: Record<string, string>
  readonly #now: () => number
  readonly #onRefused: (peer: NodeId, status: number, reason: string) => void
  readonly #frameBytesMax: number
  readonly #onOversized: (report: OversizedReport) => void
  readonly counters: TransportCounters = { sent: 0, dropped: 0, failures: 0, batches: 0, oversized: 0 }
  #closed = false
  #oversizedReportedAtMs = Number.NEGATIVE_INFINITY
  #oversizedUnreported = 0

  constructor(options: {
    self: NodeId
    peers: ReadonlyMap<NodeId, string>
    secret: string
    clusterId: string
    /** This node's data-directory incarnation, which every stream names beside its id. */
    incarnation: string
    now: () => number
    /** A peer answered our stream with an error (wrong secret, other cluster, not a member). */
    onRefused?: (peer: NodeId, status: number, reason: string) => void
    /** The receiver's limit: limits.peerFrameBytesMax unless a test lowers it. */
    frameBytesMax?: number
    onOversized?: (report: OversizedReport) => void
  }) {
    this.#self = options.self
    this.#now = options.now
    this.#onRefused = options.onRefused ?? (() => {})
    this.#frameBytesMax = options.frameBytesMax ?? limits.peerFrameBytesMax
    this.#onOversized = options.onOversized ?? (() => {})
    this.#headers = {
      'content-type': 'application/x-ndjson', [peerHeaders.secret]: options.secret, [peerHeaders.cluster]: options.clusterId,
      [peerHeaders.node]: String(options.self), [peerHeaders.incarnation]: options.incarnation,
    }
    for (const [id, url] of options.peers) this.setPeer(id, url)
  }

  /**
   * Where `id` is reached from now on (a member added, or its URL changed by a configuration);
   * the old link, if any, is closed. Nothing changes when the URL is the same.
   */
  setPeer(id: NodeId, url: string): void {
    if (id === this.#self || this.#closed) return
    const existing = this.#peers.get(id)
    if (existing !== undefined) {
      if (this.#urls.get(id) === url) return
      existing.body?.end()
      void existing.client.destroy().catch(() => {})
    }
    const client = new Client(url, { headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000 })
    const peer: PeerStream = { id, client, body: null, pending: [], reopenAtMs: 0, backoffMs: 0, reachable: true, opening: false }
    client.on('connect', () => (peer.reachable = true))
    client.on('disconnect', () => (peer.reachable = false))
    this.#peers.set(id, peer)
    this.#urls.set(id, url)
  }

  send(envelopes: readonly Envelope<AppCommand>[]): void {
    if (this.#closed) return
    const byPeer = new Map<PeerStream, PeerMessage<AppCommand>[]>()
    for (const envelope of envelopes) {
      assert(envelope.from === this.#self, 'sending an envelope from another node')
      const peer = this.#peers.get(envelope.to)
      if (peer === undefined) continue
      const messages = byPeer.get(peer)
      if (messages === undefined) byPeer.set(peer, [envelope.message])
      else messages.push(envelope.message)
    }
    const encoded = new Map<PeerMessage<AppCommand>, string>()
    for (const [peer, messages] of byPeer) this.#sendTo(peer, messages, encoded)
  }

  reachable(id: NodeId): boolean {
    return this.#peers.get(id)?.reachable ?? true
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const peer of this.#peers.values()) peer.body?.end()
    await Promise.all([...this.#peers.values()].map((peer) => peer.client.destroy().catch(() => {})))
  }

  #sendTo(peer: PeerStream, messages: PeerMessage<AppCommand>[], encoded?: Map<PeerMessage<AppCommand>, string>): void {
    const body = peer.body
    if (body === null) {
      peer.pending.push(...messages)
      const excess = peer.pending.length - limits.outboxEnvelopesMax
      if (excess > 0) {
        peer.pending.splice(0, excess)
        this.counters.dropped += excess
      }
      this.#open(peer)
      return
    }
    if (body.writableLength > limits.peerBufferedBytesMax) {
      this.counters.dropped += messages.length // the peer is not keeping up: let Paxos re-send
      return
    }
    const { frames, oversized } = encodeFrames({ from: this.#self, to: peer.id, messages }, this.#frameBytesMax, encoded)
    for (const frame of frames) {
      for (const piece of frame.pieces) if (piece.length > 0) body.write(piece)
      this.counters.sent += frame.messages
      this.counters.batches += 1
    }
    for (const message of oversized) this.#oversized(peer.id, message)
  }

  #oversized(peer: NodeId, message: OversizedMessage): void {
    this.counters.oversized += 1
    const now = this.#now()
    if (now - this.#oversizedReportedAtMs < oversizedReportMs) {
      this.#oversizedUnreported += 1
      return
    }
    this.#onOversized({ peer, message, frameBytesMax: this.#frameBytesMax, unreported: this.#oversizedUnreported })
    this.#oversizedReportedAtMs = now
    this.#oversizedUnreported = 0
  }

  #open(peer: PeerStream): void {
    if (this.#closed || peer.opening || peer.body !== null) return
    const waitMs = peer.reopenAtMs - this.#now()
    peer.opening = true
    if (waitMs > 0) {
      setTimeout(() => {
        peer.opening = false
        this.#open(peer)
      }, waitMs).unref()
      return
    }
    const body = new PassThrough()
    peer.body = body
    peer.opening = false
    const pending = peer.pending
    peer.pending = []
    if (pending.length > 0) this.#sendTo(peer, pending)
    // The request lasts as long as the stream: its answer only comes when one side ends it.
    peer.client
      .request({ path: '/peer/stream', method: 'POST', headers: this.#headers, body })
      .then(async (response) => {
        if (response.statusCode === 200) return void (await response.body.dump())
        this.#onRefused(peer.id, response.statusCode, await refusalReason(response.body))
        throw new Error(`peer answered ${response.statusCode}`)
      })
      .then(() => this.#closedStream(peer, body, false), () => this.#closedStream(peer, body, true))
  }

  #closedStream(peer: PeerStream, body: PassThrough, failed: boolean): void {
    if (peer.body !== body) return
    peer.body = null
    body.destroy()
    if (failed) {
      this.counters.failures += 1
      peer.reachable = false
      peer.backoffMs = Math.min(backoffMaxMs, Math.max(25, peer.backoffMs * 2))
      peer.reopenAtMs = this.#now() + peer.backoffMs
    } else {
      peer.backoffMs = 0
    }
    if (!this.#closed && peer.pending.length > 0) this.#open(peer)
  }
}

/** The `message` of a peer's JSON error body (at most 1 KiB of it), or why there is none. */
async function refusalReason(body: AsyncIterable<Buffer> & { dump(): Promise<void> }): Promise<string> {
  let text = ''
  for await (const chunk of body) {
    text += chunk.toString('utf8')
    if (text.length > 1024) break
  }
  await body.dump().catch(() => {})
  try {
    const parsed = JSON.parse(text) as { message?: unknown }
    if (typeof parsed.message === 'string') return parsed.message
  } catch {
    // not JSON: fall through
  }
  return text.length === 0 ? 'no reason given' : text.slice(0, 200)
}
