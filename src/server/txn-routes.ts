/**
 * POST /v1/txn: a txn with writes in some branch is proposed, one command at one revision; one
 * without is a linearizable multi-key read (a read barrier, then the local state; no log write).
 * @module
 */
import type { Context, Hono } from 'hono'
import { assert, assertNever } from '../core/assert.js'
import { limits } from '../core/limits.js'
import type { TxnOpResult, TxnResult } from '../kv/state-machine.js'
import { txnWrites } from '../kv/txn-rules.js'
import { readBoundedBody } from './body.js'
import { identity, proposeWrite, readBarrier, type Applied, type ClientRouteOptions } from './consensus-calls.js'
import { forwardedOf } from './forward.js'
import { itemJson } from './item-headers.js'
import { receiptHeaders } from './receipt-headers.js'
import { parseTxn } from './txn-body.js'
import { checkQuery, parseIdempotencyKey } from './validate.js'

/** api.md's shapes: `{"version"}` for a put, `{"deleted"}` for deletes, the item or null, `{"items","more"}`. */
function opResultJson(result: TxnOpResult): unknown {
  switch (result.type) {
    case 'put':
      return { version: result.revision }
    case 'delete':
      return { deleted: result.deleted }
    case 'get':
      return result.item === null ? null : itemJson(result.item)
    case 'list':
      return { items: result.items.map(itemJson), more: result.more }
    case 'not_kept':
      return null
    default:
      return assertNever(result)
  }
}

/** `replayed`: a retry's answer, from the first attempt's record; its reads are not kept (null). */
export function txnJson(result: TxnResult): Record<string, unknown> {
  return { succeeded: result.succeeded, version: result.revision, results: result.results.map(opResultJson), ...(result.replayed ? { replayed: true } : {}) }
}

export function mountTxnRoutes(app: Hono, options: ClientRouteOptions): void {
  app.post('/v1/txn', async (c: Context) => {
    checkQuery(c.req.query(), 'none')
    const forwarded = forwardedOf(c, options.node, identity(options)) // a forged forward is refused before its body is read
    const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'))
    const body = await readBoundedBody(c, limits.txnBodyBytesMax, `a txn body is at most ${limits.txnBodyBytesMax} bytes`)
    const txn = parseTxn(body)
    if (!txnWrites(txn)) {
      const relayed = await readBarrier(c, options, 'linearizable', body)
      return relayed ?? c.json(txnJson(options.node.readTxn(txn)))
    }
    const answer = (applied: Applied): Response => {
      assert(applied.type === 'txn', `a txn answered as a ${applied.type}`)
      return c.json(txnJson(applied.result), 200, receiptHeaders(applied.receipt))
    }
    return proposeWrite(c, options, forwarded, (requestId) => ({ type: 'txn', txn, idempotencyKey, requestId }), body, answer)
  })
}
