/**
 * Lease semantics, deterministic like the rest of the state machine: a grant stores a lease
 * (its id chosen by the proposer, so a retried grant finds its own lease and answers it again),
 * a revoke deletes the lease and its keys in one revision (none when it had no keys), and a
 * put names a lease that must exist. Time is not here: expiry is a revoke the leader proposes
 * when its tick-driven countdown ends (src/node/lease-timers.ts). The lease epoch is: the ballot
 * of the newest leader whose marker was applied, which makes an older leader's expiry stale.
 * @module
 */
import { compareBallots, maxBallot } from '../core/ballot.js'
import type { LeaseEpochCommand, LeaseGrantCommand, LeaseRevokeCommand } from './command.js'
import { leaseId, revision, type LeaseId, type Revision } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { KvStore, StoredValue } from './kv-store.js'
import type { ApplyResult } from './state-machine.js'

export function applyLeaseGrant(store: KvStore, command: LeaseGrantCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  const id = leaseId(command.id)
  const existing = store.leaseGet(id)
  if (existing !== null) return { result: { type: 'lease_granted', id, ttlSeconds: existing.ttlSeconds, created: false }, revision: current }
  if (store.leaseCount() >= limits.leasesMax) return { result: { type: 'lease_limit' }, revision: current }
  store.leasePut(id, command.ttlSeconds)
  return { result: { type: 'lease_granted', id, ttlSeconds: command.ttlSeconds, created: true }, revision: current }
}

/**
 * A leader's marker: the epoch becomes its ballot. Only ever up: a marker of a deposed leader
 * that a later leader recovered, chosen after a newer one's, changes nothing. A second copy of a
 * marker (the leader proposes it again until it applies) changes nothing either.
 */
export function applyLeaseEpoch(store: KvStore, command: LeaseEpochCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  const epoch = maxBallot(store.leaseEpoch(), command.ballot)
  store.setLeaseEpoch(epoch)
  return { result: { type: 'lease_epoch', epoch }, revision: current }
}

/**
 * An expiry decided by a leader older than the epoch is ignored: the lease and its keys stay.
 * Why that is safe, and enough: a leader L2 serves no keepalive and decides no expiry before its
 * marker M2 is applied (src/node/lease-keeper.ts). Take an expiry revoke R1 that an older leader
 * L1 decided (it reached only a minority before L1 was deposed, so a later leader may still
 * recover it and have it chosen). R1 and M2 are in one log, so one comes first:
 * - R1 below M2: every replica applies R1 before M2, so L2 applies it before it serves any
 *   keepalive. L2 never tells a client a lease is renewed that R1 already ended.
 * - R1 above M2: when R1 applies, the epoch is L2's ballot or newer, above L1's: R1 is ignored,
 *   and the lease lives on under L2's countdown, which expires it itself if no keepalive comes.
 * A leader's own expiries carry its ballot, which equals the epoch while it serves, so they
 * apply. A client's revoke carries no ballot and is never ignored: it is not a guess about time.
 */
export function applyLeaseRevoke(store: KvStore, command: LeaseRevokeCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  const id = leaseId(command.id)
  const epoch = store.leaseEpoch()
  if (command.expiryBallot !== undefined && compareBallots(command.expiryBallot, epoch) < 0) return { result: { type: 'lease_expiry_stale', epoch }, revision: current }
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
