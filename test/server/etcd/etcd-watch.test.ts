/**
 * Goal: etcd's Watch as etcd 3.4 answers it (the answers were taken from a real etcd 3.4.23 by
 * the same requests): the created response first; events with mod_revision, create_revision,
 * version, lease and prev_kv; one response per revision once live, the revisions applied before
 * the create batched in one; a start below the history canceled with compact_revision (header
 * revision 0) whose id stays taken until cancelled; etcd's ids (0, 1, ... and a client's own;
 * a duplicate refused with etcd's reason); filters; cancel; a progress request answered with
 * watch_id -1; several watches on one stream; a slow consumer bounded by the history, never
 * skipped ahead; the stream ended UNAVAILABLE when the node ends its watches; bad protobuf is
 * INVALID_ARGUMENT. Method: the real EtcdServer over a FakeNode; the etcd3 client library and
 * a raw bidirectional stream through our own definitions.
 */
import { Client, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js'
import { afterEach, describe, expect, it } from 'vitest'
import { limits } from '../../../src/core/limits.js'
import { FakeNode } from '../fake-node.js'
import { onStop, RawStream, startEtcd, stopAll } from './etcd-test-server.js'

afterEach(stopAll)

type Kv = { key: Buffer; value: Buffer; create_revision: string; mod_revision: string; version: string; lease: string }
type Event = { type: 'PUT' | 'DELETE'; kv: Kv; prev_kv: Kv | null }
type Response = { header: { revision: string }; watch_id: string; created: boolean; canceled: boolean; compact_revision: string; cancel_reason: string; fragment: boolean; events: Event[] }

const bytes = (text: string) => Buffer.from(text)
const create = (key: string, fields: object = {}) => ({ create_request: { key: bytes(key), ...fields } })
/** A response as text: what etcd answered to the same requests, in the same shape. */
function brief(response: Response): string {
  const flags = [response.created && 'created', response.canceled && 'canceled', response.compact_revision !== '0' && `compact=${response.compact_revision}`, response.cancel_reason !== '' && `reason=${response.cancel_reason}`, response.fragment && 'fragment'].filter(Boolean)
  const events = response.events.map((event) => `${event.type} ${event.kv.key.toString()}@${event.kv.mod_revision}${event.kv.value.byteLength > 0 ? `=${event.kv.value.toString()}` : ''}${event.prev_kv === null ? '' : ` prev=${event.prev_kv.value.toString()}@${event.prev_kv.mod_revision}`}`)
  return [`id=${response.watch_id} rev=${response.header.revision}`, ...flags, ...events].join(' ')
}

async function watchStream(node = new FakeNode()): Promise<{ node: FakeNode; stream: RawStream<Response>; put: (key: string, value: string) => Promise<void>; client: Awaited<ReturnType<typeof startEtcd>>['client'] }> {
  const started = await startEtcd(node)
  const stream = new RawStream<Response>(started.endpoint, 'Watch', 'Watch')
  return { node, stream, client: started.client, put: async (key, value) => void (await started.client.put(key).value(value)) }
}

describe('etcd Watch', () => {
  it('answers the requests etcd 3.4 was asked, as etcd answered them', async () => {
    // The history keeps 2 revisions: after 3 writes, a start at 1 is compacted (served from 2).
    const { stream, put } = await watchStream(new FakeNode({ history: { revisionsMax: 2, bytesMax: 1 << 20 } }))
    await put('a', '1')
    await put('a', '2')
    await put('b', '3')
    stream.write(create('a', { start_revision: 1 }))
    expect(brief(await stream.next())).toBe('id=0 rev=0 created')
    expect(brief(await stream.next())).toBe('id=0 rev=0 canceled compact=2')
    stream.write(create('a', { range_end: bytes('c'), start_revision: 2, prev_kv: true }))
    expect(brief(await stream.next())).toBe('id=1 rev=1 created')
    // Revisions applied before the create: one response, with the revision it has sent through.
    expect(brief(await stream.next())).toBe('id=1 rev=3 PUT a@2=2 prev=1@1 PUT b@3=3')
    stream.write(create('a', { watch_id: 1 }))
    expect(brief(await stream.next())).toBe('id=-1 rev=3 created canceled reason=mvcc: duplicate watch ID provided on the WatchStream')
    stream.write(create('')) // etcd watches the empty key too (a key that never exists)
    expect(brief(await stream.next())).toBe('id=2 rev=3 created')
    stream.write({ progress_request: {} })
    expect(brief(await stream.next())).toBe('id=-1 rev=3')
    stream.write({ cancel_request: { watch_id: 0 } }) // the compacted watch's id was kept until now
    expect(brief(await stream.next())).toBe('id=0 rev=3 canceled')
    stream.write({ cancel_request: { watch_id: 77 } }) // not a watch here: no answer
    stream.write(create('a', { filters: ['NOPUT'] }))
    expect(brief(await stream.next())).toBe('id=3 rev=3 created') // ids are not reused
    // Live: one response per revision, for each watch it concerns.
    await put('a', '4')
    expect(brief(await stream.next())).toBe('id=1 rev=4 PUT a@4=4 prev=2@2')
    expect(stream.pending).toBe(0) // the NOPUT watch saw nothing
  })

  it('a watch from beyond this node\'s revision (a client resuming on a lagging node) never answers a revision below its start', async () => {
    const { stream, put } = await watchStream()
    stream.write(create('k', { start_revision: 10, progress_notify: true }))
    expect(brief(await stream.next())).toBe('id=0 rev=9 created') // this node is at 0
    expect(brief(await stream.next(limits.watchProgressMs + 5000))).toBe('id=0 rev=9') // progress_notify, after a quiet while
    for (let index = 1; index <= 10; index += 1) await put('k', String(index))
    expect(brief(await stream.next())).toBe('id=0 rev=10 PUT k@10=10')
  })

  it('the etcd3 client: a prefix watch from now sees puts and deletes with their metadata, and a txn as one response', async () => {
    const { client, put } = await watchStream()
    await put('w/old', 'before')
    const watcher = await client.watch().prefix('w/').withPreviousKV().create()
    const seen: string[] = []
    watcher.on('data', (response) => seen.push(response.events.map((event) => `${event.type} ${event.kv.key.toString()} v=${event.kv.version} c=${event.kv.create_revision} m=${event.kv.mod_revision}${event.prev_kv ? ` prev=${event.prev_kv.value.toString()}` : ''}`).join(', ')))
    await put('w/a', 'one')
    await put('elsewhere', 'x')
    await client.if('w/a', 'Version', '==', 1).then(client.put('w/a').value('two'), client.delete().key('w/old')).commit()
    await client.delete().key('w/a')
    await waitUntil(() => seen.length >= 3)
    expect(seen).toEqual([
      'Put w/a v=1 c=2 m=2',
      'Put w/a v=2 c=2 m=4 prev=one, Delete w/old v=0 c=0 m=4 prev=before',
      'Delete w/a v=0 c=0 m=5 prev=two',
    ])
    await watcher.cancel()
  })

  it('several watches on one stream, each with its own id; a cancel stops one and not the others', async () => {
    const { stream, put } = await watchStream()
    stream.write(create('x'))
    stream.write(create('y', { watch_id: 7 }))
    stream.write(create('x', { range_end: bytes('z') }))
    expect([await stream.next(), await stream.next(), await stream.next()].map(brief)).toEqual(['id=0 rev=0 created', 'id=7 rev=0 created', 'id=1 rev=0 created'])
    await put('x', '1')
    await put('y', '2')
    const live = [await stream.next(), await stream.next(), await stream.next(), await stream.next()].map(brief).sort()
    expect(live).toEqual(['id=0 rev=1 PUT x@1=1', 'id=1 rev=1 PUT x@1=1', 'id=1 rev=2 PUT y@2=2', 'id=7 rev=2 PUT y@2=2'])
    stream.write({ cancel_request: { watch_id: 1 } })
    expect(brief(await stream.next())).toBe('id=1 rev=2 canceled')
    await put('y', '3')
    expect(brief(await stream.next())).toBe('id=7 rev=3 PUT y@3=3')
    expect(stream.pending).toBe(0)
  })

  it('a slow consumer costs its cursor: it gets every revision in order, then compacted, never a skip', async () => {
    const node = new FakeNode({ history: { revisionsMax: 4, bytesMax: 64 << 20 } })
    const { stream } = await watchStream(node)
    stream.write(create('s', { range_end: bytes('t') }))
    expect(brief(await stream.next())).toBe('id=0 rev=0 created')
    stream.stream.pause() // stops reading: gRPC's flow control stops the sender
    const value = Buffer.alloc(100 * 1024, 1).toString('base64')
    for (let index = 1; index <= 40; index += 1) await node.write({ type: 'put', key: `s/${index}`, value: Buffer.from(value, 'base64'), cas: null, idempotencyKey: null, requestId: null }, node.nowMs() + 1000)
    stream.stream.resume()
    const revisions: number[] = []
    for (;;) {
      const response = await stream.next()
      if (response.canceled) {
        // Canceled at the oldest revision the history served when the cursor reached its end.
        expect(Number(response.compact_revision)).toBeGreaterThan(revisions.length + 1)
        break
      }
      for (const event of response.events) revisions.push(Number(event.kv.mod_revision))
    }
    expect(revisions).toEqual(Array.from({ length: revisions.length }, (_, index) => index + 1))
    expect(revisions.length).toBeLessThan(40)
  })

  it('fragment: a response past the request size limit comes in parts, all but the last marked fragment', async () => {
    const node = new FakeNode()
    const { stream } = await watchStream(node)
    stream.write(create('f', { range_end: bytes('g'), fragment: true }))
    await stream.next()
    // One txn, one revision: 3 values of 400 KiB (the FakeNode's own value limit is not the etcd port's).
    const big = 'x'.repeat(400 * 1024)
    await node.write({ type: 'txn', txn: { compare: [], success: [0, 1, 2].map((index) => ({ type: 'put', key: `f/${index}`, value: Buffer.from(big).toString('base64'), lease: null })), failure: [] }, idempotencyKey: null, requestId: null }, node.nowMs() + 1000)
    const parts = [await stream.next(), await stream.next()]
    expect(parts.map((part) => [part.fragment, part.events.length])).toEqual([[true, 2], [false, 1]])
  })

  it('ends UNAVAILABLE when the node ends its watches (a leader change): clients resume elsewhere', async () => {
    const { node, stream } = await watchStream()
    stream.write(create('k'))
    await stream.next()
    node.watches.closeAll()
    expect(await stream.end()).toMatchObject({ code: grpcStatus.UNAVAILABLE, details: expect.stringContaining('stream closed by the member') })
  })

  it('a create etcd would refuse is answered created and canceled with the reason; the stream goes on', async () => {
    const { stream, put } = await watchStream()
    stream.write({ create_request: { key: Buffer.from([0xc3, 0x28]), range_end: bytes('z') } }) // a range from invalid UTF-8
    const refused = await stream.next()
    expect(brief(refused)).toMatch(/^id=-1 rev=0 created canceled reason=etcdserver: bad request: a range must start at valid UTF-8/)
    stream.write(create('ok'))
    expect(brief(await stream.next())).toBe('id=0 rev=0 created')
    await put('ok', '1')
    expect(brief(await stream.next())).toBe('id=0 rev=1 PUT ok@1=1')
  })

  it('a request that is not a WatchRequest ends the stream INVALID_ARGUMENT; the node goes on', async () => {
    const { endpoint, client } = await startEtcd()
    const raw = new Client(endpoint, credentials.createInsecure())
    onStop(() => raw.close())
    const call = raw.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', (body: Buffer) => body, (body: Buffer) => body)
    const ended = new Promise<ServiceError>((resolve) => call.on('error', resolve))
    call.on('data', () => {})
    call.write(Buffer.from([0x0a, 0xff, 0xff])) // a create_request whose length runs past the end
    const error = await ended
    expect(error.code).toBe(grpcStatus.INVALID_ARGUMENT)
    expect(error.details).toContain('undecodable Watch.Watch request')
    await client.put('after').value('fine')
    expect(await client.get('after').string()).toBe('fine')
  })
})

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
