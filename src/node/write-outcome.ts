/**
 * What a route hears about an applied write: the state machine's result in the NodeService's
 * terms. One mapping for the node and for the routes' test double, so they cannot drift apart.
 * @module
 */
import { assert } from '../core/assert.js'
import type { ApplyResult } from '../kv/state-machine.js'
import type { Receipt, WriteOutcome } from '../server/node-service.js'

/** `receipt` is asked for only when the write took effect (a receipt describes its slot). */
export function writeOutcome(result: ApplyResult, receipt: () => Receipt): WriteOutcome {
  switch (result.type) {
    case 'written':
      return { type: 'ok', version: result.revision, deleted: result.deleted, receipt: receipt() }
    case 'cas_mismatch':
      return { type: 'cas_mismatch', version: result.revision }
    case 'idempotency_key_reused':
      return result
    case 'records_full':
      return { type: 'overloaded', reason: 'records_full' }
    case 'quota_exceeded':
      return result
    case 'txn':
      return { type: 'txn', result, receipt: receipt() }
    case 'lease_not_found':
    case 'lease_granted':
      return result
    case 'lease_limit':
      return { type: 'overloaded', reason: 'lease_limit' }
    case 'lease_revoked':
      return { type: 'lease_revoked', version: result.revision, deleted: result.deleted, receipt: receipt() }
    case 'history_compacted':
      return { type: 'ok', version: result.revision, deleted: null, receipt: receipt() }
    case 'lease_epoch':
    case 'lease_expiry_stale':
      // The node's own lease commands: it proposes them for no client (node.ts, LeaseKeeper).
      assert(false, `a client's write answered ${result.type}`)
  }
}
