/**
 * Goal: POST /v1/txn and DELETE /v1/kv?prefix= answer exactly as api.md says: shapes of every
 * result, one revision per txn with writes, a txn without writes served without any write (a
 * read barrier), 400 for every kind of bad txn and 413 past the op limit, all changing nothing,
 * Idempotency-Key replays, and a follower forwarding both kinds of txn to the leader.
 * Method: app.request() against createApp with a FakeNode; the leader a real server on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { limits } from '../../src/core/index.js'
import { listen, setup } from './route-setup.js'

const b64 = (text: string) => Buffer.from(text).toString('base64')
const post = (body: unknown, headers: Record<string, string> = {}) =>
  ({ method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } })

const closers: Array<() => void> = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

describe('POST /v1/txn', () => {
  it('a cas-style txn: puts at one revision, then fails its compare and runs the failure ops', async () => {
    const { app, node } = setup()
    await app.request('/v1/kv/dir/x', { method: 'PUT', body: 'x' })
    const txn = {
      compare: [{ key: 'lock', target: 'createRevision', op: '=', value: 0 }],
      success: [{ put: { key: 'lock', value: b64('me') } }, { put: { key: 'owner', value: b64('me') } }, { list: { prefix: 'dir/' } }],
      failure: [{ get: { key: 'lock' } }],
    }
    const first = await app.request('/v1/txn', post(txn))
    expect(first.status).toBe(200)
    expect(first.headers.get('x-paxos-slot')).toBe('2')
    expect(await first.json()).toEqual({
      succeeded: true, version: 2,
      results: [{ version: 2 }, { version: 2 }, { items: [{ key: 'dir/x', version: 1, createRevision: 1, writes: 1, lease: null, value: b64('x') }], more: false }],
    })
    const second = await app.request('/v1/txn', post(txn))
    expect(await second.json()).toEqual({ succeeded: false, version: 2, results: [{ key: 'lock', version: 2, createRevision: 2, writes: 1, lease: null, value: b64('me') }] })
    expect(node.writes).toHaveLength(3) // the put and two txns: the second went through the log too (its success branch writes)
  })

  it('a txn without writes is a read: no write, the store\'s revision, null for a missing key', async () => {
    const { app, node } = setup()
    await app.request('/v1/kv/a', { method: 'PUT', body: '1' })
    const response = await app.request('/v1/txn', post({ compare: [{ key: 'a', target: 'value', op: '=', value: b64('1') }], success: [{ get: { key: 'a' } }, { get: { key: 'b' } }] }))
    expect(await response.json()).toEqual({ succeeded: true, version: 1, results: [{ key: 'a', version: 1, createRevision: 1, writes: 1, lease: null, value: b64('1') }, null] })
    expect(node.writes).toHaveLength(1)
    expect(response.headers.get('x-paxos-slot')).toBeNull()
  })

  it('deletes answer counts; an empty txn is a read of nothing', async () => {
    const { app } = setup()
    for (const key of ['p/1', 'p/2', 'q']) await app.request(`/v1/kv/${key}`, { method: 'PUT', body: 'v' })
    const response = await app.request('/v1/txn', post({ success: [{ deletePrefix: { prefix: 'p/' } }, { delete: { key: 'q' } }, { delete: { key: 'none' } }] }))
    expect(await response.json()).toEqual({ succeeded: true, version: 4, results: [{ deleted: 2 }, { deleted: 1 }, { deleted: 0 }] })
    expect(await (await app.request('/v1/txn', post({}))).json()).toEqual({ succeeded: true, version: 4, results: [] })
  })

  it('an Idempotency-Key retry answers the first decision, marked replayed, with its reads null; another body under it is 422', async () => {
    const { app } = setup()
    const txn = { success: [{ put: { key: 'k', value: b64('v') } }, { get: { key: 'k' } }] }
    const first = await (await app.request('/v1/txn', post(txn, { 'idempotency-key': 'once' }))).json()
    expect(first).toMatchObject({ succeeded: true, version: 1, results: [{ version: 1 }, { key: 'k' }] })
    expect(await (await app.request('/v1/txn', post(txn, { 'idempotency-key': 'once' }))).json()).toEqual({ succeeded: true, version: 1, results: [{ version: 1 }, null], replayed: true })
    const reused = await app.request('/v1/txn', post({ success: [{ put: { key: 'k', value: b64('w') } }] }, { 'idempotency-key': 'once' }))
    expect(reused.status).toBe(422)
  })

  const part = { get: { key: 'k' } }
  const bad: Array<[string, unknown, number]> = [
    ['not JSON', '{', 400],
    ['an unknown field', { compare: [], extra: 1 }, 400],
    ['an unknown op', { success: [{ increment: { key: 'k' } }] }, 400],
    ['an op with two kinds', { success: [{ get: { key: 'k' }, delete: { key: 'k' } }] }, 400],
    ['an unknown target', { compare: [{ key: 'k', target: 'size', op: '=', value: 1 }] }, 400],
    ['an unknown operator', { compare: [{ key: 'k', target: 'version', op: '>=', value: 1 }] }, 400],
    ['a numeric target with text', { compare: [{ key: 'k', target: 'version', op: '=', value: '1' }] }, 400],
    ['a value that is not base64', { success: [{ put: { key: 'k', value: 'not base64!' } }] }, 400],
    ['an empty key', { success: [{ put: { key: '', value: '' } }] }, 400],
    ['a key too long', { compare: [{ key: 'k'.repeat(1025), target: 'version', op: '=', value: 0 }] }, 400],
    ['a lease id that is not digits', { compare: [{ key: 'k', target: 'lease', op: '=', value: 'abc' }] }, 400],
    ['a key written twice', { success: [{ put: { key: 'k', value: '' } }, { delete: { key: 'k' } }] }, 400],
    ['a put under a deleted prefix', { failure: [{ deletePrefix: { prefix: 'a/' } }, { put: { key: 'a/b', value: '' } }] }, 400],
    ['a list limit of 0', { success: [{ list: { prefix: '', limit: 0 } }] }, 400],
    ['129 parts', { compare: [], success: Array.from({ length: 65 }, () => part), failure: Array.from({ length: 64 }, () => part) }, 413],
    ['reads past the item limit', { success: [{ list: { prefix: 'a', limit: 1000 } }, { get: { key: 'k' } }] }, 413],
  ]
  it.each(bad)('%s: %i, and nothing is written', async (_name, body, status) => {
    const { app, node } = setup()
    const response = await app.request('/v1/txn', post(body))
    expect(response.status).toBe(status)
    expect(await response.json()).toHaveProperty('error')
    expect(node.writes).toEqual([])
    expect(node.revision()).toBe(0)
  })

  it('carries values in canonical base64 (what the peer codec accepts), whatever trailing bits the client sent', async () => {
    const { app, node } = setup()
    await app.request('/v1/txn', post({ success: [{ put: { key: 'k', value: 'aGl=' } }] }))
    const sent = node.writes[0]
    expect(sent?.type === 'txn' && sent.txn.success[0]).toMatchObject({ value: 'aGk=' })
    expect(Buffer.from(node.get('k')!.value).toString()).toBe('hi')
  })

  it('takes exactly the op limit', async () => {
    const { app } = setup()
    const response = await app.request('/v1/txn', post({ compare: [{ key: 'k', target: 'version', op: '=', value: 0 }], success: Array.from({ length: limits.txnPartsMax - 1 }, () => part) }))
    expect(response.status).toBe(200)
  })

  it('refuses a query string and a body past its byte limit', async () => {
    const { app } = setup()
    expect((await app.request('/v1/txn?x=1', post({}))).status).toBe(400)
    expect((await app.request('/v1/txn', post(' '.repeat(limits.txnBodyBytesMax + 1)))).status).toBe(413)
    expect((await app.request('/v1/txn')).status).toBe(405)
  })

  it('a follower forwards a txn with writes and one without to the leader, and relays the answers', async () => {
    const leader = setup()
    const server = await listen(leader.app)
    closers.push(server.close)
    // A forward is a real HTTP request: on a loaded machine it can take longer than setup's 300 ms.
    const follower = setup(5_000)
    follower.node.mode = 'follower'
    follower.node.leaderUrl = server.url
    const written = await follower.app.request('/v1/txn', post({ success: [{ put: { key: 'a', value: b64('1') } }, { put: { key: 'b', value: b64('2') } }] }))
    expect(await written.json()).toEqual({ succeeded: true, version: 1, results: [{ version: 1 }, { version: 1 }] })
    expect(written.headers.get('x-paxos-slot')).toBe('1')
    const read = await follower.app.request('/v1/txn', post({ success: [{ get: { key: 'b' } }] }))
    expect(await read.json()).toMatchObject({ succeeded: true, version: 1, results: [{ key: 'b', value: b64('2') }] })
    expect(follower.node.revision()).toBe(0) // served by the leader, not from the follower's state
  })
})

describe('DELETE /v1/kv?prefix=', () => {
  it('deletes every key with the prefix in one revision and says how many', async () => {
    const { app, node } = setup()
    for (const key of ['app/a', 'app/b', 'apple', 'b']) await app.request(`/v1/kv/${key}`, { method: 'PUT', body: 'v' })
    const response = await app.request('/v1/kv?prefix=app/', { method: 'DELETE' })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ version: 5, deleted: 2 })
    expect(response.headers.get('x-paxos-slot')).toBe('5')
    expect(node.range('', 10, null).items.map((item) => item.key)).toEqual(['apple', 'b'])
    expect(await (await app.request('/v1/kv?prefix=none/', { method: 'DELETE' })).json()).toEqual({ version: 6, deleted: 0 })
    expect(await (await app.request('/v1/kv?prefix=', { method: 'DELETE' })).json()).toEqual({ version: 7, deleted: 2 })
  })

  it.each(['/v1/kv', '/v1/kv?limit=3', '/v1/kv?prefix=a&cas=1'])('%s is 400 and deletes nothing', async (path) => {
    const { app, node } = setup()
    await app.request('/v1/kv/a', { method: 'PUT', body: 'v' })
    const response = await app.request(path, { method: 'DELETE' })
    expect(response.status).toBe(400)
    expect(node.get('a')).not.toBeNull()
  })
})
