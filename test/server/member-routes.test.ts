import { describe, expect, it } from 'vitest'
import { nodeId } from '../../src/core/index.js'
import { setup } from './route-setup.js'

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>
}

describe('/v1/members', () => {
  it('lists the members and the slot of their configuration', async () => {
    const { app } = setup()
    const response = await app.request('/v1/members')
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({ configSlot: 0, members: [1, 2, 3].map((id) => ({ id, url: `http://127.0.0.1:${7000 + id}`, role: 'voter', caughtUp: true })) })
  })

  it('adds a learner by default, promotes it once caught up, and removes a member', async () => {
    const { app, node } = setup()
    const added = await app.request('/v1/members', { method: 'POST', body: JSON.stringify({ id: 4, url: 'http://127.0.0.1:7004/' }) })
    expect(added.status).toBe(200)
    expect((await json(added)).members).toContainEqual({ id: 4, url: 'http://127.0.0.1:7004', role: 'learner', caughtUp: false })
    const early = await app.request('/v1/members/4/promote', { method: 'POST' })
    expect(early.status).toBe(409)
    expect((await json(early)).error).toBe('not_caught_up')
    node.caughtUpMembers.add(nodeId(4))
    const promoted = await app.request('/v1/members/4/promote', { method: 'POST' })
    expect((await json(promoted)).members).toContainEqual({ id: 4, url: 'http://127.0.0.1:7004', role: 'voter', caughtUp: true })
    const removed = await app.request('/v1/members/1', { method: 'DELETE' })
    expect(removed.status).toBe(200)
    expect(((await json(removed)).members as { id: number }[]).map((entry) => entry.id)).toEqual([2, 3, 4])
  })

  it.each([
    ['not JSON', 'nope'],
    ['no url', JSON.stringify({ id: 4 })],
    ['an id out of range', JSON.stringify({ id: 99, url: 'http://127.0.0.1:7099' })],
    ['a URL that is not http', JSON.stringify({ id: 4, url: 'ftp://127.0.0.1:7004' })],
    ['an unknown field', JSON.stringify({ id: 4, url: 'http://127.0.0.1:7004', voter: true })],
  ])('refuses %s with 400 and changes nothing', async (_name, body) => {
    const { app, node } = setup()
    const response = await app.request('/v1/members', { method: 'POST', body })
    expect(response.status).toBe(400)
    expect(node.memberChanges).toEqual([])
  })

  it('refuses a taken id with 409 member_exists, and a bad member id in the path with 400', async () => {
    const { app } = setup()
    const taken = await app.request('/v1/members', { method: 'POST', body: JSON.stringify({ id: 2, url: 'http://127.0.0.1:9999' }) })
    expect(taken.status).toBe(409)
    expect((await json(taken)).error).toBe('member_exists')
    expect((await app.request('/v1/members/zero', { method: 'DELETE' })).status).toBe(400)
    expect((await app.request('/v1/members/6', { method: 'DELETE' })).status).toBe(404)
  })

  it('answers 503 when no leader can be reached', async () => {
    const { app, node } = setup(200)
    node.mode = 'no_leader'
    expect((await app.request('/v1/members')).status).toBe(503)
  })
})
