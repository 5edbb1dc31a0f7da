/**
 * The receiving half of the peer stream (stream-transport.ts is the sending half): newline-
 * delimited frames read off one long-lived request, each a batch decoded by the peer codec and
 * checked for its sender and recipient. The HTTP routes that carry it (src/server/peer-routes.ts)
 * authenticate the request and hand the envelopes to the node; everything about the wire is here.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { AppCommand } from '../core/command.js'
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { Envelope } from '../core/messages.js'
import type { PeerBatch, PeerCodec } from './codec.js'

/** What one batch (a stream frame or a POST body) comes to. */
export type Received<C extends AppCommand> =
  | Readonly<{ type: 'envelopes'; envelopes: Envelope<C>[] }>
  | Readonly<{ type: 'not_json' }>
  | Readonly<{ type: 'refused'; reason: string }>

/** Decodes batches addressed to `self` from the other `members`. */
export class PeerReceiver<C extends AppCommand> {
  readonly #self: NodeId
  readonly #members: ReadonlySet<NodeId>
  readonly #codec: PeerCodec<C>

  constructor(options: { self: NodeId; members: ReadonlySet<NodeId>; codec: PeerCodec<C> }) {
    this.#self = options.self
    this.#members = options.members
    this.#codec = options.codec
  }

  receive(text: string): Received<C> {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return { type: 'not_json' }
    }
    const decoded = this.#codec.decodeBatch(json)
    if (!decoded.ok) return { type: 'refused', reason: `malformed peer batch: ${decoded.error}` }
    return this.#envelopesOf(decoded.batch)
  }

  /** A batch's envelopes, or why the batch is refused (a foreign sender or recipient). */
  #envelopesOf(batch: PeerBatch<C>): Received<C> {
    const { from, to, messages } = batch
    if (!this.#members.has(from) || from === this.#self) return { type: 'refused', reason: `node ${from} is not a member of this cluster (members ${[...this.#members].join(', ')})` }
    if (to !== this.#self) return { type: 'refused', reason: `batch addressed to node ${to}, this is node ${this.#self}` }
    return { type: 'envelopes', envelopes: messages.map((message) => ({ from, to, message })) }
  }
}

export const streamBroke = 'the stream broke'
export const streamEndedInFrame = 'the stream ended inside a frame'
/** A stream that stopped for one of these lost its peer (it stopped or restarted); it refused nothing. */
export const streamLost: ReadonlySet<string> = new Set([streamBroke, streamEndedInFrame])

/**
 * Reads newline-delimited frames until the stream ends. Resolves null at a clean end, or the
 * reason it stopped early (a bad frame or an oversized one): the sender is then cut off.
 * Chunks are kept as bytes and only a new chunk is searched for the newline, so a frame costs
 * time linear in its size; a frame longer than the frame limit (newline included, the same
 * limit the sender packs to) is refused as soon as it is.
 */
export function consumeStream(incoming: IncomingMessage, onFrame: (frame: string) => string | null): Promise<string | null> {
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
