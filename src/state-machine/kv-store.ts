/**
 * The storage the KV state machine applies to. Implementations: memory (simulator, tests) and
 * SQLite (the node). `kv.ts` holds the semantics; a store only stores.
 * @module
 */
import type { Revision, Slot } from '../core/ids.js'
import type { ApplyResult, KvItem } from './state-machine.js'

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
  /** Runs `work` atomically (nested calls join the outer unit). */
  transaction<T>(work: () => T): T
  close(): void
}
