/**
 * The KV semantics, deterministic: the same command on the same state gives the same result and
 * state on every replica. Revisions count applied writes (put, delete, successful cas).
 * @module
 */
import { assert } from '../core/assert.js'
import type { PutCommand, WriteCommand } from '../core/command.js'
import { revision, revisionZero, type Revision } from '../core/ids.js'
import { limits } from '../core/limits.js'
import { utf8Length } from './key-order.js'
import { entryOverheadBytes, type KvStore, type StoredValue } from './kv-store.js'
import type { ApplyResult } from './state-machine.js'

/** Records are kept at least this long, measured on the proposers' clocks carried in the log. */
export const idempotencyRetentionMs = 10 * 60 * 1000

export type ApplyWriteOptions = Readonly<{
  /** Idempotency records kept at most; every replica must use the same bound. */
  idempotencyRecordsMax: number
}>

const defaultOptions: ApplyWriteOptions = { idempotencyRecordsMax: limits.idempotencyRecordsMax }

/**
 * Applies one write at `current` revision; returns its result and the new revision. A retried
 * idempotency key changes nothing at all, eviction included: the state after a retry equals the
 * state before it, whichever replica applies it.
 */
export function applyWrite(
  store: KvStore,
  command: WriteCommand,
  current: Revision,
  options: ApplyWriteOptions = defaultOptions,
): { result: ApplyResult; revision: Revision } {
  const idempotency = command.idempotency
  if (idempotency !== null) {
    const recorded = store.idempotencyGet(idempotency.key)
    if (recorded !== null) return { result: recorded.result, revision: current }
  }
  const outcome = evaluate(store, command, current)
  if (idempotency !== null) {
    assert(options.idempotencyRecordsMax >= 1, 'idempotencyRecordsMax must allow one record')
    // Eviction is driven by the log (the command's atMs), never by a local clock, so every
    // replica drops the same records at the same slot.
    store.idempotencyEvict(idempotency.atMs - idempotencyRetentionMs, options.idempotencyRecordsMax - 1)
    store.idempotencyPut(idempotency.key, { result: outcome.result, atMs: idempotency.atMs })
  }
  return outcome
}

/** The write itself. A cas mismatch is a result, not a write: the revision stays. */
function evaluate(store: KvStore, command: WriteCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  const existing = store.get(command.key)
  const version = existing?.version ?? revisionZero
  if (command.cas !== null && command.cas !== version) {
    return { result: { type: 'cas_mismatch', revision: version }, revision: current }
  }
  const next = revision(current + 1)
  if (command.type === 'put') {
    const value = Buffer.from(command.value, 'base64')
    if (overQuota(store, command, existing, value)) return { result: { type: 'quota_exceeded' }, revision: current }
    store.put(command.key, value, next)
    return { result: { type: 'written', revision: next, deleted: null }, revision: next }
  }
  const deleted = store.delete(command.key)
  return { result: { type: 'written', revision: next, deleted }, revision: next }
}

/**
 * The quota is decided here, when applying, against the bound the leader carried in the command
 * (as `atMs` for idempotency): the same decision on every replica, whatever each one's own flag
 * says. Only growth is refused: a put that shrinks or keeps a value's size, and every delete, go
 * through, so a full store can always be cleaned up.
 */
function overQuota(store: KvStore, command: PutCommand, existing: StoredValue | null, value: Uint8Array): boolean {
  if (command.quotaBytes === undefined) return false
  const growth = existing === null ? utf8Length(command.key) + entryOverheadBytes + value.byteLength : value.byteLength - existing.value.byteLength
  return growth > 0 && store.usedBytes() + growth > command.quotaBytes
}
