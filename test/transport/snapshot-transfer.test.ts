/**
 * Goal: a snapshot travels between peers chunk by chunk, checksummed, and lands in the
 * receiver's store only whole: GET /peer/snapshot authenticates first and answers 404 without a
 * snapshot; a fetch stores exactly the chunks the source holds and reports the transfer as sent;
 * a damaged frame, a stream cut short, an oversized frame or a refusal leaves the receiver's store
 * as it was; a snapshot that is not newer than what the receiver has is not taken. The source
 * reads the next chunk only as the receiver takes them (backpressure).
 * Method: the real app on a real HTTP server (port 0) with a scripted node, and a bare HTTP server
 * that sends broken bodies; MemorySnapshotStore as the receiver's store.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { crc32 } from 'node:zlib'
import { serve, type ServerType } from '@hono/node-server'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeId, revision, slot } from '../../src/core/index.js'
import { createApp } from '../../src/server/app.js'
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.js'
import { fetchSnapshot, snapshotHeaders, type SnapshotSource } from '../../src/transport/snapshot-transfer.js'
import { FakeNode } from '../server/fake-node.js'
import { PeerCodec } from '../../src/transport/codec.js'
import { writeCommandSchema } from '../../src/kv/command-codec.js'

const identity = { secret: 'peer-secret', clusterId: 'c1' }
const servers: Array<ServerType | Server> = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => {
    ;(server as Server).closeAllConnections?.()
    server.close(() => resolve())
  })))
})

function chunksOf(count: number, bytes: number): Uint8Array[] {
  return Array.from({ length: count }, (_, index) => new Uint8Array(bytes).fill(index + 1))
}

/** The app with `source` offered; records how many chunks the source has read and `onDone`. */
async function sourceNode(chunks: readonly Uint8Array[], index = 40): Promise<{ url: string; reads: () => number; done: boolean[] }> {
  const node = new FakeNode()
  let reads = 0
  const done: boolean[] = []
  const source: SnapshotSource = {
    index: slot(index),
    revision: revision(33),
    *chunks() {
      for (const chunk of chunks) {
        reads += 1
        yield chunk
      }
    },
    onDone: (sent) => done.push(sent),
  }
  node.snapshot = source
  const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node, ...identity, members: new Set([nodeId(1), nodeId(2)]), requestTimeoutMs: 100, valueBytesMax: 1024, onFatal: () => {} })
  const url = await new Promise<string>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(`http://127.0.0.1:${info.port}`))
    servers.push(server)
  })
  return { url, reads: () => reads, done }
}

/** A bare server that answers with `body` as a snapshot at slot 40. */
async function brokenSource(body: Buffer, end: boolean): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { [snapshotHeaders.index]: '40', [snapshotHeaders.revision]: '33' })
    response.write(body)
    if (end) response.end()
    else setImmediate(() => response.socket?.destroy())
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function framed(chunk: Uint8Array, checksum = crc32(chunk)): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt32LE(chunk.byteLength, 0)
  header.writeUInt32LE(checksum, 4)
  return Buffer.concat([header, chunk])
}

function last(frames: number): Buffer {
  const end = Buffer.alloc(8)
  end.writeUInt32LE(frames, 4)
  return end
}

const fetchInto = (store: MemorySnapshotStore, url: string, options: { newerThan?: number; chunkBytesMax?: number } = {}) =>
  fetchSnapshot({ url, ...identity, newerThan: slot(options.newerThan ?? 0), store, chunkBytesMax: options.chunkBytesMax ?? 1024 * 1024, idleTimeoutMs: 5_000 })

