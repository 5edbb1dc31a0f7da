/**
 * /v1/leases: grant and revoke go through the log (proposeWrite); keepalive and the views are
 * answered by the leader, whose countdowns they read or restart, from any node (forwarded).
 * @module
 */
import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { assert } from '../core/assert.js'
import { isLeaseId, leaseId, type LeaseId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { LeaseCall } from './node-service.js'
import { readBoundedBody } from './body.js'
import { callLeader, identity, proposeWrite, type Applied, type ClientRouteOptions } from './consensus-calls.js'
import { ApiError } from './errors.js'
import { forwardedOf } from './forward.js'
import { receiptHeaders } from './receipt-headers.js'
import { checkQuery, parseIdempotencyKey } from './validate.js'

const grantSchema = z.strictObject({ ttlSeconds: z.number().int().min(1).max(limits.leaseTtlSecondsMax) })

function idOf(c: Context): LeaseId {
  const id = c.req.param('id') ?? ''
  if (!isLeaseId(id)) throw new ApiError('bad_request', `a lease id is 1 to 19 digits (at most 2^63 - 1), got ${JSON.stringify(id)}`)
  return leaseId(id)
}

/** Runs `call` on the leader (forwarding there from a follower) and answers its value. */
async function onLeader<T>(c: Context, options: ClientRouteOptions, call: (deadline: number) => Promise<LeaseCall<T>>, answer: (value: T) => Response): Promise<Response> {
  const outcome = await callLeader(c, options, call, null)
  if (outcome instanceof Response) return outcome
  switch (outcome.type) {
    case 'ok':
      return answer(outcome.value)
    case 'not_found':
      throw new ApiError('lease_not_found', 'no such lease (it was revoked, or it expired)')
    case 'overloaded':
      throw new ApiError('overloaded', 'too many reads waiting; retry shortly')
    case 'timeout':
    case 'not_leader':
      throw new ApiError('unavailable', 'the leader could not be reached before the timeout')
  }
}

export function mountLeaseRoutes(app: Hono, options: ClientRouteOptions): void {
  const { node } = options

  app.post('/v1/leases', async (c) => {
    checkQuery(c.req.query(), 'none')
    const forwarded = forwardedOf(c, node, identity(options))
    const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'))
    const body = await readBoundedBody(c, 1024, 'a lease grant body is a small JSON object')
    let json: unknown
    try {
      json = JSON.parse(Buffer.from(body).toString('utf8'))
    } catch {
      throw new ApiError('bad_request', 'the body is not JSON')
    }
    const parsed = grantSchema.safeParse(json)
    if (!parsed.success) throw new ApiError('bad_request', `the body is {"ttlSeconds": T} with T from 1 to ${limits.leaseTtlSecondsMax}`)
    const id = node.newLeaseId()
    const answer = (applied: Applied): Response => {
      assert(applied.type === 'lease_granted', `a grant answered as a ${applied.type}`)
      return c.json({ id: applied.id, ttlSeconds: applied.ttlSeconds })
    }
    return proposeWrite(c, options, forwarded, (requestId) => ({ type: 'lease-grant', id, ttlSeconds: parsed.data.ttlSeconds, idempotencyKey, requestId }), body, answer)
  })

  app.delete('/v1/leases/:id', async (c) => {
    checkQuery(c.req.query(), 'none')
    const id = idOf(c)
    const answer = (applied: Applied): Response => {
      assert(applied.type === 'lease_revoked', `a revoke answered as a ${applied.type}`)
      return c.json({ version: applied.version, deleted: applied.deleted }, 200, receiptHeaders(applied.receipt))
    }
    return proposeWrite(c, options, forwardedOf(c, node, identity(options)), (requestId) => ({ type: 'lease-revoke', id, idempotencyKey: null, requestId }), null, answer)
  })

  app.post('/v1/leases/:id/keepalive', async (c) => {
    checkQuery(c.req.query(), 'none')
    const id = idOf(c)
    return onLeader(c, options, (deadline) => node.keepalive(id, deadline), (value) => c.json({ id, ttlSeconds: value.ttlSeconds }))
  })

  app.get('/v1/leases/:id', async (c) => {
    checkQuery(c.req.query(), 'none')
    const id = idOf(c)
    return onLeader(c, options, (deadline) => node.leaseViews(id, deadline), (views) => c.json(views[0]))
  })

  app.get('/v1/leases', async (c) => {
    checkQuery(c.req.query(), 'none')
    return onLeader(c, options, (deadline) => node.leaseViews(null, deadline), (views) =>
      c.json({ leases: views.map((view) => ({ id: view.id, ttlSeconds: view.ttlSeconds, remainingSeconds: view.remainingSeconds })) }))
  })
}
