/**
 * The storage the KV semantics (`kv.ts`) apply to. `kv.ts` holds the semantics; a store only
 * stores, and counts the bytes it holds for the quota.
 * @module
 */
import type { Revision, Slot } from '../core/ids.js'
import type { ApplyResult, KvItem } from './state-machine.js'

/**
 * What one entry costs beyond its key and value bytes, for the quota: the tree slot, the entry
 * object and the byte array's header (measured at 1M keys, bench/README.md). An estimate, the
 * same on every replica.
 */
export const entryOverheadBytes = 128
/** A record's result, times and index entries. */
export const recordOverheadBytes = 160

export type StoredValue = Readonly<{ value: Uint8Array; version: Revision }>
export type IdempotencyRecord = Readonly<{ result: ApplyResult; atMs: number }>

export interface KvStore {
  get(key: string): StoredValue | null
  put(key: string, value: Uint8Array, version: Revision): void
  /** Returns whether the key existed. */
  delete(key: string): boolean
  /** Keys with `prefix` in UTF-8 byte order, at most `limit`, and whether more exist. */
  range(prefix: string, limit: number): Readonly<{ items: readonly KvItem[]; more: boolean }>
  position(): Readonly<{ appliedIndex: Slot; revision: Revision }>
  setPosition(appliedIndex: Slot, revision: Revision): void
  idempotencyGet(key: string): IdempotencyRecord | null
  idempotencyPut(key: string, record: IdempotencyRecord): void
  /** Drops records older than `olderThanMs`, then the oldest until at most `keep` remain. */
  idempotencyEvict(olderThanMs: number, keep: number): void
  /**
   * Estimated bytes of live data (keys, values, records, and a fixed per-entry overhead): what
   * the quota limits. Deterministic: a function of the contents alone.
   */
  usedBytes(): number
}
