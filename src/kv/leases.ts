/**
 * Lease semantics, deterministic like the rest of the state machine: a grant stores a lease
 * (its id chosen by the proposer, so a retried grant finds its own lease and answers it again),
 * a revoke deletes the lease and its keys in one revision (none when it had no keys), and a
 * put names a lease that must exist. Time is not here: expiry is a revoke the leader proposes
 * when its tick-driven countdown ends (src/node/lease-timers.ts).
 * @module
 */
import type { LeaseGrantCommand, LeaseRevokeCommand } from './command.js'
import { leaseId, revision, type LeaseId, type Revision } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { KvStore, StoredValue } from './kv-store.js'
import type { ApplyResult } from './state-machine.js'

export function applyLeaseGrant(store: KvStore, command: LeaseGrantCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  const id = leaseId(command.id)
  const existing = store.leaseGet(id)
  if (existing !== null) return { result: { type: 'lease_granted', id, ttlSeconds: existing.ttlSeconds }, revision: current }
  if (store.leaseCount() >= limits.leasesMax) return { result: { type: 'lease_limit' }, revision: current }
  store.leasePut(id, command.ttlSeconds)
  return { result: { type: 'lease_granted', id, ttlSeconds: command.ttlSeconds }, revision: current }
}

export function applyLeaseRevoke(store: KvStore, command: LeaseRevokeCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  const id = leaseId(command.id)
  if (store.leaseGet(id) === null) return { result: { type: 'lease_not_found' }, revision: current }
  const keys = store.leaseKeys(id)
  const at = keys.length === 0 ? current : revision(current + 1)
  for (const key of keys) store.delete(key)
  store.leaseDelete(id)
  return { result: { type: 'lease_revoked', revision: at, deleted: keys.length }, revision: at }
}

/**
 * Why a put of `key` onto `lease` cannot be applied, or null when it can: the lease must exist,
 * and a key it does not hold yet must find room under its bound.
 */
export function leaseRefusal(store: KvStore, existing: StoredValue | null, lease: LeaseId | null): ApplyResult | null {
  if (lease === null) return null
  const held = store.leaseGet(lease)
  if (held === null) return { type: 'lease_not_found' }
  if (existing?.lease !== lease && held.keys >= limits.keysPerLeaseMax) return { type: 'lease_limit' }
  return null
}
