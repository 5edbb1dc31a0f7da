/**
 * /v1/kv: routes validate, propose or read, and wait; the node does the rest.
 * @module
 */
import type { Context, Hono } from 'hono'
import type { NodeService, WriteOutcome, WriteRequest } from '../node/node-service.js'
import type { KvItem } from '../state-machine/state-machine.js'
import { readBoundedBody } from './body.js'
import { ApiError } from './errors.js'
import { nextTurn } from './next-turn.js'
import { receiptHeaders } from './receipt-headers.js'
import { withLeader } from './forward.js'
import { checkQuery, keyFromPath, parseCas, parseConsistency, parseIdempotencyKey, parseListQuery } from './validate.js'

export type KvRouteOptions = Readonly<{ node: NodeService; requestTimeoutMs: number; valueBytesMax: number }>

/** The path as sent, still percent-encoded (Hono's `c.req.path` may decode it). */
function rawPath(c: Context): string {
  const url = c.req.url
  const start = url.indexOf('/', url.indexOf('://') + 3)
  const query = url.indexOf('?', start)
  return url.slice(start, query < 0 ? url.length : query)
}

/** What a PUT or DELETE names, validated in this order: key, query, cas, Idempotency-Key. */
function writeTarget(c: Context, route: 'put' | 'delete') {
  const key = keyFromPath(rawPath(c))
  const query = c.req.query()
  checkQuery(query, route)
  return { key, cas: parseCas(query.cas), idempotencyKey: parseIdempotencyKey(c.req.header('idempotency-key')) }
}

async function write(c: Context, options: KvRouteOptions, request: WriteRequest, body: Uint8Array | null): Promise<Response> {
  const deadline = options.node.nowMs() + options.requestTimeoutMs
  const outcome = await withLeader<WriteOutcome>(c, options.node, deadline, body, () => options.node.write(request, deadline))
  if (outcome instanceof Response) return outcome
  switch (outcome.type) {
    case 'ok': {
      const body = request.type === 'put' ? { version: outcome.version } : { version: outcome.version, deleted: outcome.deleted ?? false }
      return c.json(body, 200, receiptHeaders(outcome.receipt))
    }
    case 'cas_mismatch':
      throw new ApiError('cas_mismatch', `the key's version is ${outcome.version}`, { version: outcome.version })
    case 'overloaded':
      throw new ApiError('overloaded', 'the leader has too many writes in flight; retry shortly')
    case 'timeout':
      throw new ApiError('unavailable', 'the write was not confirmed before the timeout; its outcome is unknown')
    default:
      throw new ApiError('unavailable', 'no leader')
  }
}

/** For a linearizable read: returns null when this node may serve it, or the leader's response. */
async function readBarrier(c: Context, options: KvRouteOptions, consistency: string): Promise<Response | null> {
  if (consistency === 'stale') {
    await nextTurn()
    return null
  }
  const deadline = options.node.nowMs() + options.requestTimeoutMs
  const outcome = await withLeader(c, options.node, deadline, null, () => options.node.readBarrier(deadline))
  if (outcome instanceof Response) return outcome
  if (outcome.type === 'ok') return null
  if (outcome.type === 'overloaded') throw new ApiError('overloaded', 'too many reads waiting; retry shortly')
  throw new ApiError('unavailable', 'the read could not be confirmed by a quorum before the timeout')
}

function itemResponse(c: Context, item: KvItem | null, key: string): Response {
  if (item === null) throw new ApiError('not_found', `no key ${JSON.stringify(key)}`)
  return c.body(Buffer.from(item.value), 200, { 'content-type': 'application/octet-stream', 'x-version': String(item.version) })
}

export function mountKvRoutes(app: Hono, options: KvRouteOptions): void {
  // Registered first: the `/v1/kv/*` pattern would also match `/v1/kv`.
  app.get('/v1/kv', async (c) => {
    const query = c.req.query()
    checkQuery(query, 'list')
    const { prefix, limit } = parseListQuery(query)
    const relayed = await readBarrier(c, options, parseConsistency(query.consistency))
    if (relayed !== null) return relayed
    const listed = options.node.range(prefix, limit)
    const items = listed.items.map((item) => ({ key: item.key, version: item.version, value: Buffer.from(item.value).toString('base64') }))
    return c.json({ items, more: listed.more })
  })

  const tooLarge = `values are limited to ${options.valueBytesMax} bytes`

  app.put('/v1/kv/*', async (c) => {
    const target = writeTarget(c, 'put')
    const value = await readBoundedBody(c, options.valueBytesMax, tooLarge)
    return write(c, options, { type: 'put', ...target, value }, value)
  })

  app.delete('/v1/kv/*', async (c) => write(c, options, { type: 'delete', ...writeTarget(c, 'delete') }, null))

  app.get('/v1/kv/*', async (c) => {
    const key = keyFromPath(rawPath(c))
    const query = c.req.query()
    checkQuery(query, 'get')
    const relayed = await readBarrier(c, options, parseConsistency(query.consistency))
    return relayed ?? itemResponse(c, options.node.get(key), key)
  })
}
