/**
 * The KV semantics, deterministic: the same command on the same state gives the same result and
 * state on every replica. Revisions count applied writes (put, delete, successful cas).
 * @module
 */
import type { WriteCommand } from '../core/command.js'
import { revision, revisionZero, type Revision } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { KvStore } from './kv-store.js'
import type { ApplyResult } from './state-machine.js'

/** Records are kept at least this long, measured on the proposers' clocks carried in the log. */
export const idempotencyRetentionMs = 10 * 60 * 1000

/** Applies one write at `current` revision; returns its result and the new revision. */
export function applyWrite(store: KvStore, command: WriteCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  const idempotency = command.idempotency
  if (idempotency !== null) {
    const recorded = store.idempotencyGet(idempotency.key)
    if (recorded !== null) return { result: recorded.result, revision: current }
  }
  const outcome = evaluate(store, command, current)
  if (idempotency !== null) {
    store.idempotencyEvict(idempotency.atMs - idempotencyRetentionMs, limits.idempotencyRecordsMax - 1)
    store.idempotencyPut(idempotency.key, { result: outcome.result, atMs: idempotency.atMs })
  }
  return outcome
}

function evaluate(store: KvStore, command: WriteCommand, current: Revision): { result: ApplyResult; revision: Revision } {
  const existing = store.get(command.key)
  const version = existing?.version ?? revisionZero
  if (command.cas !== null && command.cas !== version) {
    return { result: { type: 'cas_mismatch', revision: version }, revision: current }
  }
  const next = revision(current + 1)
  if (command.type === 'put') {
    store.put(command.key, Buffer.from(command.value, 'base64'), next)
    return { result: { type: 'written', revision: next, deleted: null }, revision: next }
  }
  const deleted = store.delete(command.key)
  return { result: { type: 'written', revision: next, deleted }, revision: next }
}
