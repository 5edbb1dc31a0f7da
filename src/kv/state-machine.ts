/**
 * The replicated key-value state machine's port (hashicorp/raft's FSM: Apply, Snapshot,
 * Restore). `apply` is deterministic: the same chosen entries give the same results and state on
 * every replica, and a replica restored from a snapshot then applying the log after it ends in
 * the same state as one that applied the whole log.
 * @module
 */
import type { Ballot } from '../core/ballot.js'
import type { ProposalId } from '../core/command.js'
import type { TxnSpec } from './command.js'
import type { LeaseId, Revision, Slot } from '../core/ids.js'
import type { ChosenEntry } from '../core/messages.js'
import type { KeyRange, ScanBounds } from './key-range.js'
import type { WriteCommand } from './command.js'

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
  /** The put would take live data past the quota carried in its command: nothing changed. */
  | Readonly<{ type: 'quota_exceeded' }>
  /** A put (or a txn's put) names a lease that does not exist: nothing changed. */
  | Readonly<{ type: 'lease_not_found' }>
  /** Refused, nothing changed: as many leases as allowed, or as many keys on this lease. */
  | Readonly<{ type: 'lease_limit' }>
  /**
   * `created`: this grant made the lease; false for a copy of a grant that finds its lease there
   * already, or a retry answered from its record (which creates nothing, whatever the state).
   */
  | Readonly<{ type: 'lease_granted'; id: LeaseId; ttlSeconds: number; created: boolean }>
  /** `revision`: the one its keys were deleted at (the store's, when it had none). */
  | Readonly<{ type: 'lease_revoked'; revision: Revision; deleted: number }>
  /** A leader's epoch marker applied: `epoch` is the lease epoch now (its ballot, or a newer one). */
  | Readonly<{ type: 'lease_epoch'; epoch: Ballot }>
  /**
   * An expiry's revoke decided by a leader older than the lease epoch `epoch`: nothing changed
   * (the lease and its keys stay; the newer leader counts it down itself).
   */
  | Readonly<{ type: 'lease_expiry_stale'; epoch: Ballot }>
  /** The history was compacted at `revision` (clamped to the store's): no key changed. */
  | Readonly<{ type: 'history_compacted'; revision: Revision }>
  | TxnResult

/**
 * One op's result in a txn. `not_kept`: a read whose answer a dedupe record does not keep (a
 * retry gets the first attempt's writes and decision, not its reads: see kv.ts).
 */
export type TxnOpResult =
  | Readonly<{ type: 'put'; revision: Revision }>
  | Readonly<{ type: 'delete'; deleted: number }>
  | Readonly<{ type: 'get'; item: KvItem | null }>
  | Readonly<{ type: 'list'; items: readonly KvItem[]; more: boolean }>
  | Readonly<{ type: 'not_kept' }>

/**
 * A txn that ran (either branch): `revision` is the one its writes were applied at, or the
 * store's revision it read at when the branch that ran has no writes. `replayed`: the answer of a
 * retry, from the first attempt's record.
 */
export type TxnResult = Readonly<{ type: 'txn'; succeeded: boolean; revision: Revision; results: readonly TxnOpResult[]; replayed: boolean }>

/** The result of one applied write, and the slot it was chosen in, for the node that proposed it. */
export type AppliedWrite = Readonly<{ proposal: ProposalId; slot: Slot; result: ApplyResult }>

/**
 * A key and its metadata (etcd's KeyValue): `version` is the revision of its last write (etcd's
 * mod_revision), `createRevision` the revision that created it since it last did not exist,
 * `writes` how many times it was written since then (etcd's per-key version, 1 on creation),
 * `lease` the lease it is attached to.
 */
export type KvItem = Readonly<{ key: string; value: Uint8Array; version: Revision; createRevision: Revision; writes: number; lease: LeaseId | null }>

/** A page of a listing: `more` when the limit cut it. */
export type KvPage = Readonly<{ items: readonly KvItem[]; more: boolean }>

/**
 * A point-in-time view of the state, O(1) to take. Its chunks are encoded lazily, each at most
 * the snapshot chunk limit in bytes, from the view as it was when taken, however the live state
 * changes meanwhile. The chunks carry everything `restore` needs (the applied index, the
 * revision, the data and the dedupe records of both spaces) and end with a checksum over all of them.
 */
export interface Snapshot {
  readonly appliedIndex: Slot
  readonly revision: Revision
  /** Iterable more than once; each pass encodes the same bytes. */
  chunks(): Iterable<Uint8Array>
}

export interface StateMachine {
  /** Applies contiguous chosen entries from appliedIndex + 1; returns each write's result. */
  apply(entries: readonly ChosenEntry<WriteCommand>[]): readonly AppliedWrite[]
  appliedIndex(): Slot
  revision(): Revision
  get(key: string): KvItem | null
  /** Keys starting with `prefix` (strictly after `after` when set), in key order, at most `limit`. */
  range(prefix: string, limit: number, after?: string | null): KvPage
  /** A txn without writes, evaluated on the current state; it changes nothing. */
  readTxn(txn: TxnSpec): TxnResult
  /** The keys of `range` in key order, as many as `bounds` allow; `more` when keys were left out. */
  scan(range: KeyRange, bounds: ScanBounds): KvPage
  /** How many keys `range` holds. */
  count(range: KeyRange): number
  snapshot(): Snapshot
  /**
   * Replaces the whole state with a snapshot's, all or nothing: every chunk is decoded and
   * checked (fields, order, counts, checksum) before anything changes. A bad stream throws
   * `SnapshotFormatError` and leaves the state as it was.
   */
  restore(chunks: Iterable<Uint8Array>): void
  /** Estimated bytes of live data, as the quota counts them. */
  usedBytes(): number
  close(): void
}
