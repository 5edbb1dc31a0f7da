/**
 * Snapshot transfer between peers: a lagging node pulls the newest durable snapshot of a peer
 * that has compacted the slots it lacks (`GET /peer/snapshot`, authenticated like the peer
 * stream). Chunks travel as they are stored, one framed and checksummed chunk at a time, never
 * as one giant message:
 *
 *   headers: x-paxos-snapshot-index, x-paxos-snapshot-revision
 *   body:    frames `u32 length (> 0) | u32 crc32 of the chunk | chunk`, then `u32 0 | u32 frames`
 *
 * The source reads the next chunk from its store only when the socket has taken the previous one
 * (a pull stream with a high-water mark of one frame), so a slow receiver slows the reads and the
 * source's event loop only ever does one chunk's work at a time. The receiver writes each chunk to
 * its own SnapshotStore as it arrives (a temporary file) and commits it (fsync, rename) only after
 * the terminating frame checked out; anything else aborts it, leaving the store as it was.
 * @module
 */
import type { Readable } from 'node:stream'
import { crc32 } from 'node:zlib'
import { request } from 'undici'
import { revision, slot, type Revision, type Slot } from '../core/ids.js'
import { peerHeaders } from './transport.js'

export const snapshotPath = '/peer/snapshot'
export const snapshotHeaders = { index: 'x-paxos-snapshot-index', revision: 'x-paxos-snapshot-revision' } as const

/**
 * A durable snapshot a node offers its peers: read lazily, chunk by chunk, when sent. `onDone`
 * hears whether every frame was handed over; a store error mid-read (a damaged file) errors the
 * stream, so the receiver sees a broken transfer.
 */
export type SnapshotSource = Readonly<{ index: Slot; revision: Revision; chunks: () => Iterable<Uint8Array>; onDone: (sent: boolean) => void }>

/**
 * Where a fetched snapshot goes: the node's SnapshotStore fits it as it is (named here, so that
 * the transport depends on nothing but the core). `commit` makes it durable and the newest.
 */
export type SnapshotDestination = Readonly<{
  latest(): Readonly<{ index: Slot }> | null
  create(index: Slot, revision: Revision): Readonly<{ write(chunk: Uint8Array): void; commit(): Promise<Readonly<{ index: Slot }>>; abort(): void }>
}>

const frameHeaderBytes = 8

function frame(chunk: Uint8Array): Uint8Array {
  const framed = Buffer.allocUnsafe(frameHeaderBytes + chunk.byteLength)
  framed.writeUInt32LE(chunk.byteLength, 0)
  framed.writeUInt32LE(crc32(chunk), 4)
  framed.set(chunk, frameHeaderBytes)
  return framed
}

function endFrame(frames: number): Uint8Array {
  const framed = Buffer.alloc(frameHeaderBytes)
  framed.writeUInt32LE(frames, 4)
  return framed
}

/** The response body for `source`: one frame per pull, so reads follow the socket's pace. */
export function snapshotBody(source: SnapshotSource): ReadableStream<Uint8Array> {
  let done = false
  const onDone = (sent: boolean): void => {
    if (done) return
    done = true
    source.onDone(sent)
  }
  let chunks: Iterator<Uint8Array> | null = null
  let frames = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      try {
        chunks ??= source.chunks()[Symbol.iterator]()
        const next = chunks.next()
        if (!next.done) {
          frames += 1
          return controller.enqueue(frame(next.value))
        }
        controller.enqueue(endFrame(frames))
        controller.close()
        onDone(true)
      } catch (error) {
        controller.error(error)
        onDone(false)
      }
    },
    cancel() {
      chunks?.return?.()
      onDone(false)
    },
  }, { highWaterMark: 1 })
}

export type FetchOutcome =
  | Readonly<{ type: 'stored'; index: Slot; bytes: number }>
  /** The peer's newest snapshot is not newer than `newerThan`: nothing to gain from it. */
  | Readonly<{ type: 'not_newer'; index: Slot }>
  | Readonly<{ type: 'failed'; reason: string }>

export type FetchOptions = Readonly<{
  url: string
  secret: string
  clusterId: string
  /** Only a snapshot beyond this slot is worth taking (this node's applied index, or newer). */
  newerThan: Slot
  store: SnapshotDestination
  /** A frame longer than this is refused: no chunk is that large. */
  chunkBytesMax: number
  /** The transfer is abandoned when the peer sends nothing for this long. */
  idleTimeoutMs: number
  /** Aborts the transfer (the node is stopping). */
  signal?: AbortSignal
}>

