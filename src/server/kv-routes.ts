/**
 * /v1/kv: routes validate, propose or read, and wait; the node does the rest.
 * @module
 */
import type { Context, Hono } from 'hono'
import type { NodeService, WriteOutcome, WriteRequest } from '../node/node-service.js'
import type { RequestId } from '../core/command.js'
import type { Revision } from '../core/ids.js'
import type { KvItem } from '../kv/state-machine.js'
import { readBoundedBody } from './body.js'
import { ApiError } from './errors.js'
import { nextTurn } from './next-turn.js'
import { itemHeaders, itemJson } from './item-headers.js'
import { receiptHeaders } from './receipt-headers.js'
import { forwardedOf, requestDeadline, withLeader, type Forwarded } from './forward.js'
import type { PeerIdentity } from './peer-auth.js'
import { checkQuery, keyFromPath, parseCas, parseConsistency, parseIdempotencyKey, parseListQuery } from './validate.js'

export type KvRouteOptions = Readonly<{ node: NodeService; requestTimeoutMs: number; valueBytesMax: number; secret: string; clusterId: string }>

function deadlineOf(options: KvRouteOptions, forwarded: Forwarded | null, kind: 'write' | 'read'): number {
  return requestDeadline(options.node, options.requestTimeoutMs, forwarded, kind)
}

/** The path as sent, still percent-encoded (Hono's `c.req.path` may decode it). */
function rawPath(c: Context): string {
  const url = c.req.url
  const start = url.indexOf('/', url.indexOf('://') + 3)
  const query = url.indexOf('?', start)
  return url.slice(start, query < 0 ? url.length : query)
}

type WriteTarget = Readonly<{ key: string; cas: WriteRequest['cas']; idempotencyKey: string | null }>

/** What a PUT or DELETE names, validated in this order: key, query, cas, Idempotency-Key. */
function writeTarget(c: Context, route: 'put' | 'delete'): WriteTarget {
  const key = keyFromPath(rawPath(c))
  const query = c.req.query()
  checkQuery(query, route)
  return { key, cas: parseCas(query.cas), idempotencyKey: parseIdempotencyKey(c.req.header('idempotency-key')) }
}

/** `request` builds the write for one attempt: with the request id once a copy may exist elsewhere. */
async function write(
  c: Context,
  options: KvRouteOptions,
  forwarded: Forwarded | null,
  request: (requestId: RequestId | null) => WriteRequest,
  body: Uint8Array | null,
): Promise<Response> {
  const deadline = deadlineOf(options, forwarded, 'write')
  // The first node names the request; every forward and retry of it carries that name.
  const requestId = forwarded === null ? options.node.newRequestId() : forwarded.requestId
  const outcome = await withLeader<WriteOutcome>(c, { ...identity(options), node: options.node, deadline, forwarded, requestId, body }, (id) => options.node.write(request(id), deadline))
  if (outcome instanceof Response) return outcome
  switch (outcome.type) {
    case 'ok': {
      const body = request(null).type === 'put' ? { version: outcome.version } : { version: outcome.version, deleted: outcome.deleted ?? false }
      return c.json(body, 200, receiptHeaders(outcome.receipt))
    }
    case 'cas_mismatch':
      throw new ApiError('cas_mismatch', `the key's version is ${outcome.version}`, { version: outcome.version })
    case 'idempotency_key_reused':
      throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was first used for a different request; nothing was written')
    case 'overloaded':
      throw new ApiError('overloaded', outcome.reason === 'records_full'
        ? 'too many recent retry-safe writes are remembered to take another now; nothing was written, retry shortly'
        : 'the leader has too many writes in flight; retry shortly')
    case 'quota_exceeded':
      throw new ApiError('quota_exceeded', 'the store is at its live-data quota: delete keys or raise --quota-bytes')
    case 'timeout':
      throw new ApiError('unavailable', 'outcome unknown: the write was not confirmed before the timeout', { outcome: 'unknown' })
    case 'not_leader':
      throw new ApiError('unavailable', 'no leader')
  }
}

function identity(options: KvRouteOptions): { identity: PeerIdentity } {
  return { identity: { secret: options.secret, clusterId: options.clusterId } }
}

/** For a linearizable read: returns null when this node may serve it, or the leader's response. */
async function readBarrier(c: Context, options: KvRouteOptions, consistency: string): Promise<Response | null> {
  if (consistency === 'stale') {
    await nextTurn()
    return null
  }
  const forwarded = forwardedOf(c, options.node, identity(options).identity)
  const deadline = deadlineOf(options, forwarded, 'read')
  const outcome = await withLeader(c, { ...identity(options), node: options.node, deadline, forwarded, requestId: null, body: null }, () => options.node.readBarrier(deadline))
  if (outcome instanceof Response) return outcome
  if (outcome.type === 'ok') return null
  if (outcome.type === 'overloaded') throw new ApiError('overloaded', 'too many reads waiting; retry shortly')
  throw new ApiError('unavailable', 'the read could not be confirmed by a quorum before the timeout')
}

function itemResponse(c: Context, item: KvItem | null, key: string, revision: Revision): Response {
  if (item === null) throw new ApiError('not_found', `no key ${JSON.stringify(key)}`, { revision })
  return c.body(Buffer.from(item.value), 200, { 'content-type': 'application/octet-stream', ...itemHeaders(item, revision) })
}

export function mountKvRoutes(app: Hono, options: KvRouteOptions): void {
  // Registered first: the `/v1/kv/*` pattern would also match `/v1/kv`.
  app.get('/v1/kv', async (c) => {
    const query = c.req.query()
    checkQuery(query, 'list')
    const { prefix, limit, after } = parseListQuery(query)
    const relayed = await readBarrier(c, options, parseConsistency(query.consistency))
    if (relayed !== null) return relayed
    const listed = options.node.range(prefix, limit, after)
    return c.json({ items: listed.items.map(itemJson), more: listed.more, revision: options.node.revision() })
  })

  const tooLarge = `values are limited to ${options.valueBytesMax} bytes`

  app.put('/v1/kv/*', async (c) => {
    const target = writeTarget(c, 'put')
    const forwarded = forwardedOf(c, options.node, identity(options).identity) // a forged forward is refused before its body is read
    const value = await readBoundedBody(c, options.valueBytesMax, tooLarge)
    return write(c, options, forwarded, (requestId) => ({ type: 'put', ...target, value, requestId }), value)
  })

  app.delete('/v1/kv/*', async (c) => {
    const target = writeTarget(c, 'delete')
    return write(c, options, forwardedOf(c, options.node, identity(options).identity), (requestId) => ({ type: 'delete', ...target, requestId }), null)
  })

  app.get('/v1/kv/*', async (c) => {
    const key = keyFromPath(rawPath(c))
    const query = c.req.query()
    checkQuery(query, 'get')
    const relayed = await readBarrier(c, options, parseConsistency(query.consistency))
    return relayed ?? itemResponse(c, options.node.get(key), key, options.node.revision())
  })
}
