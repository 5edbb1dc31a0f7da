/**
 * Goal: etcd's Lease service as etcd 3.4 answers it: LeaseGrant with ID 0 (the server picks)
 * or an explicit ID (honoured; again: FAILED_PRECONDITION "lease already exists"); a put with a
 * lease attaches the key; LeaseTimeToLive with its keys (a lease that is gone: TTL -1);
 * LeaseLeases; LeaseKeepAlive restores the full TTL (a lease that is gone: TTL 0, not an
 * error); LeaseRevoke deletes the keys in one revision (again: NOT_FOUND "requested lease not
 * found"); a put naming a missing lease changes nothing; a follower has the leader answer
 * every lease call, keepalives included. Method: the real EtcdServer over a FakeNode; the etcd3
 * client library, and a raw keepalive stream.
 */
import { serve } from '@hono/node-server'
import { status as grpcStatus } from '@grpc/grpc-js'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeId } from '../../../src/core/index.js'
import { createApp } from '../../../src/server/app.js'
import { FakeNode } from '../fake-node.js'
import { PeerCodec } from '../../../src/transport/codec.js'
import { writeCommandSchema } from '../../../src/kv/command-codec.js'
import { onStop, RawStream, startEtcd, stopAll, valueBytesMax } from './etcd-test-server.js'

afterEach(stopAll)

type KeepAlive = { header: { revision: string }; ID: string; TTL: string }

async function failure(promise: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  const error = await promise.then(() => null, (caught: Error & { code?: number }) => caught)
  expect(error, 'the call should have failed').not.toBeNull()
  return { code: (error as { code?: number }).code, message: error!.message }
}

