/**
 * The storage the KV state machine applies to. Implementations: memory (simulator, tests) and
 * SQLite (the node). `kv.ts` holds the semantics; a store only stores.
 * @module
 */
import type { Revision, Slot } from '../core/ids.js'
import type { ApplyResult, KvItem } from './state-machine.js'

export type StoredValue = Readonly<{ value: Uint8Array; version: Revision }>

/**
 * Deduplication records, one space per kind of token: a client's `Idempotency-Key`, or the
 * internal id of a forwarded request. Each space is a queue in apply order (its oldest first).
 */
export type RecordSpace = 'idempotency' | 'request'

/**
 * The first application's result, the log time (`atMs`) it was applied at, and for client keys a
 * fingerprint of the request, so that a key reused for another request is told apart.
 */
export type DedupeRecord = Readonly<{ result: ApplyResult; atMs: number; fingerprint: string | null }>

export interface KvStore {
  get(key: string): StoredValue | null
  put(key: string, value: Uint8Array, version: Revision): void
  /** Returns whether the key existed. */
  delete(key: string): boolean
  /** Keys with `prefix` in UTF-8 byte order, at most `limit`, and whether more exist. */
  range(prefix: string, limit: number): Readonly<{ items: readonly KvItem[]; more: boolean }>
  position(): Readonly<{ appliedIndex: Slot; revision: Revision }>
  setPosition(appliedIndex: Slot, revision: Revision): void
  recordGet(space: RecordSpace, key: string): DedupeRecord | null
  /** Adds a record under a key the space does not hold, as its newest. */
  recordPut(space: RecordSpace, key: string, record: DedupeRecord): void
  /** The space's oldest record (first applied), or null when it is empty. */
  recordOldest(space: RecordSpace): Readonly<{ key: string; record: DedupeRecord }> | null
  recordDeleteOldest(space: RecordSpace): void
  recordCount(space: RecordSpace): number
  /** Runs `work` atomically (nested calls join the outer unit). */
  transaction<T>(work: () => T): T
  close(): void
}
