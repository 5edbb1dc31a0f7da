/**
 * The KV semantics, deterministic: the same command on the same state gives the same result and
 * state on every replica. Revisions count applied writes (put, delete, successful cas).
 * @module
 */
import { createHash } from 'node:crypto'
import { assert } from '../core/assert.js'
import type { DeleteCommand, PutCommand, WriteCommand } from './command.js'
import { leaseId, revision, revisionZero, type Revision } from '../core/ids.js'
import { applyLeaseEpoch, applyLeaseGrant, applyLeaseRevoke, leaseRefusal } from './leases.js'
import { limits } from '../core/limits.js'
import { utf8Length } from './key-order.js'
import { entryOverheadBytes, type KvStore, type RecordSpace, type StoredValue } from './kv-store.js'
import type { ApplyResult, TxnResult } from './state-machine.js'
import { applyTxn } from './txn.js'
import { written } from './written.js'

/** Per record space: how many records at most, and how long (log time) each is kept at least. */
export type RecordBounds = Readonly<{ recordsMax: number; retentionMs: number }>

/** Every replica of a cluster must run with the same values. */
export type ApplyWriteOptions = Readonly<Record<RecordSpace, RecordBounds>>

export const defaultApplyWriteOptions: ApplyWriteOptions = Object.freeze({
  idempotency: { recordsMax: limits.idempotencyRecordsMax, retentionMs: limits.idempotencyRetentionMs },
  request: { recordsMax: limits.requestRecordsMax, retentionMs: limits.requestRecordRetentionMs },
})

export function checkApplyWriteOptions(options: ApplyWriteOptions): void {
  for (const bounds of Object.values(options)) {
    assert(Number.isSafeInteger(bounds.recordsMax) && bounds.recordsMax >= 1, 'a record space must allow one record')
    assert(Number.isSafeInteger(bounds.retentionMs) && bounds.retentionMs >= 0, 'retention must be a whole number of ms')
  }
}

/**
 * What makes a retry recognisable: the client's Idempotency-Key, else the request id the first
 * node gave a forwarded write. `atMs` is the proposer's wall clock, carried in the log.
 */
type Token = Readonly<{ space: RecordSpace; key: string; atMs: number }>

function tokenOf(command: WriteCommand): Token | null {
  // A compact only raises a floor, and a lease epoch marker too: a second copy changes nothing,
  // so neither needs a record (a leader proposes its marker again until one applies).
  if (command.type === 'compact' || command.type === 'lease-epoch') return null
  // Lease commands too: a revoke's retry would find the lease gone (a 404 for a revoke that
  // succeeded), and a grant's late copy after a revoke would bring the lease back. A revoke the
  // leader proposes for an expiry has neither token, and needs none (it is proposed once).
  if (command.idempotency !== null) return { space: 'idempotency', ...command.idempotency }
  if (command.request !== undefined) return { space: 'request', key: command.request.id, atMs: command.request.atMs }
  return null
}

/**
 * Applies one write at `current` revision; returns its result and the new revision. A retry
 * (its token already recorded) changes nothing at all, expiry included: the state after a retry
 * equals the state before it, whichever replica applies it.
 */
export function applyWrite(
  store: KvStore,
  command: WriteCommand,
  current: Revision,
  options: ApplyWriteOptions = defaultApplyWriteOptions,
): { result: ApplyResult; revision: Revision } {
  const token = tokenOf(command)
  if (token === null) return evaluate(store, command, current)
  // Only a client's key can meet a different request: request ids are unique per request.
  const fingerprint = token.space === 'idempotency' ? fingerprintOf(command) : null
  const recorded = store.recordGet(token.space, token.key)
  if (recorded !== null) {
    const reused = recorded.fingerprint !== null && fingerprint !== null && recorded.fingerprint !== fingerprint
    if (reused) return { result: { type: 'idempotency_key_reused' }, revision: current }
    return { result: recorded.result.type === 'txn' ? { ...recorded.result, replayed: true } : recorded.result, revision: current }
  }
  const bounds = options[token.space]
  expire(store, token.space, token.atMs - bounds.retentionMs)
  // Full of records a retry may still need: refuse the write rather than forget one of them.
  if (store.recordCount(token.space) >= bounds.recordsMax) return { result: { type: 'records_full' }, revision: current }
  const outcome = evaluate(store, command, current)
  store.recordPut(token.space, token.key, { result: kept(outcome.result), atMs: token.atMs, fingerprint })
  return outcome
}

/**
 * What a record keeps of a result: all of it, but a txn's reads. Those can be as large as the
 * store itself, and a retry needs the first attempt's decision and writes, not a copy of what it
 * read (its answer says `replayed`). A grant's retry creates no lease: its answer says so.
 */
