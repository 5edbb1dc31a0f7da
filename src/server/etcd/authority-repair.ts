/**
 * etcd's Go client sends an `:authority` of `http://host:port` when it dials one endpoint by
 * itself (Maintenance.Status and the other per-endpoint calls; `etcdctl endpoint status` with an
 * `http://` endpoint or `--cluster`): grpc-go's passthrough target keeps the URL whole. etcd's Go
 * server takes it; Node's HTTP/2 (nghttp2) refuses the stream as malformed (a `/` has no place
 * in an authority), and the client sees `RST_STREAM ... PROTOCOL_ERROR`. Node has no switch for
 * that check, so the etcd port is a plain TCP listener in front of gRPC:
 *
 * - every connection gets a SETTINGS frame of ours at once (grpc-go sends no request before a
 *   server preface) and is read up to its first header block, which is decoded (HPACK), and the
 *   acknowledgement of our SETTINGS, which is cut out;
 * - an authority that HTTP/2 accepts (every client but that one): the socket itself goes to
 *   gRPC with what was read put back, and nothing after is copied or parsed;
 * - a `scheme://host:port/...` authority: each client header block of that connection is
 *   decoded (the client's HPACK table is tracked), its authority cut to `host:port`, and
 *   re-encoded as literals that touch no table, so the server's decoder never depends on what it
 *   did not see. Every other frame passes unchanged.
 *
 * Anything that is not HTTP/2 with prior knowledge goes to gRPC untouched, to be refused there.
 * @module
 */
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import hpack from 'hpack.js'
import { limits } from '../../core/limits.js'

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const frameHeaderBytes = 9
const frameType = { headers: 0x1, priority: 0x2, settings: 0x4, windowUpdate: 0x8, continuation: 0x9 } as const
const flag = { endStream: 0x1, ack: 0x1, endHeaders: 0x4, padded: 0x8, priority: 0x20 } as const
/** The frame size every HTTP/2 peer must accept before SETTINGS say otherwise. */
const frameBytesMax = 16_384
/** The HPACK table a client may use: what Node's server advertises (SETTINGS_HEADER_TABLE_SIZE). */
const hpackTableBytes = 4096

/** A header field as byte strings: one char per byte (latin1), as hpack.js decodes them. */
type HeaderField = Readonly<{ name: string; value: string }>

/** `host:port` when `authority` is a URL HTTP/2 would refuse; null when it needs no repair. */
export function repairedAuthority(authority: string): string | null {
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(authority)
  return url === null || url[1] === '' ? null : url[1]!
}

/** HPACK's prefixed integer (RFC 7541 5.1), `firstByte` holding the pattern bits above the prefix. */
function hpackInteger(value: number, prefixBits: number, firstByte: number): number[] {
  const max = (1 << prefixBits) - 1
  if (value < max) return [firstByte | value]
  const bytes = [firstByte | max]
  let rest = value - max
  while (rest >= 128) {
    bytes.push((rest % 128) + 128)
    rest = Math.floor(rest / 128)
  }
  bytes.push(rest)
  return bytes
}

/** `text` is a byte string (one char per byte, as the HPACK decoder gives fields), so bytes round-trip. */
function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1')
  return Buffer.concat([Buffer.from(hpackInteger(bytes.length, 7, 0)), bytes])
}

/** A header block of literals without indexing (RFC 7541 6.2.2): no table on either side. */
export function encodeLiterals(fields: readonly HeaderField[]): Buffer {
  return Buffer.concat(fields.flatMap((field) => [Buffer.from([0x00]), hpackString(field.name), hpackString(field.value)]))
}

