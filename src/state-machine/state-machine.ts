/**
 * The replicated key-value state machine's port. `apply` is deterministic: the same chosen
 * entries give the same results and state on every replica.
 * @module
 */
import type { ProposalId } from '../core/command.js'
import type { Revision, Slot } from '../core/ids.js'
import type { ChosenEntry } from '../core/messages.js'

export type ApplyResult =
  | Readonly<{ type: 'written'; revision: Revision; deleted: boolean | null }>
  | Readonly<{ type: 'cas_mismatch'; revision: Revision }>
  /** The Idempotency-Key was first used for a different request: nothing changed (422). */
  | Readonly<{ type: 'idempotency_key_reused' }>
  /**
   * Refused, nothing changed: the write needs a dedupe record and its space holds its bound of
   * records all younger than their retention (503 overloaded; retrying later is safe).
   */
  | Readonly<{ type: 'records_full' }>

/** The result of one applied write, and the slot it was chosen in, for the node that proposed it. */
export type AppliedWrite = Readonly<{ proposal: ProposalId; slot: Slot; result: ApplyResult }>

export type KvItem = Readonly<{ key: string; value: Uint8Array; version: Revision }>

export interface StateMachine {
  /** Applies contiguous chosen entries from appliedIndex + 1; returns each write's result. */
  apply(entries: readonly ChosenEntry[]): readonly AppliedWrite[]
  appliedIndex(): Slot
  revision(): Revision
  get(key: string): KvItem | null
  /** Keys starting with `prefix`, in key order; `more` when the limit cut the list. */
  range(prefix: string, limit: number): Readonly<{ items: readonly KvItem[]; more: boolean }>
  close(): void
}