function kept(result: ApplyResult): ApplyResult {
  if (result.type === 'lease_granted') return { ...result, created: false }
  if (result.type !== 'txn') return result
  const results = result.results.map((op) => (op.type === 'get' || op.type === 'list' ? { type: 'not_kept' as const } : op))
  return { ...result, results } satisfies TxnResult
}

/**
 * Drops the space's records older than `cutoffMs`, oldest first, stopping at the first younger
 * one. Driven by the log (the command's atMs), never by a local clock, so every replica drops
 * the same records at the same slot. Clock skew between proposers can leave an older record
 * behind a younger one for a while: it is kept longer, never shorter.
 */
function expire(store: KvStore, space: RecordSpace, cutoffMs: number): void {
  for (let oldest = store.recordOldest(space); oldest !== null && oldest.record.atMs < cutoffMs; oldest = store.recordOldest(space)) {
    store.recordDeleteOldest(space)
  }
}

/** What the request asks for, hashed: equal for a retry, different for another request. */
function fingerprintOf(command: WriteCommand): string {
  if (command.type === 'txn') {
    // Field by field in a fixed order: the same txn hashes alike however its objects were built.
    const parts = [
      command.compare.map((compare) => [compare.key, compare.target, compare.op, compare.value]),
      ...[command.success, command.failure].map((ops) => ops.map((op) => Object.entries(op).sort(([a], [b]) => (a < b ? -1 : 1)))),
    ]
    return createHash('sha256').update(`txn\u0000${JSON.stringify(parts)}`).digest('base64url')
  }
  // A grant's id is the node's pick for each request, so a retry under the same key may carry
  // another one: the TTL is what the client asked for.
  if (command.type === 'lease-grant') return createHash('sha256').update(`lease-grant\u0000${command.ttlSeconds}`).digest('base64url')
  if (command.type === 'lease-revoke') return createHash('sha256').update(`lease-revoke\u0000${command.id}`).digest('base64url')
  assert(command.type === 'put' || command.type === 'delete', `a ${command.type} has no fingerprint`)
  const hash = createHash('sha256').update(`${command.type}\u0000${command.key}\u0000${command.cas ?? ''}\u0000`)
  if (command.type === 'put') hash.update(`${command.lease ?? ''}\u0000${command.value}`)
  return hash.digest('base64url')
}

/** The write itself. A cas mismatch is a result, not a write: the revision stays. */
function evaluate(store: KvStore, command: WriteCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  switch (command.type) {
    case 'txn':
      return applyTxn(store, command, current, command.quotaBytes)
    case 'lease-grant':
      return applyLeaseGrant(store, command, current)
    case 'lease-revoke':
      return applyLeaseRevoke(store, command, current)
    case 'lease-epoch':
      return applyLeaseEpoch(store, command, current)
    case 'compact':
      // The history is the state machine's, not the store's: KvStateMachine.apply compacts it.
      return { result: { type: 'history_compacted', revision: revision(Math.min(command.revision, current)) }, revision: current }
    default:
      return evaluateKeyWrite(store, command, current)
  }
}

function evaluateKeyWrite(store: KvStore, command: PutCommand | DeleteCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  // Read, not copied: only its metadata and size are looked at.
  const existing = store.peek(command.key)
  const version = existing?.version ?? revisionZero
  if (command.cas !== null && command.cas !== version) {
    return { result: { type: 'cas_mismatch', revision: version }, revision: current }
  }
  const next = revision(current + 1)
  if (command.type === 'put') {
    const value = Buffer.from(command.value, 'base64')
    const lease = command.lease === undefined ? null : leaseId(command.lease)
    const refused = leaseRefusal(store, existing, lease)
    if (refused !== null) return { result: refused, revision: current }
    if (overQuota(store, command, existing, value)) return { result: { type: 'quota_exceeded' }, revision: current }
    store.put(command.key, written(existing, value, next, lease))
    return { result: { type: 'written', revision: next, deleted: null }, revision: next }
  }
  const deleted = store.delete(command.key)
  return { result: { type: 'written', revision: next, deleted }, revision: next }
}

/**
 * The quota is decided here, when applying, against the bound the leader carried in the command
 * (as `atMs` for the records): the same decision on every replica, whatever each one's own flag
 * says. Only growth is refused: a put that shrinks or keeps a value's size, and every delete, go
 * through, so a full store can always be cleaned up.
 */
function overQuota(store: KvStore, command: PutCommand, existing: Readonly<StoredValue> | null, value: Uint8Array): boolean {
  if (command.quotaBytes === undefined) return false
  const growth = existing === null ? utf8Length(command.key) + entryOverheadBytes + value.byteLength : value.byteLength - existing.value.byteLength
  return growth > 0 && store.usedBytes() + growth > command.quotaBytes
}