describe('etcd Lease', () => {
  it('grant, put with the lease, time-to-live with keys, leases, keepalive, revoke: as etcd answers', async () => {
    const { client, node } = await startEtcd()
    const lease = client.lease(30, { autoKeepAlive: false })
    const id = await lease.grant()
    expect(id).toBe('1001') // the FakeNode's first id: the server picked it
    await lease.put('leased/a').value('1')
    await lease.put('leased/b').value('2')
    expect((await client.get('leased/a').exec()).kvs[0]!.lease).toBe(id)
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true })
    expect(ttl).toMatchObject({ ID: id, TTL: '30', grantedTTL: '30' })
    expect(ttl.keys.map((key) => key.toString())).toEqual(['leased/a', 'leased/b'])
    expect((await client.leaseClient.leaseTimeToLive({ ID: id })).keys).toEqual([])
    expect((await client.leaseClient.leaseLeases({})).leases).toEqual([{ ID: id }])
    expect(await lease.keepaliveOnce()).toMatchObject({ ID: id, TTL: '30' })
    expect(node.keepalives).toEqual([id])
    const before = Number((await client.get('x').exec()).header.revision)
    await lease.revoke()
    expect(await client.getAll().prefix('leased/').keys()).toEqual([])
    expect(Number((await client.get('x').exec()).header.revision)).toBe(before + 1) // both keys in one revision
    expect(await failure(client.leaseClient.leaseRevoke({ ID: id }))).toMatchObject({ message: expect.stringContaining('etcdserver: requested lease not found') })
    expect(await client.leaseClient.leaseTimeToLive({ ID: id })).toMatchObject({ ID: id, TTL: '-1', grantedTTL: '0', header: { revision: String(before + 1) } })
  })

  it('an explicit ID is honoured, once: again it is FAILED_PRECONDITION "lease already exists"', async () => {
    const { client } = await startEtcd()
    expect(await client.leaseClient.leaseGrant({ TTL: 10, ID: 4242 })).toMatchObject({ ID: '4242', TTL: '10' })
    const again = await failure(client.leaseClient.leaseGrant({ TTL: 10, ID: 4242 }))
    expect(again.message).toContain('etcdserver: lease already exists')
    expect((await client.leaseClient.leaseLeases({})).leases).toEqual([{ ID: '4242' }])
  })

  it('a put naming a lease that does not exist is NOT_FOUND and writes nothing; TTLs are bounded', async () => {
    const { client, node } = await startEtcd()
    expect(await failure(client.put('k').value('v').lease('777').exec())).toMatchObject({ message: expect.stringContaining('etcdserver: requested lease not found') })
    expect(await failure(client.put('k').value('v').lease('-5').exec())).toMatchObject({ message: expect.stringContaining('etcdserver: requested lease not found') })
    expect(await client.get('k').string()).toBeNull()
    expect(node.stateMachine.revision()).toBe(0)
    expect(await failure(client.leaseClient.leaseGrant({ TTL: 86_401 }))).toMatchObject({ message: expect.stringContaining('etcdserver: too large lease TTL') })
    expect(await client.leaseClient.leaseGrant({ TTL: 0, ID: 9 })).toMatchObject({ ID: '9', TTL: '1' }) // below a second: one second
  })

  it('bad lease ids: a grant with one no lease can have is INVALID_ARGUMENT; a revoke of one NOT_FOUND; a keepalive TTL 0', async () => {
    const { client, endpoint, node } = await startEtcd()
    expect(await failure(client.leaseClient.leaseGrant({ TTL: 10, ID: -4 }))).toMatchObject({ message: expect.stringContaining('etcdserver: bad request') })
    expect(await failure(client.leaseClient.leaseRevoke({ ID: 0 }))).toMatchObject({ message: expect.stringContaining('etcdserver: requested lease not found') })
    const stream = new RawStream<KeepAlive>(endpoint, 'Lease', 'LeaseKeepAlive')
    stream.write({ ID: '-1' })
    expect(await stream.next()).toMatchObject({ ID: '-1', TTL: '0' })
    expect(node.writes).toEqual([])
  })

  it('LeaseKeepAlive: one stream, many keepalives answered in order; a lease that is gone answers TTL 0', async () => {
    const { client, endpoint } = await startEtcd()
    const granted = await client.leaseClient.leaseGrant({ TTL: 20 })
    const stream = new RawStream<KeepAlive>(endpoint, 'Lease', 'LeaseKeepAlive')
    stream.write({ ID: granted.ID })
    stream.write({ ID: '31337' })
    stream.write({ ID: granted.ID })
    const answers = [await stream.next(), await stream.next(), await stream.next()]
    expect(answers.map((answer) => [answer.ID, answer.TTL])).toEqual([[granted.ID, '20'], ['31337', '0'], [granted.ID, '20']])
    stream.stream.end() // the client is done: the stream ends OK once its answers are out
    expect((await stream.end()).code).toBe(grpcStatus.OK)
  })

  it('on a follower, every lease call and each keepalive of a stream is answered by the leader', async () => {
    const leader = new FakeNode()
    const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node: leader, secret: 'etcd-route-secret', clusterId: 'c1', members: new Set([nodeId(1), nodeId(2)]), requestTimeoutMs: 2000, valueBytesMax, onFatal: () => {} })
    const http = serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch })
    onStop(() => new Promise<void>((resolve) => http.close(() => resolve())))
    await new Promise((resolve) => http.once('listening', resolve))
    const address = http.address()
    const follower = new FakeNode()
    follower.mode = 'follower'
    follower.leaderUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    const { client, endpoint } = await startEtcd(follower)
    const granted = await client.leaseClient.leaseGrant({ TTL: 15 })
    expect(granted.header.member_id).toBe('1')
    expect(leader.stateMachine.lease(granted.ID as never)).toEqual({ ttlSeconds: 15, keys: 0 })
    await client.put('f/k').value('v').lease(granted.ID).exec()
    expect((await client.leaseClient.leaseTimeToLive({ ID: granted.ID, keys: true })).keys.map(String)).toEqual(['f/k'])
    const stream = new RawStream<KeepAlive>(endpoint, 'Lease', 'LeaseKeepAlive')
    stream.write({ ID: granted.ID })
    expect(await stream.next()).toMatchObject({ ID: granted.ID, TTL: '15' })
    expect(leader.keepalives).toEqual([granted.ID])
    await client.leaseClient.leaseRevoke({ ID: granted.ID })
    expect(leader.stateMachine.get('f/k')).toBeNull()
    expect(follower.writes).toHaveLength(3) // the follower named each write; the leader applied them
  })
})
