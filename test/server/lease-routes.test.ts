/**
 * Goal: the lease API as api.md says: grant (ids are int64 digits), keepalive, one lease with
 * its keys, every lease, revoke deleting its keys in one revision; PUT ?lease= and a txn's put
 * attach keys, and a lease that does not exist is 404 lease_not_found and changes nothing; bad
 * TTLs and ids are 400; a follower forwards lease calls to the leader.
 * Method: app.request() against createApp with a FakeNode (the real state machine).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { listen, setup } from './route-setup.js'

const json = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
const closers: Array<() => void> = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

async function grant(app: ReturnType<typeof setup>['app'], ttlSeconds: number): Promise<string> {
  const response = await app.request('/v1/leases', json({ ttlSeconds }))
  expect(response.status).toBe(200)
  const body = (await response.json()) as { id: string; ttlSeconds: number }
  expect(body.ttlSeconds).toBe(ttlSeconds)
  expect(body.id).toMatch(/^[1-9]\d{0,18}$/)
  return body.id
}

describe('/v1/leases', () => {
  it('grant, attach keys by PUT and by txn, keepalive, show, list, revoke (keys deleted in one revision)', async () => {
    const { app, node } = setup()
    const id = await grant(app, 30)
    expect((await app.request(`/v1/kv/svc/a?lease=${id}`, { method: 'PUT', body: 'x' })).status).toBe(200)
    await app.request('/v1/txn', json({ success: [{ put: { key: 'svc/b', value: 'eQ==', lease: id } }] }))
    await app.request('/v1/kv/plain', { method: 'PUT', body: 'p' })
    expect((await app.request('/v1/kv/svc/a')).headers.get('x-lease')).toBe(id)
    expect(await (await app.request(`/v1/leases/${id}/keepalive`, { method: 'POST' })).json()).toEqual({ id, ttlSeconds: 30 })
    expect(node.keepalives).toEqual([id])
    expect(await (await app.request(`/v1/leases/${id}`)).json()).toEqual({ id, ttlSeconds: 30, remainingSeconds: 30, keys: ['svc/a', 'svc/b'] })
    const other = await grant(app, 5)
    expect(await (await app.request('/v1/leases')).json()).toEqual({ leases: [{ id, ttlSeconds: 30, remainingSeconds: 30 }, { id: other, ttlSeconds: 5, remainingSeconds: 5 }].sort((x, y) => (x.id < y.id ? -1 : 1)) })
    const revoked = await app.request(`/v1/leases/${id}`, { method: 'DELETE' })
    expect(await revoked.json()).toEqual({ version: 4, deleted: 2 })
    expect(revoked.headers.get('x-paxos-slot')).not.toBeNull()
    expect(node.range('', 10, null).items.map((item) => item.key)).toEqual(['plain'])
    expect((await app.request(`/v1/leases/${id}`)).status).toBe(404)
    expect((await app.request(`/v1/leases/${id}/keepalive`, { method: 'POST' })).status).toBe(404)
    expect((await app.request(`/v1/leases/${id}`, { method: 'DELETE' })).status).toBe(404)
    // Revoking a lease without keys writes nothing: the revision stays.
    expect(await (await app.request(`/v1/leases/${other}`, { method: 'DELETE' })).json()).toEqual({ version: 4, deleted: 0 })
  })

  it('a put or a txn naming a lease that does not exist is 404 lease_not_found and changes nothing', async () => {
    const { app, node } = setup()
    const put = await app.request('/v1/kv/k?lease=42', { method: 'PUT', body: 'v' })
    expect(put.status).toBe(404)
    expect(await put.json()).toMatchObject({ error: 'lease_not_found' })
    const txn = await app.request('/v1/txn', json({ success: [{ put: { key: 'a', value: '' } }, { put: { key: 'k', value: '', lease: '42' } }] }))
    expect(txn.status).toBe(404)
    expect(node.revision()).toBe(0)
    expect(node.get('a')).toBeNull()
  })

  it('a put without ?lease detaches the key from its lease (as in etcd)', async () => {
    const { app } = setup()
    const id = await grant(app, 10)
    await app.request(`/v1/kv/k?lease=${id}`, { method: 'PUT', body: '1' })
    await app.request('/v1/kv/k', { method: 'PUT', body: '2' })
    expect(await (await app.request(`/v1/leases/${id}`)).json()).toMatchObject({ keys: [] })
    expect((await app.request('/v1/kv/k')).headers.get('x-lease')).toBeNull()
  })

  it.each([
    ['/v1/leases', json({ ttlSeconds: 0 })], ['/v1/leases', json({ ttlSeconds: 86_401 })], ['/v1/leases', json({ ttlSeconds: 1.5 })],
    ['/v1/leases', json({ ttl: 5 })], ['/v1/leases', { method: 'POST', body: 'nope' }],
    ['/v1/leases/abc/keepalive', { method: 'POST' }], ['/v1/leases/9223372036854775808', { method: 'GET' }], ['/v1/leases/0', { method: 'DELETE' }],
    ['/v1/kv/k?lease=x', { method: 'PUT', body: 'v' }],
  ] as const)('%s %j is 400', async (path, init) => {
    const { app, node } = setup()
    expect((await app.request(path, init)).status).toBe(400)
    expect(node.revision()).toBe(0)
  })

  it('a follower forwards lease calls to the leader', async () => {
    const leader = setup()
    const server = await listen(leader.app)
    closers.push(server.close)
    // A forward is a real HTTP request: on a loaded machine it can take longer than setup's 300 ms.
    const follower = setup(5_000)
    follower.node.mode = 'follower'
    follower.node.leaderUrl = server.url
    const id = await grant(follower.app, 7)
    expect(await (await follower.app.request(`/v1/leases/${id}/keepalive`, { method: 'POST' })).json()).toEqual({ id, ttlSeconds: 7 })
    expect(await (await follower.app.request(`/v1/leases/${id}`)).json()).toMatchObject({ id, ttlSeconds: 7 })
    expect(leader.node.keepalives).toEqual([id])
  })
})
