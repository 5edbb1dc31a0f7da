/**
 * The command a write request becomes in the log: one mapping, for the node and for the routes'
 * test double.
 * @module
 */
import { assertNever } from '../core/assert.js'
import type { ProposalId } from '../core/command.js'
import type { WriteCommand } from '../kv/command.js'
import type { WriteRequest } from '../server/node-service.js'

/**
 * `atMs` is the proposer's wall clock, carried for the dedupe records' expiry (see kv.ts);
 * `quotaBytes` the leader's live-data quota (undefined: none).
 */
export function writeCommand(request: WriteRequest, proposal: ProposalId, atMs: number, quotaBytes: number | undefined): WriteCommand {
  // One token per command: a client's key already makes every copy recognisable.
  const dedupe = request.idempotencyKey !== null || request.requestId === null ? {} : { request: { id: request.requestId, atMs } }
  const base = {
    proposal,
    idempotency: request.idempotencyKey === null ? null : { key: request.idempotencyKey, atMs },
    ...dedupe,
    ...(quotaBytes === undefined ? {} : { quotaBytes }),
  }
  switch (request.type) {
    case 'put':
      return { type: 'put', key: request.key, cas: request.cas, value: Buffer.from(request.value).toString('base64'), ...(request.lease === undefined ? {} : { lease: request.lease }), ...base }
    case 'lease-grant':
      return { type: 'lease-grant', id: request.id, ttlSeconds: request.ttlSeconds, ...base }
    case 'lease-revoke':
      return { type: 'lease-revoke', id: request.id, ...base }
    case 'compact':
      return { type: 'compact', revision: request.revision, ...base }
    case 'delete':
      return { type: 'delete', key: request.key, cas: request.cas, ...base }
    case 'txn':
      return { type: 'txn', ...request.txn, ...base }
    default:
      return assertNever(request)
  }
}
