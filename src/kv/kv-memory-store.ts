/**
 * The KV store in memory: ordered maps (B+ trees) in UTF-8 byte order, so a prefix listing is a
 * walk from the prefix. `view()` is O(1): the trees are shared copy-on-write, so a snapshot can be
 * written out while the live store keeps changing (ZooKeeper's DataTree, with a cheap fork).
 * @module
 */
import sortedBtree from 'sorted-btree'
import { assert } from '../core/assert.js'
import { revisionZero, slotZero, type Revision, type Slot } from '../core/ids.js'
import { compareKeys, utf8Length } from './key-order.js'
import { entryOverheadBytes, recordOverheadBytes, type IdempotencyRecord, type KvStore, type StoredValue } from './kv-store.js'
import type { KvItem } from './state-machine.js'

// A CommonJS module: under Node its ES default export is the exports object, whose `default` is
// the class; bundlers' interop (vitest) hands over the class itself.
type BTreeClass = typeof sortedBtree.default
const BTree: BTreeClass = typeof sortedBtree === 'function' ? (sortedBtree as unknown as BTreeClass) : sortedBtree.default

type StoredRecord = Readonly<{ record: IdempotencyRecord; seq: number }>
type TimeKey = readonly [atMs: number, seq: number]

const compareTimeKeys = (a: TimeKey, b: TimeKey): number => a[0] - b[0] || a[1] - b[1]

/** A frozen, point-in-time view of a store: what a snapshot writes out. */
export type KvStoreView = Readonly<{
  appliedIndex: Slot
  revision: Revision
  dataCount: number
  recordCount: number
  /** Every key in UTF-8 byte order. */
  data: () => IterableIterator<[string, StoredValue]>
  /** Every idempotency record, oldest applied first (the order eviction by count follows). */
  records: () => Iterable<[string, IdempotencyRecord]>
}>

export class KvMemoryStore implements KvStore {
  #data = new BTree<string, StoredValue>(undefined, compareKeys)
  #records = new BTree<string, StoredRecord>(undefined, compareKeys)
  /** Apply order of the records: count eviction drops from the low end. */
  #bySeq = new BTree<number, string>()
  /** Log time of the records: time eviction drops from the low end. */
  #byTime = new BTree<TimeKey, string>(undefined, compareTimeKeys)
  #seq = 0
  #usedBytes = 0
  #appliedIndex: Slot = slotZero
  #revision: Revision = revisionZero

  /** Hands out copies: a caller can never edit what the store holds. */
  get(key: string): StoredValue | null {
    const stored = this.#data.get(key)
    return stored === undefined ? null : { value: new Uint8Array(stored.value), version: stored.version }
  }

  /** Keeps a private copy of exactly `value.byteLength` bytes (never a view into a shared pool). */
  put(key: string, value: Uint8Array, version: Revision): void {
    const previous = this.#data.get(key)
    this.#usedBytes += previous === undefined ? utf8Length(key) + entryOverheadBytes + value.byteLength : value.byteLength - previous.value.byteLength
    this.#data.set(key, { value: new Uint8Array(value), version })
  }

  delete(key: string): boolean {
    const previous = this.#data.get(key)
    if (previous === undefined) return false
    this.#data.delete(key)
    this.#usedBytes -= utf8Length(key) + previous.value.byteLength + entryOverheadBytes
    return true
  }

  range(prefix: string, limit: number): Readonly<{ items: readonly KvItem[]; more: boolean }> {
    const items: KvItem[] = []
    // Keys with a prefix are contiguous in code point order, starting at the prefix itself.
    for (const [key, stored] of this.#data.entries(prefix)) {
      if (!key.startsWith(prefix)) break
      if (items.length === limit) return { items, more: true }
      items.push({ key, value: new Uint8Array(stored.value), version: stored.version })
    }
    return { items, more: false }
  }

  position(): Readonly<{ appliedIndex: Slot; revision: Revision }> {
    return { appliedIndex: this.#appliedIndex, revision: this.#revision }
  }

  setPosition(appliedIndex: Slot, revision: Revision): void {
    this.#appliedIndex = appliedIndex
    this.#revision = revision
  }

  idempotencyGet(key: string): IdempotencyRecord | null {
    return this.#records.get(key)?.record ?? null
  }

  idempotencyPut(key: string, record: IdempotencyRecord): void {
    assert(!this.#records.has(key), `idempotency key ${key} is recorded already`)
    this.#seq += 1
    this.#records.set(key, { record, seq: this.#seq })
    this.#bySeq.set(this.#seq, key)
    this.#byTime.set([record.atMs, this.#seq], key)
    this.#usedBytes += utf8Length(key) + recordOverheadBytes
  }

  idempotencyEvict(olderThanMs: number, keep: number): void {
    assert(Number.isSafeInteger(keep) && keep >= 0, `cannot keep ${keep} records`)
    for (let oldest = this.#byTime.minKey(); oldest !== undefined && oldest[0] < olderThanMs; oldest = this.#byTime.minKey()) {
      this.#forget(this.#byTime.get(oldest)!)
    }
    while (this.#records.size > keep) this.#forget(this.#bySeq.get(this.#bySeq.minKey()!)!)
  }

  usedBytes(): number {
    return this.#usedBytes
  }

  get size(): number {
    return this.#data.size
  }

  /** O(1): the trees are shared and copied on the next write to either side. */
  view(): KvStoreView {
    const data = this.#data.clone()
    const records = this.#records.clone()
    const bySeq = this.#bySeq.clone()
    for (const tree of [data, records, bySeq]) tree.freeze()
    return {
      appliedIndex: this.#appliedIndex,
      revision: this.#revision,
      dataCount: data.size,
      recordCount: records.size,
      data: () => data.entries(),
      records: function* () {
        for (const [, key] of bySeq.entries()) yield [key, records.get(key)!.record]
      },
    }
  }

  #forget(key: string): void {
    const stored = this.#records.get(key)
    assert(stored !== undefined, `evicting unknown record ${key}`)
    this.#records.delete(key)
    this.#bySeq.delete(stored.seq)
    this.#byTime.delete([stored.record.atMs, stored.seq])
    this.#usedBytes -= utf8Length(key) + recordOverheadBytes
  }
}
