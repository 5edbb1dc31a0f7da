/**
 * The storage the KV semantics (`kv.ts`) apply to. `kv.ts` holds the semantics; a store only
 * stores, and counts the bytes it holds for the quota.
 * @module
 */
import type { Ballot } from '../core/ballot.js'
import type { LeaseId, Revision, Slot } from '../core/ids.js'
import type { ApplyResult, KvItem, KvPage } from './state-machine.js'

/**
 * What one entry costs beyond its key and value bytes, for the quota: the tree slot, the entry
 * object and the byte array's header. An estimate, not yet measured (a 1M-key measurement is
 * still to do); what matters for agreement is that every replica uses the same number.
 */
export const entryOverheadBytes = 128
/** A record's result, fingerprint, times and index entries, beyond its key. */
export const recordOverheadBytes = 200

/** A key's value and metadata, as stored. */
export type StoredValue = Omit<KvItem, 'key'>

export type StoredLease = Readonly<{ ttlSeconds: number; keys: number }>

/**
 * Deduplication records, one space per kind of token: a client's `Idempotency-Key`, or the
 * internal id of a forwarded request. Each space is a queue in apply order (its oldest first).
 */
export type RecordSpace = 'idempotency' | 'request'
export const recordSpaces: readonly RecordSpace[] = ['idempotency', 'request']

/**
 * The first application's result, the log time (`atMs`) it was applied at, and for client keys a
 * fingerprint of the request, so that a key reused for another request is told apart.
 */
export type DedupeRecord = Readonly<{ result: ApplyResult; atMs: number; fingerprint: string | null }>

export interface KvStore {
  get(key: string): StoredValue | null
  /**
   * The key's entry as stored, or null when absent: what get says, without copying the value.
   * The caller must not change it (stored values are replaced by a put, never edited).
   */
  peek(key: string): Readonly<StoredValue> | null
  /**
   * Stores `entry` as given (the metadata is the semantics' to compute, kv.ts) and returns the
   * entry it replaced, as stored (null: the key was absent), so that a caller that records the
   * change needs no second lookup.
   */
  put(key: string, entry: StoredValue): Readonly<StoredValue> | null
  /** Returns whether the key existed. */
  delete(key: string): boolean
  /**
   * Keys with `prefix` in UTF-8 byte order, strictly after `after` when it is not null, at most
   * `limit`, and whether more exist.
   */
  range(prefix: string, limit: number, after: string | null): KvPage
  position(): Readonly<{ appliedIndex: Slot; revision: Revision }>
  setPosition(appliedIndex: Slot, revision: Revision): void
  recordGet(space: RecordSpace, key: string): DedupeRecord | null
  /** Adds a record under a key the space does not hold, as its newest. */
  recordPut(space: RecordSpace, key: string, record: DedupeRecord): void
  /** The space's oldest record (first applied), or null when it is empty. */
  recordOldest(space: RecordSpace): Readonly<{ key: string; record: DedupeRecord }> | null
  recordDeleteOldest(space: RecordSpace): void
  recordCount(space: RecordSpace): number
  /** A lease and how many keys are attached to it (puts with its id; deletes detach). */
  leaseGet(id: LeaseId): StoredLease | null
  leasePut(id: LeaseId, ttlSeconds: number): void
  /** Forgets the lease (its keys must be deleted first). */
  leaseDelete(id: LeaseId): void
  /** The keys attached to the lease, in key order. */
  leaseKeys(id: LeaseId): readonly string[]
  leaseCount(): number
  /** Every lease and its TTL, in id order (as text). */
  leases(): Iterable<readonly [LeaseId, number]>
  /** The ballot of the newest leader whose epoch marker was applied (ballot zero: none yet). */
  leaseEpoch(): Ballot
  setLeaseEpoch(epoch: Ballot): void
  /**
   * Estimated bytes of live data (keys, values, records, and a fixed per-entry overhead): what
   * the quota limits. Deterministic: a function of the contents alone.
   */
  usedBytes(): number
}