describe('snapshot transfer', () => {
  it('stores exactly the chunks the source holds, and the source counts it as sent', async () => {
    const chunks = chunksOf(20, 64 * 1024 + 3)
    const source = await sourceNode(chunks)
    const store = new MemorySnapshotStore()
    expect(await fetchInto(store, source.url, { newerThan: 10 })).toEqual({ type: 'stored', index: 40, bytes: 20 * (64 * 1024 + 3) })
    expect(store.latest()).toMatchObject({ index: 40, revision: 33 })
    expect([...store.read(store.latest()!)]).toEqual(chunks)
    expect(source.done).toEqual([true])
  })

  it('reads the source no faster than the receiver takes the chunks', async () => {
    const source = await sourceNode(chunksOf(64, 256 * 1024))
    // A receiver that reads nothing: the source must stop once the sockets' buffers are full.
    const response = await request(new URL('/peer/snapshot', source.url), { headers: { 'x-paxos-secret': 'peer-secret', 'x-paxos-cluster': 'c1' } })
    expect(response.statusCode).toBe(200)
    await untilSettled(source.reads)
    // 16 MiB in all; a source without backpressure reads every chunk at once.
    expect(source.reads()).toBeLessThan(48)
    let bytes = 0
    for await (const data of response.body as AsyncIterable<Buffer>) bytes += data.length
    expect(source.reads()).toBe(64)
    expect(bytes).toBe(64 * (256 * 1024 + 8) + 8)
    expect(source.done).toEqual([true])
  })

  it.each([
    ['a frame that fails its checksum', Buffer.concat([framed(new Uint8Array([1, 2, 3])), framed(new Uint8Array([4, 5]), 7), last(2)]), true, /frame 2 fails its checksum/],
    ['a stream cut before its last frame', Buffer.concat([framed(new Uint8Array([1, 2, 3]))]), false, /ended before its last frame|terminated|other side closed|aborted/i],
    ['a last frame that names another count', Buffer.concat([framed(new Uint8Array([1, 2, 3])), last(5)]), true, /names 5 frames, 1 arrived/],
    ['an oversized frame', framed(new Uint8Array(2048)), true, /over the 1024 limit/],
    ['bytes after the last frame', Buffer.concat([framed(new Uint8Array([1])), last(1), Buffer.from([9])]), true, /bytes after the last frame/],
  ])('leaves the store as it was on %s', async (_label, body, end, reason) => {
    const url = await brokenSource(body, end)
    const store = new MemorySnapshotStore()
    const outcome = await fetchInto(store, url, { chunkBytesMax: 1024 })
    expect(outcome.type).toBe('failed')
    expect(outcome.type === 'failed' && outcome.reason).toMatch(reason)
    expect(store.latest()).toBeNull()
  })

  it('does not take a snapshot that is not newer than what the receiver has', async () => {
    const source = await sourceNode(chunksOf(3, 10))
    const store = new MemorySnapshotStore()
    expect(await fetchInto(store, source.url, { newerThan: 40 })).toEqual({ type: 'not_newer', index: 40 })
    expect(store.latest()).toBeNull()
  })

  it('is refused without the cluster secret (401), and answers 404 when the node has no snapshot', async () => {
    const source = await sourceNode(chunksOf(1, 10))
    const wrong = await fetchSnapshot({ url: source.url, secret: 'wrong-secret', clusterId: 'c1', newerThan: slot(0), store: new MemorySnapshotStore(), chunkBytesMax: 1024, idleTimeoutMs: 5_000 })
    expect(wrong).toEqual({ type: 'failed', reason: 'the peer answered 401' })
    const node = new FakeNode()
    const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node, ...identity, members: new Set([nodeId(1)]), requestTimeoutMs: 100, valueBytesMax: 1024, onFatal: () => {} })
    const response = await app.request('/peer/snapshot', { headers: { 'x-paxos-secret': 'peer-secret', 'x-paxos-cluster': 'c1' } })
    expect(response.status).toBe(404)
  })
})

/** Waits until `count` has started and then stayed the same for ten polls in a row. */
async function untilSettled(count: () => number): Promise<void> {
  let same = 0
  let previous = -1
  for (let attempt = 0; attempt < 1000 && same < 10; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    const now = count()
    same = now > 0 && now === previous ? same + 1 : 0
    previous = now
  }
  expect(same).toBe(10)
}
