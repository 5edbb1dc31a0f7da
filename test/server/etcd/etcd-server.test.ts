/**
 * Goal: the etcd gRPC API answers as etcd 3.4 does for what it serves, and for bad input gives
 * the etcd error (code and message) and changes nothing; undecodable protobuf is
 * INVALID_ARGUMENT, never a crash; calls not served are UNIMPLEMENTED naming the call; a
 * follower has the leader answer. Method: the real EtcdServer on 127.0.0.1 over a FakeNode,
 * driven by the etcd3 client library and by a raw gRPC client for bytes no library would send;
 * the leader for forwards is a second FakeNode behind the real HTTP app.
 */
import { serve } from '@hono/node-server'
import { status as grpcStatus } from '@grpc/grpc-js'
import type { Etcd3 } from 'etcd3'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeId } from '../../../src/core/index.js'
import { createApp } from '../../../src/server/app.js'
import { FakeNode } from '../fake-node.js'
import { encode, onStop, rawCall, startEtcd as start, stopAll, valueBytesMax } from './etcd-test-server.js'
import { PeerCodec } from '../../../src/transport/codec.js'
import { writeCommandSchema } from '../../../src/kv/command-codec.js'

afterEach(stopAll)

async function grpcError(promise: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  const error = await promise.then(() => null, (caught: Error & { code?: number }) => caught)
  expect(error, 'the call should have failed').not.toBeNull()
  return { code: (error as { code?: number }).code, message: error!.message }
}

