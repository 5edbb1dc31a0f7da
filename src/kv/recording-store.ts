/**
 * A KvStore that passes everything through and notes each key it puts or deletes, as a Change:
 * how the state machine learns what one write changed (for the history) without the semantics
 * (kv.ts, txn.ts) knowing that anyone listens.
 * @module
 */
import type { Ballot } from '../core/ballot.js'
import { revisionZero, type LeaseId, type Revision, type Slot } from '../core/ids.js'
import type { Change } from './change-history.js'
import type { DedupeRecord, KvStore, RecordSpace, StoredLease, StoredValue } from './kv-store.js'
import type { KvPage } from './state-machine.js'

export class RecordingStore implements KvStore {
  readonly #inner: KvStore
  readonly changes: Change[] = []

  constructor(inner: KvStore) {
    this.#inner = inner
  }

  get(key: string): StoredValue | null {
    return this.#inner.get(key)
  }

  peek(key: string): Readonly<StoredValue> | null {
    return this.#inner.peek(key)
  }

  /** The entry a put replaces is kept as the change's `prev` (no copy: stored values are never edited). */
  put(key: string, entry: StoredValue): Readonly<StoredValue> | null {
    const prev = this.#inner.put(key, entry)
    this.changes.push({ type: 'put', key, value: entry.value, createRevision: entry.createRevision, writes: entry.writes, lease: entry.lease, prev })
    return prev
  }

  delete(key: string): boolean {
    const prev = this.#inner.peek(key)
    const existed = this.#inner.delete(key)
    if (prev !== null) this.changes.push({ type: 'delete', key, value: null, createRevision: revisionZero, writes: 0, lease: null, prev })
    return existed
  }

  range(prefix: string, limit: number, after: string | null): KvPage {
    return this.#inner.range(prefix, limit, after)
  }

  position(): Readonly<{ appliedIndex: Slot; revision: Revision }> {
    return this.#inner.position()
  }

  setPosition(appliedIndex: Slot, revision: Revision): void {
    this.#inner.setPosition(appliedIndex, revision)
  }

  leaseEpoch(): Ballot {
    return this.#inner.leaseEpoch()
  }

  setLeaseEpoch(epoch: Ballot): void {
    this.#inner.setLeaseEpoch(epoch)
  }

  recordGet(space: RecordSpace, key: string): DedupeRecord | null {
    return this.#inner.recordGet(space, key)
  }

  recordPut(space: RecordSpace, key: string, record: DedupeRecord): void {
    this.#inner.recordPut(space, key, record)
  }

  recordOldest(space: RecordSpace): Readonly<{ key: string; record: DedupeRecord }> | null {
    return this.#inner.recordOldest(space)
  }

  recordDeleteOldest(space: RecordSpace): void {
    this.#inner.recordDeleteOldest(space)
  }

  recordCount(space: RecordSpace): number {
    return this.#inner.recordCount(space)
  }

  usedBytes(): number {
    return this.#inner.usedBytes()
  }

  leaseGet(id: LeaseId): StoredLease | null {
    return this.#inner.leaseGet(id)
  }

  leasePut(id: LeaseId, ttlSeconds: number): void {
    this.#inner.leasePut(id, ttlSeconds)
  }

  leaseDelete(id: LeaseId): void {
    this.#inner.leaseDelete(id)
  }

  leaseKeys(id: LeaseId): readonly string[] {
    return this.#inner.leaseKeys(id)
  }

  leaseCount(): number {
    return this.#inner.leaseCount()
  }

  leases(): Iterable<readonly [LeaseId, number]> {
    return this.#inner.leases()
  }
}
