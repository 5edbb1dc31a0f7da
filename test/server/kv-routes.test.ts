/**
 * Goal: the client API answers exactly as the contract says, for good and bad input: statuses,
 * bodies, headers, and that bad input changes nothing. Method: app.request() against createApp
 * with a FakeNode (no sockets); forwarding uses a real second server on 127.0.0.1.
 */
import { createServer, type IncomingMessage } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../integration/harness.js'
import { listen, peer, setup } from './route-setup.js'

/** The headers of a forward with `ms` left of its deadline. */
const forwardedUntil = (ms: number) => ({ 'x-paxos-forwarded': '1', 'x-paxos-budget-ms': String(ms), 'x-paxos-deadline-at-ms': String(Date.now() + ms) })

const closers: Array<() => void> = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

describe('kv routes', () => {
  it('PUT then GET returns the raw value and X-Version; DELETE reports deleted', async () => {
    const { app } = setup()
    const put = await app.request('/v1/kv/a/b%20c', { method: 'PUT', body: new Uint8Array([0, 255, 1]) })
    expect(put.status).toBe(200)
    expect(await put.json()).toEqual({ version: 1 })
    const get = await app.request('/v1/kv/a/b%20c')
    expect(get.status).toBe(200)
    expect(get.headers.get('x-version')).toBe('1')
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(new Uint8Array([0, 255, 1]))
    expect(await (await app.request('/v1/kv/a/b%20c', { method: 'DELETE' })).json()).toEqual({ version: 2, deleted: true })
    expect(await (await app.request('/v1/kv/a/b%20c', { method: 'DELETE' })).json()).toEqual({ version: 3, deleted: false })
    const missing = await app.request('/v1/kv/a/b%20c')
    expect(missing.status).toBe(404)
    expect((await missing.json() as { error: string }).error).toBe('not_found')
  })

  it('cas: 409 with the current version, and cas=0 means must not exist', async () => {
    const { app } = setup()
    expect((await app.request('/v1/kv/k?cas=0', { method: 'PUT', body: 'v' })).status).toBe(200)
    const conflict = await app.request('/v1/kv/k?cas=0', { method: 'PUT', body: 'w' })
    expect(conflict.status).toBe(409)
    expect(await conflict.json()).toMatchObject({ error: 'cas_mismatch', version: 1 })
    expect((await app.request('/v1/kv/k?cas=1', { method: 'PUT', body: 'w' })).status).toBe(200)
  })

  it('a successful PUT or DELETE carries its consensus receipt; a failed one none; unseen fields are left out', async () => {
    const { app, node } = setup()
    const put = await app.request('/v1/kv/r', { method: 'PUT', body: 'v' })
    expect(Object.fromEntries([...put.headers].filter(([name]) => name.startsWith('x-paxos-')))).toEqual({
      'x-paxos-slot': '1', 'x-paxos-ballot': '3.1', 'x-paxos-leader': '1', 'x-paxos-quorum': '1,2', 'x-paxos-commit-ms': '1.25', 'x-paxos-fsync-ms': '0.5',
    })
    const conflict = await app.request('/v1/kv/r?cas=0', { method: 'PUT', body: 'w' })
    expect(conflict.status).toBe(409)
    expect([...conflict.headers.keys()].filter((name) => name.startsWith('x-paxos-'))).toEqual([])
    node.receipt = { ballot: null, leader: null, quorum: null, commitMs: null, fsyncMs: null }
    const deleted = await app.request('/v1/kv/r', { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    expect([...deleted.headers.keys()].filter((name) => name.startsWith('x-paxos-'))).toEqual(['x-paxos-slot'])
    expect(deleted.headers.get('x-paxos-slot')).toBe('3') // slot 2 held the failed cas
  })

  it('lists by prefix with base64 values, metadata, more and the revision; after resumes strictly after a key', async () => {
    const { app } = setup()
    for (const key of ['p/1', 'p/2', 'p/3', 'q/1']) await app.request(`/v1/kv/${key}`, { method: 'PUT', body: key })
    await app.request('/v1/kv/p/1', { method: 'PUT', body: 'again' })
    const item = (key: string, value: string, version: number, createRevision: number, writes: number) =>
      ({ key, version, createRevision, writes, lease: null, value: Buffer.from(value).toString('base64') })
    const listed = await app.request('/v1/kv?prefix=p/&limit=2')
    expect(await listed.json()).toEqual({ items: [item('p/1', 'again', 5, 1, 2), item('p/2', 'p/2', 2, 2, 1)], more: true, revision: 5 })
    const rest = await app.request('/v1/kv?prefix=p/&limit=2&after=p/2')
    expect(await rest.json()).toEqual({ items: [item('p/3', 'p/3', 3, 3, 1)], more: false, revision: 5 })
    // A key that is not there (p/10 sorts between p/1 and p/2) and one past the prefix.
    expect((await (await app.request('/v1/kv?prefix=p/&after=p/10')).json() as { items: Array<{ key: string }> }).items.map((listedItem) => listedItem.key)).toEqual(['p/2', 'p/3'])
    expect(await (await app.request('/v1/kv?prefix=p/&after=q')).json()).toEqual({ items: [], more: false, revision: 5 })
    expect((await app.request('/v1/kv?limit=0')).status).toBe(400)
    expect((await app.request('/v1/kv?limit=abc')).status).toBe(400)
    expect((await app.request('/v1/kv?after=')).status).toBe(400)
  })

  it('GET carries the key metadata and the revision it saw as headers', async () => {
    const { app } = setup()
    await app.request('/v1/kv/m', { method: 'PUT', body: '1' })
    await app.request('/v1/kv/other', { method: 'PUT', body: 'x' })
    await app.request('/v1/kv/m', { method: 'PUT', body: '2' })
    await app.request('/v1/kv/other', { method: 'DELETE' })
    const get = await app.request('/v1/kv/m')
    expect(Object.fromEntries(['x-version', 'x-create-revision', 'x-writes', 'x-revision', 'x-lease'].map((name) => [name, get.headers.get(name)]))).toEqual({
      'x-version': '3', 'x-create-revision': '1', 'x-writes': '2', 'x-revision': '4', 'x-lease': null,
    })
    // Deleted and created again: a new creation, the write count starts over.
    await app.request('/v1/kv/m', { method: 'DELETE' })
    await app.request('/v1/kv/m', { method: 'PUT', body: '3' })
    const recreated = await app.request('/v1/kv/m')
    expect([recreated.headers.get('x-create-revision'), recreated.headers.get('x-writes'), recreated.headers.get('x-version')]).toEqual(['6', '1', '6'])
  })

  it.each([
    ['/v1/kv/k?cas=-1', 'PUT'], ['/v1/kv/k?cas=1.5', 'PUT'], ['/v1/kv/k?cas=abc', 'PUT'], ['/v1/kv/k?cas=', 'PUT'],
    ['/v1/kv/', 'PUT'], [`/v1/kv/${'k'.repeat(1025)}`, 'PUT'], ['/v1/kv/%E0%A4%A', 'PUT'], ['/v1/kv/k?cass=1', 'PUT'],
    ['/v1/kv/k?consistency=eventual', 'GET'], ['/v1/kv/k?cas=x', 'DELETE'],
  ])('%s (%s) is 400 and writes nothing', async (path, method) => {
    const { app, node } = setup()
    const response = await app.request(path, { method, body: method === 'PUT' ? 'v' : null })
    expect(response.status).toBe(400)
    expect((await response.json() as { error: string }).error).toBe('bad_request')
    expect(node.writes).toEqual([])
  })

  it('a value over the limit is 413 and writes nothing; exactly the limit is fine', async () => {
    const { app, node } = setup()
    const tooBig = await app.request('/v1/kv/big', { method: 'PUT', body: new Uint8Array(1024 * 1024 + 1) })
    expect(tooBig.status).toBe(413)
    expect(node.writes).toEqual([])
    expect((await app.request('/v1/kv/big', { method: 'PUT', body: new Uint8Array(1024 * 1024) })).status).toBe(200)
  })

  it('a declared length over the limit is 413 before the body is read; a malformed one is 400', async () => {
    const { app, node } = setup()
    const declared = await app.request('/v1/kv/big', { method: 'PUT', body: 'small', headers: { 'content-length': String(1024 * 1024 + 1) } })
    expect(declared.status).toBe(413)
    const malformed = await app.request('/v1/kv/big', { method: 'PUT', body: 'small', headers: { 'content-length': '5x' } })
    expect(malformed.status).toBe(400)
    expect(node.writes).toEqual([])
  })

  it('unknown routes are 404 and wrong methods 405, as JSON', async () => {
    const { app } = setup()
    const unknown = await app.request('/v2/kv/a')
    expect(unknown.status).toBe(404)
    expect((await unknown.json() as { error: string }).error).toBe('not_found')
    for (const [path, method] of [['/v1/kv/a', 'POST'], ['/v1/kv/a', 'PATCH'], ['/v1/status', 'POST'], ['/peer/messages', 'GET']] as const) {
      const response = await app.request(path, { method })
      expect(response.status, `${method} ${path}`).toBe(405)
      expect((await response.json() as { error: string }).error).toBe('method_not_allowed')
    }
  })

  it('no leader until the deadline: 503 unavailable with Retry-After', async () => {
    const { app, node } = setup(120)
    node.mode = 'no_leader'
    const write = await app.request('/v1/kv/k', { method: 'PUT', body: 'v' })
    expect(write.status).toBe(503)
    expect(write.headers.get('retry-after')).toBe('1')
    expect((await write.json() as { error: string }).error).toBe('unavailable')
    expect((await app.request('/v1/kv/k')).status).toBe(503)
    expect((await app.request('/v1/kv/k?consistency=stale')).status).toBe(404)
  })

  it('overloaded is 503 overloaded with Retry-After', async () => {
    const { app, node } = setup()
    node.mode = 'overloaded'
    const response = await app.request('/v1/kv/k', { method: 'PUT', body: 'v' })
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ error: 'overloaded' })
  })

  it('a follower forwards to the leader (a real server) and relays its answer verbatim', async () => {
    const leader = setup()
    let seenForwarded: string | undefined
    let seenIdempotencyKey: string | undefined
    const server = await listen(leader.app, (request) => {
      seenForwarded = request.headers.get('x-paxos-forwarded') ?? undefined
      seenIdempotencyKey = request.headers.get('idempotency-key') ?? undefined
    })
    closers.push(server.close)
    // A forward is a real HTTP request: on a loaded machine it can take longer than setup's 300 ms.
    const follower = setup(5_000)
    follower.node.mode = 'follower'
    follower.node.leaderUrl = server.url
    const put = await follower.app.request('/v1/kv/fwd?cas=0', { method: 'PUT', body: 'via-follower', headers: { 'idempotency-key': 'id-1' } })
    expect(put.status).toBe(200)
    expect(await put.json()).toEqual({ version: 1 })
    expect(seenForwarded).toBe('1')
    expect(seenIdempotencyKey).toBe('id-1')
    expect(put.headers.get('x-paxos-slot')).toBe('1') // the leader's receipt, relayed
    expect(put.headers.get('x-paxos-ballot')).toBe('3.1')
    expect(put.headers.get('x-paxos-quorum')).toBe('1,2')
    expect(put.headers.get('x-paxos-fsync-ms')).toBe('0.5')
    const get = await follower.app.request('/v1/kv/fwd')
    expect(await get.text()).toBe('via-follower')
    expect(get.headers.get('x-version')).toBe('1')
    expect([get.headers.get('x-create-revision'), get.headers.get('x-writes'), get.headers.get('x-revision')]).toEqual(['1', '1', '1'])
    expect(follower.node.get('fwd')).toBeNull() // the follower's own state was never touched
  })

  it('a forwarded request is never forwarded again: the target says at once that it did not take it', async () => {
    const { app, node } = setup(10_000)
    node.mode = 'follower'
    node.leaderUrl = 'http://127.0.0.1:9' // would fail if tried; must not be tried
    const started = performance.now()
    const response = await app.request('/v1/kv/k', { method: 'PUT', body: 'v', headers: { ...peer, ...forwardedUntil(10_000), 'x-paxos-request-id': 'n2-x-r1' } })
    expect(response.status).toBe(503)
    expect(response.headers.get('x-paxos-not-leader')).toBe('2')
    // Answered from the first not_leader, not after waiting out the budget for a leader.
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(node.writes.map((write) => write.requestId)).toEqual(['n2-x-r1'])
  })

  it.each([
    [{ 'x-paxos-forwarded': '1' }, 401],
    [{ 'x-paxos-forwarded': '1', 'x-paxos-secret': 'wrong', 'x-paxos-cluster': 'c1' }, 401],
    [{ 'x-paxos-forwarded': '1', ...peer }, 400], // no deadline
    [{ 'x-paxos-forwarded': '1', ...peer, 'x-paxos-budget-ms': '100' }, 400], // no wall-clock deadline
    [{ ...peer, ...forwardedUntil(100), 'x-paxos-request-id': 'bad id' }, 400],
  ])('a forwarded request must come from a member, well formed (%o is %i), and changes nothing', async (headers, status) => {
    const { app, node } = setup()
    const response = await app.request('/v1/kv/k', { method: 'PUT', body: 'v', headers })
    expect(response.status).toBe(status)
    expect(node.writes).toEqual([])
  })

  it('a forward that waited past its deadline (say, in a stalled target) is not proposed: 503, outcome unknown', async () => {
    const { app, node } = setup()
    const late = { ...peer, 'x-paxos-forwarded': '1', 'x-paxos-budget-ms': '5000', 'x-paxos-deadline-at-ms': String(node.wallMs() - 1), 'x-paxos-request-id': 'n2-x-r2' }
    const response = await app.request('/v1/kv/k', { method: 'PUT', body: 'v', headers: late })
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ error: 'unavailable', outcome: 'unknown' })
    expect(node.get('k')).toBeNull()
    // Within its deadline on this node's wall clock, the same forward is taken.
    const inTime = await app.request('/v1/kv/k', { method: 'PUT', body: 'v', headers: { ...late, 'x-paxos-deadline-at-ms': String(node.wallMs() + 5000) } })
    expect(inTime.status).toBe(200)
  })

  it('an Idempotency-Key reused for a different request is 422 and writes nothing', async () => {
    const { app, node } = setup()
    const key = { 'idempotency-key': 'transfer-7' }
    expect(await (await app.request('/v1/kv/k', { method: 'PUT', body: 'v1', headers: key })).json()).toEqual({ version: 1 })
    for (const [path, method, body] of [['/v1/kv/k', 'PUT', 'v2'], ['/v1/kv/other', 'PUT', 'v1'], ['/v1/kv/k?cas=1', 'PUT', 'v1'], ['/v1/kv/k', 'DELETE', null]] as const) {
      const reused = await app.request(path, { method, body, headers: key })
      expect(reused.status, `${method} ${path}`).toBe(422)
      expect(await reused.json()).toMatchObject({ error: 'idempotency_key_reused' })
    }
    // The request it was first used for still gets its first answer.
    expect(await (await app.request('/v1/kv/k', { method: 'PUT', body: 'v1', headers: key })).json()).toEqual({ version: 1 })
    expect(node.stateMachine.revision()).toBe(1)
    expect(node.get('other')).toBeNull()
  })

  it('with every dedupe record young, a new keyed write is 503 overloaded, never applied; a retry still answers', async () => {
    const { app, node } = setup(300, { idempotency: { recordsMax: 1, retentionMs: 600_000 } })
    expect((await app.request('/v1/kv/a', { method: 'PUT', body: '1', headers: { 'idempotency-key': 'a' } })).status).toBe(200)
    const refused = await app.request('/v1/kv/b', { method: 'PUT', body: '1', headers: { 'idempotency-key': 'b' } })
    expect(refused.status).toBe(503)
    expect(await refused.json()).toMatchObject({ error: 'overloaded' })
    expect(node.get('b')).toBeNull()
    expect(await (await app.request('/v1/kv/a', { method: 'PUT', body: '1', headers: { 'idempotency-key': 'a' } })).json()).toEqual({ version: 1 })
  })

  it('a forward reset after it was sent is retried under the same request id, and applies once', async () => {
    const leader = setup()
    const seen: Array<string | undefined> = []
    // The leader takes the first forward, then its connection dies before the answer leaves.
    const server = createServer(async (incoming, outgoing) => {
      seen.push(incoming.headers['x-paxos-request-id'] as string | undefined)
      const response = await leader.app.request(incoming.url!, { method: incoming.method!, headers: headersOf(incoming), body: await bodyOf(incoming) })
      if (seen.length === 1) return void incoming.socket.destroy()
      outgoing.writeHead(response.status, Object.fromEntries(response.headers))
      outgoing.end(Buffer.from(await response.arrayBuffer()))
    })
    closers.push(() => server.close())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    const follower = setup(3_000)
    follower.node.mode = 'follower'
    follower.node.leaderUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    const response = await follower.app.request('/v1/kv/once', { method: 'DELETE' })
    expect(response.status).toBe(200)
    // The retry got the first application's answer: a delete of a missing key at revision 1.
    expect(await response.json()).toEqual({ version: 1, deleted: false })
    expect(seen.length).toBe(2)
    expect(seen[1]).toBe(seen[0])
    expect(seen[0]).toMatch(/^fake-r/)
    expect(leader.node.stateMachine.revision()).toBe(1)
  })

  it('a leader that refuses connections is tried again; the timeout then says nothing took effect', async () => {
    const { app, node } = setup(200)
    node.mode = 'follower'
    node.leaderUrl = `http://127.0.0.1:${await freePort()}`
    const response = await app.request('/v1/kv/k', { method: 'PUT', body: 'v' })
    expect(response.status).toBe(503)
    const body = await response.json() as { error: string; outcome?: string }
    expect(body.error).toBe('unavailable')
    expect(body.outcome).toBeUndefined()
    expect(node.writes.length).toBeGreaterThan(1) // asked its own replica again between tries
  })

  it('a leader that never answers: 503 with the outcome unknown', async () => {
    const { app, node } = setup(300)
    const silent = createServer(() => {}) // takes the request, never answers
    closers.push(() => { silent.closeAllConnections(); silent.close() })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const address = silent.address()
    node.mode = 'follower'
    node.leaderUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    const response = await app.request('/v1/kv/k', { method: 'PUT', body: 'v' })
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ error: 'unavailable', outcome: 'unknown' })
  })
})

function headersOf(incoming: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(incoming.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
}

async function bodyOf(incoming: IncomingMessage): Promise<Uint8Array | null> {
  const chunks: Buffer[] = []
  for await (const chunk of incoming) chunks.push(chunk as Buffer)
  return chunks.length === 0 ? null : Buffer.concat(chunks)
}