describe('etcd KV over the node', () => {
  it('put then get, prefix, from-key, limit, keys-only, count, delete: as etcd answers', async () => {
    const { client } = await start()
    await client.put('a/1').value('one')
    await client.put('a/2').value('two')
    await client.put('b').value('bee')
    expect(await client.get('a/1').string()).toBe('one')
    expect(await client.get('missing').string()).toBeNull()
    expect(await client.getAll().prefix('a/').strings()).toEqual({ 'a/1': 'one', 'a/2': 'two' })
    expect(await client.getAll().prefix('a/').keys()).toEqual(['a/1', 'a/2'])
    expect(await client.getAll().prefix('a/').count()).toBe(2)
    const limited = await client.getAll().prefix('').limit(2).exec()
    expect(limited.kvs.map((kv) => kv.key.toString())).toEqual(['a/1', 'a/2'])
    expect(limited.more).toBe(true)
    expect(limited.count).toBe('3')
    const fromKey = await client.getAll().inRange({ start: 'a/2', end: '\0' }).keys()
    expect(fromKey).toEqual(['a/2', 'b'])
    const interval = await client.getAll().inRange({ start: 'a/1', end: 'b' }).keys()
    expect(interval).toEqual(['a/1', 'a/2'])
    const descending = await client.getAll().prefix('a/').sort('Key', 'Descend').keys()
    expect(descending).toEqual(['a/2', 'a/1'])
    const deleted = await client.delete().key('a/1').exec()
    expect(deleted.deleted).toBe('1')
    expect(await client.get('a/1').string()).toBeNull()
  })

  it('headers carry the cluster id, this member, the revision and the ballot round', async () => {
    const { client } = await start()
    const put = await client.put('k').value('v').exec()
    expect(put.header.revision).toBe('1')
    expect(put.header.member_id).toBe('1')
    expect(put.header.raft_term).toBe('1')
    expect(put.header.cluster_id).toMatch(/^\d+$/)
    const read = await client.get('k').exec()
    expect(read.header).toEqual(put.header)
    expect(read.kvs[0]).toMatchObject({ mod_revision: '1', value: Buffer.from('v') })
  })

  it('keys carry etcd\'s metadata: create_revision, mod_revision, the per-key version; sorts by each', async () => {
    const { client } = await start()
    await client.put('m/a').value('1') // revision 1
    await client.put('m/b').value('1') // 2
    await client.put('m/a').value('2') // 3
    const [kv] = (await client.get('m/a').exec()).kvs
    expect(kv).toMatchObject({ create_revision: '1', mod_revision: '3', version: '2', lease: '0' })
    expect(await client.getAll().prefix('m/').sort('Version', 'Descend').keys()).toEqual(['m/a', 'm/b'])
    expect(await client.getAll().prefix('m/').sort('Create', 'Descend').keys()).toEqual(['m/b', 'm/a'])
    expect(await client.getAll().prefix('m/').sort('Mod', 'Descend').keys()).toEqual(['m/a', 'm/b'])
    expect(await client.getAll().prefix('m/').sort('Value', 'Ascend').limit(1).keys()).toEqual(['m/b'])
  })

  it('Range at a past revision from the history; Compact raises its floor: below it compacted, past the store future (OUT_OF_RANGE)', async () => {
    const { client } = await start()
    await client.put('k').value('1') // 1
    await client.put('k').value('2') // 2
    await client.put('j').value('3') // 3
    await client.delete().key('k') // 4
    expect(await client.get('k').revision(2).string()).toBe('2')
    expect(await client.get('k').revision(1).string()).toBe('1')
    const past = await client.getAll().revision(3).exec()
    expect(past.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.mod_revision}/${kv.create_revision}/${kv.version}`)).toEqual(['j=3@3/3/1', 'k=2@2/1/2'])
    expect([past.header.revision, past.count]).toEqual(['4', '2']) // the header says the store's revision, as etcd's
    expect(await client.getAll().revision(4).keys()).toEqual(['j'])
    expect(await grpcError(client.get('k').revision(5).string())).toMatchObject({ message: expect.stringContaining('etcdserver: mvcc: required revision is a future revision') })
    expect(await grpcError(client.kv.compact({ revision: 5 }))).toMatchObject({ message: expect.stringContaining('etcdserver: mvcc: required revision is a future revision') })
    await client.kv.compact({ revision: 3 })
    expect(await client.get('k').revision(3).string()).toBe('2') // the compacted revision itself is still served
    expect(await grpcError(client.get('k').revision(2).string())).toMatchObject({ message: expect.stringContaining('etcdserver: mvcc: required revision has been compacted') })
    expect(await grpcError(client.kv.compact({ revision: 3 }))).toMatchObject({ message: expect.stringContaining('etcdserver: mvcc: required revision has been compacted') })
    expect((await client.get('j').exec()).header.revision).toBe('4') // a compact writes nothing
  })

  it.each([
    ['an empty key', { key: Buffer.alloc(0), value: Buffer.from('v') }, 'etcdserver: key is not provided'],
    ['a key of invalid UTF-8', { key: Buffer.from([0xc3, 0x28]), value: Buffer.from('v') }, 'valid UTF-8'],
    ['a key with NUL', { key: Buffer.from('a\0b'), value: Buffer.from('v') }, 'NUL'],
    ['a key over 1024 bytes', { key: Buffer.alloc(1025, 'k'), value: Buffer.from('v') }, '1025 bytes'],
    ['a value over the limit', { key: Buffer.from('k'), value: Buffer.alloc(valueBytesMax + 1) }, 'etcdserver: request is too large'],
    ['ignore_value', { key: Buffer.from('k'), value: Buffer.alloc(0), ignore_value: true }, 'ignore_value'],
  ])('Put with %s: INVALID_ARGUMENT, nothing written', async (_label, request, message) => {
    const { node, endpoint } = await start()
    const answer = await rawCall(endpoint, '/etcdserverpb.KV/Put', encode('KV', 'Put', request))
    expect(answer.error?.code).toBe(grpcStatus.INVALID_ARGUMENT)
    expect(answer.error?.details).toContain(message)
    expect(node.writes).toEqual([])
  })

  it('Put with a lease: NOT_FOUND as etcd answers a lease it does not hold; nothing changes', async () => {
    const { node, endpoint } = await start()
    const answer = await rawCall(endpoint, '/etcdserverpb.KV/Put', encode('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v'), lease: 7 }))
    expect(answer.error?.code).toBe(grpcStatus.NOT_FOUND)
    expect(answer.error?.details).toContain('etcdserver: requested lease not found')
    expect([node.stateMachine.revision(), node.stateMachine.get('k')]).toEqual([0, null])
  })

  it.each([
    ['truncated field', Buffer.from([0x0a, 0x05, 0x61])],
    ['a length past the end', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])],
    ['a bad wire type', Buffer.from([0x0f, 0x01])],
  ])('undecodable protobuf (%s): INVALID_ARGUMENT, and the server goes on', async (_label, bytes) => {
    const { node, endpoint, client } = await start()
    for (const path of ['/etcdserverpb.KV/Put', '/etcdserverpb.KV/Range', '/etcdserverpb.Maintenance/Status']) {
      const answer = await rawCall(endpoint, path, bytes)
      expect(answer.error?.code, path).toBe(grpcStatus.INVALID_ARGUMENT)
      expect(answer.error?.details).toContain('undecodable')
    }
    expect(node.writes).toEqual([])
    await client.put('after').value('fine')
    expect(await client.get('after').string()).toBe('fine')
  })

  it('a request over the size limit is refused by gRPC before it is decoded', async () => {
    const { node, endpoint } = await start()
    const answer = await rawCall(endpoint, '/etcdserverpb.KV/Put', encode('KV', 'Put', { key: Buffer.from('k'), value: Buffer.alloc(2 * 1024 * 1024) }))
    expect(answer.error?.code).toBe(grpcStatus.RESOURCE_EXHAUSTED)
    expect(node.writes).toEqual([])
  })

  it.each([
    ['/etcdserverpb.Cluster/MemberAdd', 'Cluster.MemberAdd'],
    ['/etcdserverpb.Maintenance/Defragment', 'Maintenance.Defragment'],
    ['/etcdserverpb.Maintenance/Hash', 'Maintenance.Hash'],
    ['/etcdserverpb.Auth/Authenticate', 'Auth/Authenticate'],
  ])('%s: UNIMPLEMENTED, naming the call', async (path, named) => {
    const { endpoint } = await start()
    const answer = await rawCall(endpoint, path, Buffer.alloc(0))
    expect(answer.error?.code).toBe(grpcStatus.UNIMPLEMENTED)
    expect(answer.error?.details).toContain(named)
  })

  it('a full store: RESOURCE_EXHAUSTED with etcd\'s database space exceeded', async () => {
    const node = new FakeNode()
    node.mode = 'leader'
    const { client } = await start(node)
    node.write = async () => ({ type: 'quota_exceeded' })
    expect(await grpcError(client.put('k').value('v').exec())).toMatchObject({ code: undefined, message: expect.stringContaining('etcdserver: mvcc: database space exceeded') })
  })
})

describe('etcd Txn, and the Put and DeleteRange forms that run as one', () => {
  it('compares on value, version, create and mod revision pick the branch; its ops run at one revision', async () => {
    const { client } = await start()
    await client.put('t/a').value('1') // revision 1
    const ran = await client.if('t/a', 'Value', '==', '1').and('t/a', 'Version', '==', 1).and('t/a', 'Create', '==', 1).and('t/a', 'Mod', '<', 2)
      .then(client.put('t/a').value('2'), client.put('t/b').value('3'), client.get('t/a')).else(client.put('t/c').value('no')).commit()
    expect(ran.succeeded).toBe(true)
    expect(ran.header.revision).toBe('2')
    expect(ran.responses.map((response) => Object.keys(response).filter((name) => name.startsWith('response_') && response[name as keyof typeof response] != null))).toEqual([['response_put'], ['response_put'], ['response_range']])
    expect(ran.responses[2]!.response_range!.kvs[0]).toMatchObject({ value: Buffer.from('2'), mod_revision: '2', version: '2', create_revision: '1' })
    const failed = await client.if('t/a', 'Value', '==', '1').then(client.put('t/c').value('no')).else(client.get('t/b'), client.delete().key('t/b')).commit()
    expect(failed.succeeded).toBe(false)
    expect(failed.responses[0]!.response_range!.kvs[0]!.value.toString()).toBe('3')
    expect(failed.responses[1]!.response_delete_range!.deleted).toBe('1')
    expect(await client.get('t/c').string()).toBeNull()
    // No write in the branch that runs: a read at the current revision, which stays.
    const read = await client.if('t/a', 'Version', '>', 0).then(client.get('t/a')).commit()
    expect(read.header.revision).toBe('3')
    expect((await client.get('t/a').exec()).header.revision).toBe('3')
  })

  it('put and delete with prev_kv answer the key as it was; a prefix delete and a delete of everything count', async () => {
    const { client } = await start()
    expect(await client.put('p/a').value('1').getPrevious()).not.toHaveProperty('key') // none: only the header
    const previous = await client.put('p/a').value('2').getPrevious()
    expect(previous).toMatchObject({ value: Buffer.from('1'), mod_revision: '1', version: '1' })
    await client.put('p/b').value('3')
    await client.put('q').value('4')
    const deletedBefore = await client.delete().key('p/a').getPrevious()
    expect(deletedBefore.map((kv) => kv.value.toString())).toEqual(['2'])
    expect((await client.delete().prefix('p/').exec()).deleted).toBe('1')
    expect(await client.getAll().keys()).toEqual(['q'])
    expect((await client.delete().all().exec()).deleted).toBe('1')
    expect(await client.getAll().count()).toBe(0)
  })

  it.each([
    ['a key written twice', (client: Etcd3) => client.if('x', 'Version', '==', 0).then(client.put('x').value('1'), client.put('x').value('2')).commit(), 'etcdserver: duplicate key given in txn request'],
    ['more than 128 ops', (client: Etcd3) => client.if('x', 'Version', '==', 0).then(...Array.from({ length: 129 }, (_, index) => client.put(`x/${index}`).value('v'))).commit(), 'etcdserver: too many operations in txn request'],
  ])('a Txn with %s is refused, nothing written', async (_label, run, message) => {
    const { node, client } = await start()
    const error = await run(client).then(() => null, (caught: Error) => caught)
    expect(error?.message).toContain(message)
    expect(node.writes).toEqual([])
  })
})

describe('what etcd\'s lock and election ask', () => {
  it('Range with revision filters, sorted, limited: as etcd prunes after reading and counts before', async () => {
    const { client } = await start()
    for (const key of ['l/c', 'l/a', 'l/b', 'l/d']) await client.put(key).value('x') // revisions 1..4
    const lastBefore3 = client.getAll().prefix('l/').sort('Create', 'Descend').limit(1)
    Object.assign((lastBefore3 as unknown as { request: object }).request, { max_create_revision: 3 })
    const answer = await lastBefore3.exec()
    expect(answer.kvs.map((kv) => kv.key.toString())).toEqual(['l/b'])
    expect([answer.more, answer.count]).toEqual([true, '4'])
    const modAtLeast2 = client.getAll().prefix('l/')
    Object.assign((modAtLeast2 as unknown as { request: object }).request, { min_mod_revision: 2, max_mod_revision: 3 })
    expect(await modAtLeast2.keys()).toEqual(['l/a', 'l/b'])
  })

  it('a Txn range sorted by create revision, limit 1: the first created key under a prefix', async () => {
    const { client } = await start()
    for (const key of ['q/z', 'q/a', 'q/m']) await client.put(key).value('x')
    const ran = await client.if('q/new', 'Create', '==', 0).then(client.put('q/new').value('me'), client.getAll().prefix('q/').sort('Create', 'Ascend').limit(1)).commit()
    const owner = ran.responses[1]!.response_range!
    expect(owner.kvs.map((kv) => kv.key.toString())).toEqual(['q/z'])
    expect([owner.more, owner.count]).toEqual([true, '4'])
  })
})

describe('etcd Maintenance and Cluster', () => {
  it('Status: version, leader, indexes, term, size; MemberList: ids, names, peer and client URLs', async () => {
    const { client } = await start()
    await client.put('k').value('v')
    const status = await client.maintenance.status()
    expect(status).toMatchObject({ version: '3.4.0-compatible', leader: '1', raftTerm: '1', isLearner: false })
    expect(Number(status.dbSize)).toBeGreaterThan(0)
    const members = await client.cluster.memberList({})
    expect(members.members).toEqual([{ ID: '1', name: 'node-1', peerURLs: ['http://127.0.0.1:9'], clientURLs: ['http://127.0.0.1:2379'], isLearner: false }])
  })
})

describe('etcd calls on a follower', () => {
  it('a write and a linearizable read are answered by the leader; a serializable read locally', async () => {
    const leader = new FakeNode()
    const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node: leader, secret: 'etcd-route-secret', clusterId: 'c1', members: new Set([nodeId(1), nodeId(2)]), requestTimeoutMs: 2000, valueBytesMax, onFatal: () => {} })
    const http = serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch })
    onStop(() => new Promise<void>((resolve) => http.close(() => resolve())))
    await new Promise((resolve) => http.once('listening', resolve))
    const address = http.address()
    const follower = new FakeNode()
    follower.mode = 'follower'
    follower.leaderUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    const { client } = await start(follower)
    const put = await client.put('k').value('from-a-follower').exec()
    expect(put.header.member_id).toBe('1') // the member the client asked
    expect(leader.writes).toHaveLength(1)
    expect(leader.writes[0]!.requestId).toMatch(/^fake-r/) // the follower named the write
    expect(await client.get('k').string()).toBe('from-a-follower')
    await client.put('k2').value('second')
    expect(await client.getAll().prefix('k').strings()).toEqual({ k: 'from-a-follower', k2: 'second' })
    const txn = await client.if('k2', 'Value', '==', 'second').then(client.put('k3').value('third')).commit()
    expect(txn.succeeded).toBe(true)
    expect(await client.put('k3').value('fourth').getPrevious()).toMatchObject({ value: Buffer.from('third') })
    expect(await client.get('k').serializable(true).string()).toBeNull() // the follower's own replica
  })

  it('the leader refuses an etcd forward without the cluster secret', async () => {
    const leader = new FakeNode()
    const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), node: leader, secret: 'etcd-route-secret', clusterId: 'c1', members: new Set([nodeId(1)]), requestTimeoutMs: 2000, valueBytesMax, onFatal: () => {} })
    const body = encode('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v') })
    const response = await app.request('/peer/etcd/KV/Put', { method: 'POST', body, headers: { 'x-paxos-forwarded': '1', 'x-paxos-secret': 'wrong', 'x-paxos-cluster': 'c1', 'x-paxos-budget-ms': '1000', 'x-paxos-deadline-at-ms': String(Date.now() + 1000) } })
    expect(response.status).toBe(401)
    const unforwarded = await app.request('/peer/etcd/KV/Put', { method: 'POST', body })
    expect(unforwarded.status).toBe(400)
    expect(leader.writes).toEqual([])
  })
})