/** HEADERS then CONTINUATION frames carrying `block` on `stream`, none over the default frame size. */
function headerFrames(stream: number, block: Buffer, endStream: boolean): Buffer[] {
  const frames: Buffer[] = []
  for (let offset = 0; offset === 0 || offset < block.length; offset += frameBytesMax) {
    const piece = block.subarray(offset, offset + frameBytesMax)
    const last = offset + frameBytesMax >= block.length
    const header = Buffer.alloc(frameHeaderBytes)
    header.writeUIntBE(piece.length, 0, 3)
    header[3] = offset === 0 ? frameType.headers : frameType.continuation
    header[4] = (last ? flag.endHeaders : 0) | (offset === 0 && endStream ? flag.endStream : 0)
    header.writeUInt32BE(stream, 5)
    frames.push(header, piece)
  }
  return frames
}

type Frame = Readonly<{ type: number; flags: number; stream: number; payload: Buffer; raw: Buffer }>

/** Frames out of a byte stream, after the client preface; `bytes` says how much is held. */
class FrameReader {
  #held: Buffer = Buffer.alloc(0)
  #prefaceSeen = false

  push(chunk: Buffer): void {
    this.#held = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk])
  }

  /** Every byte held, unparsed (the reader is then empty). */
  take(): Buffer {
    const held = this.#held
    this.#held = Buffer.alloc(0)
    return held
  }

  get bytes(): number {
    return this.#held.length
  }

