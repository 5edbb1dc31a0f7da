/**
 * /v1/members (api.md): the member list and one change at a time, decided by the leader (a
 * follower forwards there). A change answers once the new configuration is chosen.
 * @module
 */
import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { nodeId, type NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { MemberCall, MembersBody } from './node-service.js'
import { readBoundedBody } from './body.js'
import { callLeader, type ClientRouteOptions } from './consensus-calls.js'
import { ApiError } from './errors.js'
import { checkQuery } from './validate.js'

const memberUrl = z.string().max(limits.memberUrlBytesMax).refine((text) => {
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === ''
  } catch {
    return false
  }
}, 'an http(s) URL without query or fragment')

const addSchema = z.strictObject({
  id: z.number().int().min(1).max(limits.nodesMax),
  url: memberUrl,
  learner: z.boolean().optional(),
})

function idOf(c: Context): NodeId {
  const text = c.req.param('id') ?? ''
  const id = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN
  if (!(id >= 1 && id <= limits.nodesMax)) throw new ApiError('bad_request', `a member id is 1 to ${limits.nodesMax}, got ${JSON.stringify(text)}`)
  return nodeId(id)
}

/** The same spelling of a URL every member and the CLI use: origin and path, no trailing slash. */
function normalized(url: string): string {
  const parsed = new URL(url)
  return parsed.origin + parsed.pathname.replace(/\/$/, '')
}

async function onLeader(c: Context, options: ClientRouteOptions, call: (deadline: number) => Promise<MemberCall>, body: Uint8Array | null): Promise<Response> {
  const outcome = await callLeader(c, options, call, body)
  if (outcome instanceof Response) return outcome
  switch (outcome.type) {
    case 'ok':
      return c.json(outcome.value satisfies MembersBody)
    case 'refused':
      throw new ApiError(outcome.code, outcome.message)
    case 'timeout':
    case 'not_leader':
      throw new ApiError('unavailable', 'the change was not chosen before the timeout (it may still be): GET /v1/members shows where it stands')
  }
}

export function mountMemberRoutes(app: Hono, options: ClientRouteOptions): void {
  const { node } = options

  app.get('/v1/members', async (c) => {
    checkQuery(c.req.query(), 'none')
    return onLeader(c, options, async () => node.members(), null)
  })

  app.post('/v1/members', async (c) => {
    checkQuery(c.req.query(), 'none')
    const body = await readBoundedBody(c, 1024, 'a member is a small JSON object')
    let json: unknown
    try {
      json = JSON.parse(Buffer.from(body).toString('utf8'))
    } catch {
      throw new ApiError('bad_request', 'the body is not JSON')
    }
    const parsed = addSchema.safeParse(json)
    if (!parsed.success) throw new ApiError('bad_request', `the body is {"id": N, "url": "http://host:port", "learner": true} with N from 1 to ${limits.nodesMax}`)
    const change = { type: 'add', id: nodeId(parsed.data.id), url: normalized(parsed.data.url), learner: parsed.data.learner ?? true } as const
    return onLeader(c, options, (deadline) => node.changeMembers(change, deadline), body)
  })

  app.post('/v1/members/:id/promote', async (c) => {
    checkQuery(c.req.query(), 'none')
    const id = idOf(c)
    return onLeader(c, options, (deadline) => node.changeMembers({ type: 'promote', id }, deadline), null)
  })

  app.delete('/v1/members/:id', async (c) => {
    checkQuery(c.req.query(), 'none')
    const id = idOf(c)
    return onLeader(c, options, (deadline) => node.changeMembers({ type: 'remove', id }, deadline), null)
  })
}
