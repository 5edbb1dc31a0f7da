/**
 * /v1/kv: routes validate, propose or read, and wait; the node does the rest.
 * @module
 */
import type { Context, Hono } from 'hono'
import { assert } from '../core/assert.js'
import type { Revision } from '../core/ids.js'
import type { KvItem } from '../kv/state-machine.js'
import { readBoundedBody } from './body.js'
import { identity, proposeWrite, readBarrier, type Applied, type ClientRouteOptions } from './consensus-calls.js'
import { ApiError } from './errors.js'
import { forwardedOf } from './forward.js'
import { itemHeaders, itemJson } from './item-headers.js'
import { receiptHeaders } from './receipt-headers.js'
import { checkQuery, keyFromPath, parseCas, parseConsistency, parseIdempotencyKey, parseListQuery } from './validate.js'

export type KvRouteOptions = ClientRouteOptions

/** The path as sent, still percent-encoded (Hono's `c.req.path` may decode it). */
function rawPath(c: Context): string {
  const url = c.req.url
  const start = url.indexOf('/', url.indexOf('://') + 3)
  const query = url.indexOf('?', start)
  return url.slice(start, query < 0 ? url.length : query)
}

type WriteTarget = Readonly<{ key: string; cas: Revision | null; idempotencyKey: string | null }>

/** What a PUT or DELETE names, validated in this order: key, query, cas, Idempotency-Key. */
function writeTarget(c: Context, route: 'put' | 'delete'): WriteTarget {
  const key = keyFromPath(rawPath(c))
  const query = c.req.query()
  checkQuery(query, route)
  return { key, cas: parseCas(query.cas), idempotencyKey: parseIdempotencyKey(c.req.header('idempotency-key')) }
}

/** A key write's answer: its version (and for a delete whether the key existed), and its receipt. */
function keyWriteAnswer(c: Context, route: 'put' | 'delete') {
  return (applied: Applied): Response => {
    assert(applied.type === 'ok', `a ${route} answered as a ${applied.type}`)
    const body = route === 'put' ? { version: applied.version } : { version: applied.version, deleted: applied.deleted ?? false }
    return c.json(body, 200, receiptHeaders(applied.receipt))
  }
}

/** DELETE /v1/kv?prefix=P: every key with the prefix, in one revision (a one-op txn). */
function prefixDeleteAnswer(c: Context) {
  return (applied: Applied): Response => {
    assert(applied.type === 'txn' && applied.result.results[0]?.type === 'delete', 'a prefix delete answered without its count')
    const deleted = applied.result.results[0]
    return c.json({ version: applied.result.revision, deleted: deleted.type === 'delete' ? deleted.deleted : 0 }, 200, receiptHeaders(applied.receipt))
  }
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

  app.delete('/v1/kv', async (c) => {
    const query = c.req.query()
    checkQuery(query, 'delete-prefix')
    if (query.prefix === undefined) throw new ApiError('bad_request', 'DELETE /v1/kv needs ?prefix=P (an empty prefix deletes every key)')
    const { prefix } = parseListQuery({ prefix: query.prefix })
    const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'))
    const txn = { compare: [], success: [{ type: 'deletePrefix', prefix } as const], failure: [] }
    return proposeWrite(c, options, forwardedOf(c, options.node, identity(options)), (requestId) => ({ type: 'txn', txn, idempotencyKey, requestId }), null, prefixDeleteAnswer(c))
  })

  const tooLarge = `values are limited to ${options.valueBytesMax} bytes`

  app.put('/v1/kv/*', async (c) => {
    const target = writeTarget(c, 'put')
    const forwarded = forwardedOf(c, options.node, identity(options)) // a forged forward is refused before its body is read
    const value = await readBoundedBody(c, options.valueBytesMax, tooLarge)
    return proposeWrite(c, options, forwarded, (requestId) => ({ type: 'put', ...target, value, requestId }), value, keyWriteAnswer(c, 'put'))
  })

  app.delete('/v1/kv/*', async (c) => {
    const target = writeTarget(c, 'delete')
    return proposeWrite(c, options, forwardedOf(c, options.node, identity(options)), (requestId) => ({ type: 'delete', ...target, requestId }), null, keyWriteAnswer(c, 'delete'))
  })

  app.get('/v1/kv/*', async (c) => {
    const key = keyFromPath(rawPath(c))
    const query = c.req.query()
    checkQuery(query, 'get')
    const relayed = await readBarrier(c, options, parseConsistency(query.consistency))
    return relayed ?? itemResponse(c, options.node.get(key), key, options.node.revision())
  })
}