/** The response headers that go with `snapshotBody(source)`. */
export function snapshotResponseHeaders(source: SnapshotSource): Record<string, string> {
  return { 'content-type': 'application/octet-stream', [snapshotHeaders.index]: String(source.index), [snapshotHeaders.revision]: String(source.revision) }
}

/** Pulls the peer's newest snapshot into `store`, durably; never throws. */
export async function fetchSnapshot(options: FetchOptions): Promise<FetchOutcome> {
  let response
  try {
    response = await request(new URL(snapshotPath, options.url), {
      method: 'GET',
      headers: { [peerHeaders.secret]: options.secret, [peerHeaders.cluster]: options.clusterId },
      headersTimeout: options.idleTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
  } catch (error) {
    return { type: 'failed', reason: `request failed: ${(error as Error).message}` }
  }
  const body = response.body
  const index = Number(response.headers[snapshotHeaders.index])
  const covered = Number(response.headers[snapshotHeaders.revision])
  if (response.statusCode !== 200 || !Number.isSafeInteger(index) || index < 1 || !Number.isSafeInteger(covered) || covered < 0) {
    await body.dump().catch(() => {})
    return { type: 'failed', reason: `the peer answered ${response.statusCode}${response.statusCode === 200 ? ' without a valid snapshot index and revision' : ''}` }
  }
  if (index <= options.newerThan || index <= (options.store.latest()?.index ?? 0)) {
    discard(body)
    return { type: 'not_newer', index: slot(index) }
  }
  const sink = options.store.create(slot(index), revision(covered))
  const reader = new FrameReader(options.chunkBytesMax)
  try {
    for await (const data of body as AsyncIterable<Buffer>) {
      const failure = reader.push(data, (chunk) => sink.write(chunk))
      if (failure !== null) throw new Error(failure)
    }
    if (!reader.ended) throw new Error('the transfer ended before its last frame')
    const stored = await sink.commit()
    return { type: 'stored', index: stored.index, bytes: reader.bytes }
  } catch (error) {
    sink.abort()
    discard(body)
    return { type: 'failed', reason: (error as Error).message }
  }
}

/** Drops the rest of a response without reading it (the connection closes). */
function discard(body: Readable): void {
  body.on('error', () => {}) // the destroy's own abort error: nobody is waiting for it
  body.destroy()
}

/**
 * Splits the body into frames as bytes arrive, checking each. Parts are joined only once a whole
 * frame (or frame header) is there, so each byte is copied about once; bounded by one frame.
 */
class FrameReader {
  readonly #chunkBytesMax: number
  #parts: Buffer[] = []
  #bytes = 0
  /** Bytes needed before the next step can run: a frame header, or a whole frame. */
  #needed = frameHeaderBytes
  #frames = 0
  ended = false
  /** Chunk bytes received so far. */
  bytes = 0

  constructor(chunkBytesMax: number) {
    this.#chunkBytesMax = chunkBytesMax
  }

  /** Hands each complete chunk to `onChunk`; returns why the transfer is bad, or null. */
  push(data: Buffer, onChunk: (chunk: Uint8Array) => void): string | null {
    if (this.ended) return 'bytes after the last frame'
    this.#parts.push(data)
    this.#bytes += data.length
    if (this.#bytes < this.#needed) return null
    const joined = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts)
    let offset = 0
    for (;;) {
      const available = joined.length - offset
      if (available < frameHeaderBytes) break
      const length = joined.readUInt32LE(offset)
      const checksum = joined.readUInt32LE(offset + 4)
      if (length === 0) {
        if (checksum !== this.#frames) return `the last frame names ${checksum} frames, ${this.#frames} arrived`
        if (available > frameHeaderBytes) return 'bytes after the last frame'
        this.ended = true
        return null
      }
      if (length > this.#chunkBytesMax) return `a frame of ${length} bytes, over the ${this.#chunkBytesMax} limit`
      if (available < frameHeaderBytes + length) {
        this.#needed = frameHeaderBytes + length
        break
      }
      const chunk = joined.subarray(offset + frameHeaderBytes, offset + frameHeaderBytes + length)
      if (crc32(chunk) !== checksum) return `frame ${this.#frames + 1} fails its checksum`
      onChunk(chunk)
      this.#frames += 1
      this.bytes += length
      offset += frameHeaderBytes + length
      this.#needed = frameHeaderBytes
    }
    const rest = joined.subarray(offset)
    this.#parts = rest.length === 0 ? [] : [rest]
    this.#bytes = rest.length
    return null
  }
}