  /** 'preface' once, then frames as they complete; null when more bytes are needed; 'not-http2' for anything else. */
  next(): Frame | 'preface' | 'not-http2' | null {
    if (!this.#prefaceSeen) {
      const seen = this.#held.subarray(0, preface.length)
      if (!preface.subarray(0, seen.length).equals(seen)) return 'not-http2'
      if (seen.length < preface.length) return null
      this.#held = this.#held.subarray(preface.length)
      this.#prefaceSeen = true
      return 'preface'
    }
    if (this.#held.length < frameHeaderBytes) return null
    const length = this.#held.readUIntBE(0, 3)
    if (this.#held.length < frameHeaderBytes + length) return null
    const raw = this.#held.subarray(0, frameHeaderBytes + length)
    this.#held = this.#held.subarray(raw.length)
    return { type: raw[3]!, flags: raw[4]!, stream: raw.readUInt32BE(5) & 0x7fffffff, payload: raw.subarray(frameHeaderBytes), raw }
  }
}

/** The header block fragment of a HEADERS frame, without its padding and priority fields. */
function fragmentOf(frame: Frame): Buffer {
  if (frame.type === frameType.continuation) return frame.payload
  let start = 0
  let end = frame.payload.length
  if ((frame.flags & flag.padded) !== 0) {
    const padding = frame.payload[0] ?? 0
    start = 1
    end -= padding
  }
  if ((frame.flags & flag.priority) !== 0) start += 5
  if (end < start) throw new Error('a HEADERS frame whose padding exceeds it')
  return frame.payload.subarray(start, end)
}

/** Decodes client header blocks in order, keeping the client's HPACK table. */
class HeaderDecoder {
  readonly #decompressor = hpack.decompressor.create({ table: { size: hpackTableBytes } })
  #failure: Error | null = null

  constructor() {
    // The decompressor reports a malformed block as an 'error' event, not a throw.
    this.#decompressor.on('error', (error: Error) => (this.#failure = error))
  }

  /** The block's fields in order; throws on a malformed block (the table is then unusable). */
  decode(block: Buffer): HeaderField[] {
    this.#decompressor.write(block)
    this.#decompressor.execute()
    if (this.#failure !== null) throw this.#failure
    const fields: HeaderField[] = []
    for (let field = this.#decompressor.read(); field !== null; field = this.#decompressor.read()) fields.push({ name: field.name, value: field.value })
    return fields
  }
}

/** One header block being gathered from HEADERS and CONTINUATION frames. */
type OpenBlock = { stream: number; endStream: boolean; fragments: Buffer[]; bytes: number }

/**
 * The client-to-server half of a repaired connection, from its preface on: every header block
 * is decoded (the decoder sees every block, so it holds the client's HPACK table), its
 * authority cut to host:port, and re-encoded as literals that touch no table on the server's
 * side. Every other frame passes unchanged.
 */
export class AuthorityRewriter {
  readonly #reader = new FrameReader()
  readonly #decoder = new HeaderDecoder()
  #block: OpenBlock | null = null

  /** The bytes to hand the server for `chunk`; throws on bytes that are not HTTP/2 or an oversized header block. */
  push(chunk: Buffer): Buffer[] {
    this.#reader.push(chunk)
    const out: Buffer[] = []
    for (let item = this.#reader.next(); item !== null; item = this.#reader.next()) {
      if (item === 'not-http2') throw new Error('not HTTP/2 with prior knowledge')
      if (item === 'preface') {
        out.push(preface)
        continue
      }
      if (item.type !== frameType.headers && item.type !== frameType.continuation) {
        if (this.#block !== null) throw new Error('a frame inside a header block')
        out.push(item.raw)
        continue
      }
      if ((item.type === frameType.headers) !== (this.#block === null)) throw new Error('a CONTINUATION outside a header block, or a HEADERS inside one')
      const block: OpenBlock = this.#block ?? { stream: item.stream, endStream: (item.flags & flag.endStream) !== 0, fragments: [], bytes: 0 }
      const fragment = fragmentOf(item)
      block.fragments.push(fragment)
      block.bytes += fragment.length
      if (block.bytes > limits.etcdHeaderBlockBytesMax) throw new Error('a header block over the limit')
      if ((item.flags & flag.endHeaders) === 0) {
        this.#block = block
        continue
      }
      this.#block = null
      const fields = this.#decoder.decode(Buffer.concat(block.fragments))
      const repaired = fields.map((field) => (field.name === ':authority' ? { name: field.name, value: repairedAuthority(field.value) ?? field.value } : field))
      out.push(...headerFrames(block.stream, encodeLiterals(repaired), block.endStream))
    }
    if (this.#reader.bytes > limits.etcdHeaderBlockBytesMax + frameBytesMax + frameHeaderBytes) throw new Error('a frame over the limit')
    return out
  }
}

/** An empty SETTINGS frame: a server's connection preface (RFC 9113 3.4), ours. */
export const ourSettings = Buffer.from([0, 0, 0, frameType.settings, 0, 0, 0, 0, 0])

export type HandshakeOutcome =
  | Readonly<{ type: 'more' }>
  /** `bytes`: what the client sent, without its acknowledgement of ourSettings, for gRPC's HTTP/2. */
  | Readonly<{ type: 'decided'; repair: boolean; bytes: Buffer }>

/** Frames after which the client waits for an answer: past one of them, the server must be speaking. */
const quietFrameTypes: ReadonlySet<number> = new Set([frameType.settings, frameType.windowUpdate, frameType.priority])

/**
 * Reads a connection's first bytes until the client has acknowledged ourSettings (a client may
 * wait for a server preface before it sends a request: grpc-go does) and then either its first
 * header block is complete, or it sent a frame that wants an answer (a PING), or `idle()` is
 * called (a connection opened ahead of its first call). The acknowledgement is cut out: gRPC's
 * HTTP/2 sends its own SETTINGS and would take an acknowledgement of ours for an error. Bytes
 * that are not HTTP/2, or past the bound, are decided as they are (gRPC answers them).
 */
export class ConnectionStart {
  readonly #reader = new FrameReader()
  readonly #kept: Buffer[] = []
  #keptBytes = 0
  #repair: boolean | null = null
  #block: Buffer[] = []
  #acknowledged = false

  get acknowledged(): boolean {
    return this.#acknowledged
  }

  push(chunk: Buffer): HandshakeOutcome {
    this.#reader.push(chunk)
    for (let item = this.#reader.next(); item !== null; item = this.#reader.next()) {
      if (item === 'not-http2') return this.#decide(false)
      if (item === 'preface') {
        this.#keep(preface)
        continue
      }
      if (!this.#acknowledged && item.type === frameType.settings && (item.flags & flag.ack) !== 0 && item.stream === 0) {
        this.#acknowledged = true
      } else {
        this.#keep(item.raw)
      }
      if (this.#repair === null && (item.type === frameType.headers || item.type === frameType.continuation)) this.#readBlock(item)
      else if (this.#repair === null && !quietFrameTypes.has(item.type)) this.#repair = false
      if (this.#repair !== null && this.#acknowledged) return this.#decide(this.#repair)
    }
    if (this.#keptBytes + this.#reader.bytes > limits.etcdConnectionStartBytesMax) return this.#decide(this.#repair ?? false)
    return { type: 'more' }
  }

  /** No request yet, but ourSettings acknowledged: the connection goes to gRPC as it is. */
  idle(): HandshakeOutcome {
    return this.#acknowledged && this.#block.length === 0 ? this.#decide(false) : { type: 'more' }
  }

  #keep(bytes: Buffer): void {
    this.#kept.push(bytes)
    this.#keptBytes += bytes.length
  }

  #readBlock(frame: Frame): void {
    try {
      this.#block.push(fragmentOf(frame))
      if ((frame.flags & flag.endHeaders) === 0) return
      const authority = new HeaderDecoder().decode(Buffer.concat(this.#block)).find((field) => field.name === ':authority')
      this.#repair = authority !== undefined && repairedAuthority(authority.value) !== null
    } catch {
      this.#repair = false // malformed: gRPC's own HTTP/2 refuses it
    }
  }

  #decide(repair: boolean): HandshakeOutcome {
    return { type: 'decided', repair, bytes: Buffer.concat([...this.#kept, this.#reader.take()]) }
  }
}

/**
 * Hands `socket` to `inject` (gRPC's connection injector) once ConnectionStart has decided: the
 * socket itself, with what was read put back (no copy or parse of anything after), or, for a
 * URL authority, a stream through an AuthorityRewriter for the connection's whole life.
 */
export function acceptEtcdConnection(socket: Socket, inject: (connection: Duplex) => void): void {
  const start = new ConnectionStart()
  let idleTimer: NodeJS.Timeout | null = null
  const giveUp = setTimeout(() => socket.destroy(), limits.etcdConnectionStartMs)
  const stopTimers = (): void => {
    clearTimeout(giveUp)
    if (idleTimer !== null) clearTimeout(idleTimer)
  }
  const decided = (outcome: HandshakeOutcome): void => {
    if (outcome.type === 'more') {
      // Acknowledged and quiet: a connection opened ahead of its first call waits no longer.
      if (start.acknowledged && idleTimer === null) idleTimer = setTimeout(() => decided(start.idle()), limits.etcdConnectionIdleMs)
      return
    }
    stopTimers()
    socket.off('data', onData)
    socket.pause()
    if (!outcome.repair) {
      socket.unshift(outcome.bytes)
      inject(socket)
      return
    }
    inject(rewritingStream(socket, outcome.bytes))
  }
  const onData = (chunk: Buffer): void => decided(start.push(chunk))
  socket.on('data', onData)
  socket.on('error', () => socket.destroy())
  socket.once('close', stopTimers)
  socket.write(ourSettings)
}

/** The server's view of a repaired connection: the client's bytes rewritten, its own passed back. */
function rewritingStream(socket: Socket, first: Buffer): Duplex {
  const rewriter = new AuthorityRewriter()
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, done) => void socket.write(chunk, done),
    final: (done) => {
      socket.end()
      done()
    },
    destroy: (error, done) => {
      socket.destroy()
      done(error)
    },
  })
  const forward = (chunk: Buffer): void => {
    let out: Buffer[]
    try {
      out = rewriter.push(chunk)
    } catch (error) {
      stream.destroy(error as Error)
      return
    }
    for (const piece of out) if (!stream.push(piece)) socket.pause()
  }
  socket.on('data', forward)
  socket.once('end', () => stream.push(null))
  socket.once('close', () => stream.destroy())
  forward(first)
  socket.resume()
  return stream
}
