/**
 * The KV store in memory: ordered maps (B+ trees) in UTF-8 byte order, so a prefix listing is a
 * walk from the prefix. `view()` is O(1): the trees are shared copy-on-write, so a snapshot can be
 * written out while the live store keeps changing (ZooKeeper's DataTree, with a cheap fork).
 * @module
 */
import sortedBtree from 'sorted-btree'
import * as sortedBtreeBulk from 'sorted-btree/extended/bulkLoad.js'
import { assert } from '../core/assert.js'
import { ballotZero, compareBallots, type Ballot } from '../core/ballot.js'
import { governsFrom, type ChosenConfig } from '../core/configuration.js'
import { revisionZero, slotZero, type LeaseId, type Revision, type Slot } from '../core/ids.js'
import { compareKeys, utf8Length } from './key-order.js'
import { beforeRangeEnd, rangeStart, type KeyRange, type ScanBounds } from './key-range.js'
import { entryOverheadBytes, recordOverheadBytes, recordSpaces, type DedupeRecord, type KvStore, type RecordSpace, type StoredLease, type StoredValue } from './kv-store.js'
import type { KvItem, KvPage } from './state-machine.js'

// A CommonJS module: under Node its ES default export is the exports object, whose `default` is
// the class; bundlers' interop (vitest) hands over the class itself.
type BTreeClass = typeof sortedBtree.default
const BTree: BTreeClass = typeof sortedBtree === 'function' ? (sortedBtree as unknown as BTreeClass) : sortedBtree.default
type BulkLoad = typeof sortedBtreeBulk.bulkLoad
const bulkLoad: BulkLoad = sortedBtreeBulk.bulkLoad ?? (sortedBtreeBulk as unknown as { default: { bulkLoad: BulkLoad } }).default.bulkLoad
/** sorted-btree's default branching factor, which `new BTree` uses too. */
const maxNodeSize = 32

/** One record space: the records by key, and their keys in apply order (a queue, oldest first). */
type Tree<K, V> = import('sorted-btree').default<K, V>
type Space = { byKey: Tree<string, StoredRecord>; bySeq: Tree<number, string>; seq: number }

function emptySpace(): Space {
  return { byKey: new BTree<string, StoredRecord>(undefined, compareKeys), bySeq: new BTree<number, string>(), seq: 0 }
}

type StoredRecord = Readonly<{ record: DedupeRecord; seq: number }>

/** A frozen, point-in-time view of a store: what a snapshot writes out. */
export type KvStoreView = Readonly<{
  appliedIndex: Slot
  revision: Revision
  dataCount: number
  recordCounts: Readonly<Record<RecordSpace, number>>
  /** Every key in UTF-8 byte order. */
  data: () => IterableIterator<[string, StoredValue]>
  /** A space's records, oldest applied first (the order expiry follows). */
  records: (space: RecordSpace) => Iterable<[string, DedupeRecord]>
  leaseCount: number
  /** Every lease and its TTL, in id order. */
  leases: () => IterableIterator<[string, number]>
  /** The member configurations applied, oldest first (the newest few: see configsKept). */
  configs: readonly ChosenConfig[]
  leaseEpoch: Ballot
}>

/**
 * Configurations a store keeps. One change at a time, each in force α slots after it is chosen:
 * the one in force at the applied index and any after it are a handful at most.
 */
export const configsKept = 4

export class KvMemoryStore implements KvStore {
  #data = new BTree<string, StoredValue>(undefined, compareKeys)
  #spaces: Record<RecordSpace, Space> = { idempotency: emptySpace(), request: emptySpace() }
  #usedBytes = 0
  /** Lease id → TTL seconds; and each lease's attached keys (rebuilt from the keys on restore). */
  #leases = new BTree<string, number>()
  readonly #leaseKeys = new Map<string, Set<string>>()
  #appliedIndex: Slot = slotZero
  #revision: Revision = revisionZero
  #configs: readonly ChosenConfig[] = []
  #leaseEpoch: Ballot = ballotZero
  /**
   * The last key read and its entry then (undefined: absent), until the next change of any key.
   * A write reads its key (the semantics look at the version, the lease, the size) and then puts
   * it: the put takes the entry it replaces from here instead of a second descent of the tree,
   * which with a million keys is most of what a replayed write costs.
   */
  #lastRead: { key: string; entry: StoredValue | undefined } | null = null

  /** Hands out copies: a caller can never edit what the store holds. */
  get(key: string): StoredValue | null {
    const stored = this.#read(key)
    return stored === undefined ? null : { ...stored, value: new Uint8Array(stored.value) }
  }

  peek(key: string): Readonly<StoredValue> | null {
    return this.#read(key) ?? null
  }

  #read(key: string): StoredValue | undefined {
    if (this.#lastRead?.key === key) return this.#lastRead.entry
    const entry = this.#data.get(key)
    this.#lastRead = { key, entry }
    return entry
  }

  /**
   * Fills an empty store with `keys` (strictly ascending, as a snapshot holds them) in one
   * bulk load: O(n) and no per-key tree descent, which is most of a restore of millions of keys.
   * Takes `entries` as they are, without the copy `put` makes: a snapshot decoder hands over
   * values that share one exact-size buffer per snapshot chunk, so a restored store holds at most
   * the snapshot's value bytes in buffers some live value still uses (a buffer is freed once every
   * value in it was replaced or deleted).
   */
  loadSorted(keys: string[], entries: StoredValue[]): void {
    assert(this.#data.size === 0, 'a bulk load into a store that holds keys')
    assert(keys.length === entries.length, `a bulk load of ${keys.length} keys and ${entries.length} entries`)
    this.#lastRead = null
    this.#data = bulkLoad(keys, entries, maxNodeSize, compareKeys)
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index]!
      const entry = entries[index]!
      checkMetadata(key, entry)
      this.#usedBytes += utf8Length(key) + entryOverheadBytes + entry.value.byteLength
      if (entry.lease !== null) {
        const attached = this.#leaseKeys.get(entry.lease) ?? new Set<string>()
        attached.add(key)
        this.#leaseKeys.set(entry.lease, attached)
      }
    }
  }

  /** Keeps a private copy of exactly `value.byteLength` bytes (never a view into a shared pool). */
  put(key: string, entry: StoredValue): Readonly<StoredValue> | null {
    checkMetadata(key, entry)
    const previous = this.#read(key)
    this.#lastRead = null
    const value = entry.value
    this.#usedBytes += previous === undefined ? utf8Length(key) + entryOverheadBytes + value.byteLength : value.byteLength - previous.value.byteLength
    this.#data.set(key, { ...entry, value: new Uint8Array(value) })
    if (previous?.lease !== entry.lease) {
      if (previous?.lease != null) this.#detach(previous.lease, key)
      if (entry.lease !== null) {
        const keys = this.#leaseKeys.get(entry.lease) ?? new Set<string>()
        keys.add(key)
        this.#leaseKeys.set(entry.lease, keys)
      }
    }
    return previous ?? null
  }

  #detach(lease: string, key: string): void {
    const keys = this.#leaseKeys.get(lease)
    keys?.delete(key)
    if (keys?.size === 0) this.#leaseKeys.delete(lease)
  }

  leaseGet(id: LeaseId): StoredLease | null {
    const ttlSeconds = this.#leases.get(id)
    return ttlSeconds === undefined ? null : { ttlSeconds, keys: this.#leaseKeys.get(id)?.size ?? 0 }
  }

  leasePut(id: LeaseId, ttlSeconds: number): void {
    this.#leases.set(id, ttlSeconds)
  }

  leaseDelete(id: LeaseId): void {
    assert((this.#leaseKeys.get(id)?.size ?? 0) === 0, `lease ${id} deleted with keys attached`)
    this.#leases.delete(id)
  }

  leaseKeys(id: LeaseId): readonly string[] {
    return [...(this.#leaseKeys.get(id) ?? [])].sort(compareKeys)
  }

  leaseCount(): number {
    return this.#leases.size
  }

  *leases(): Iterable<readonly [LeaseId, number]> {
    for (const [id, ttlSeconds] of this.#leases.entries()) yield [id as LeaseId, ttlSeconds]
  }

  /** Keys whose lease is not held: a snapshot that says so is damaged (checked after a restore). */
  orphanedLeases(): string[] {
    return [...this.#leaseKeys.keys()].filter((id) => !this.#leases.has(id))
  }

  delete(key: string): boolean {
    const previous = this.#read(key)
    if (previous === undefined) return false
    this.#lastRead = null
    this.#data.delete(key)
    if (previous.lease !== null) this.#detach(previous.lease, key)
    this.#usedBytes -= utf8Length(key) + previous.value.byteLength + entryOverheadBytes
    return true
  }

  range(prefix: string, limit: number, after: string | null): KvPage {
    const items: KvItem[] = []
    // Keys with a prefix are contiguous in code point order, starting at the prefix itself; a
    // resumed page starts at `after` (itself skipped) when that lies past the prefix, and a key
    // past every key with the prefix ends the page at once.
    const start = after !== null && compareKeys(after, prefix) > 0 ? after : prefix
    for (const [key, stored] of this.#data.entries(start)) {
      if (!key.startsWith(prefix)) break
      if (after !== null && compareKeys(key, after) <= 0) continue
      if (items.length === limit) return { items, more: true }
      items.push({ key, ...stored, value: new Uint8Array(stored.value) })
    }
    return { items, more: false }
  }

  /** The keys of `range` in key order, as many as `bounds` allow; `more` when keys were left out. */
  scan(range: KeyRange, bounds: ScanBounds): KvPage {
    const items: KvItem[] = []
    let bytes = 0
    for (const [key, stored] of this.#data.entries(rangeStart(range))) {
      if (!beforeRangeEnd(range, key)) break
      const itemBytes = utf8Length(key) + (bounds.keysOnly ? 0 : stored.value.byteLength)
      if (items.length === bounds.limit || (items.length > 0 && bytes + itemBytes > bounds.bytesMax)) return { items, more: true }
      bytes += itemBytes
      items.push({ key, ...stored, value: bounds.keysOnly ? new Uint8Array(0) : new Uint8Array(stored.value) })
    }
    return { items, more: false }
  }

  /** How many keys `range` holds: a walk over its keys, values untouched. */
  count(range: KeyRange): number {
    let count = 0
    for (const key of this.#data.keys(rangeStart(range))) {
      if (!beforeRangeEnd(range, key)) break
      count += 1
    }
    return count
  }

  position(): Readonly<{ appliedIndex: Slot; revision: Revision }> {
    return { appliedIndex: this.#appliedIndex, revision: this.#revision }
  }

  setPosition(appliedIndex: Slot, revision: Revision): void {
    this.#appliedIndex = appliedIndex
    this.#revision = revision
  }

  leaseEpoch(): Ballot {
    return this.#leaseEpoch
  }

  /** The epoch only rises: a marker older than the epoch is the semantics' to skip (leases.ts). */
  setLeaseEpoch(epoch: Ballot): void {
    assert(compareBallots(epoch, this.#leaseEpoch) >= 0, 'the lease epoch went back')
    this.#leaseEpoch = epoch
  }

  /** The member configurations applied (or restored), oldest first; empty: the bootstrap one. */
  configs(): readonly ChosenConfig[] {
    return this.#configs
  }

  /**
   * A configuration chosen in `config.slot` was applied. Kept: the one in force after that slot
   * and those chosen later (no more than `configsKept`): older ones govern no slot to come.
   */
  addConfig(config: ChosenConfig): void {
    const last = this.#configs[this.#configs.length - 1]
    assert(last === undefined || config.slot > last.slot, `configuration of slot ${config.slot} after one of slot ${last?.slot}`)
    let kept = [...this.#configs, config]
    while (kept.length > 1 && governsFrom(kept[1]!.slot) <= config.slot + 1) kept = kept.slice(1)
    this.#configs = kept.slice(-configsKept)
  }

  /** A snapshot's configurations (the decoder). */
  setConfigs(configs: readonly ChosenConfig[]): void {
    assert(configs.length <= configsKept, `${configs.length} configurations in a store`)
    this.#configs = configs
  }

  recordGet(space: RecordSpace, key: string): DedupeRecord | null {
    return this.#spaces[space].byKey.get(key)?.record ?? null
  }

  recordPut(space: RecordSpace, key: string, record: DedupeRecord): void {
    const records = this.#spaces[space]
    assert(!records.byKey.has(key), `record ${key} exists already`)
    records.seq += 1
    records.byKey.set(key, { record, seq: records.seq })
    records.bySeq.set(records.seq, key)
    this.#usedBytes += recordBytes(key, record)
  }

  recordOldest(space: RecordSpace): Readonly<{ key: string; record: DedupeRecord }> | null {
    const records = this.#spaces[space]
    const seq = records.bySeq.minKey()
    if (seq === undefined) return null
    const key = records.bySeq.get(seq)!
    return { key, record: records.byKey.get(key)!.record }
  }

  recordDeleteOldest(space: RecordSpace): void {
    const oldest = this.recordOldest(space)
    assert(oldest !== null, `no ${space} record to delete`)
    const records = this.#spaces[space]
    records.bySeq.delete(records.bySeq.minKey()!)
    records.byKey.delete(oldest.key)
    this.#usedBytes -= recordBytes(oldest.key, oldest.record)
  }

  recordCount(space: RecordSpace): number {
    return this.#spaces[space].byKey.size
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
    data.freeze()
    const leases = this.#leases.clone()
    leases.freeze()
    const spaces = Object.fromEntries(recordSpaces.map((space) => {
      const byKey = this.#spaces[space].byKey.clone()
      const bySeq = this.#spaces[space].bySeq.clone()
      byKey.freeze()
      bySeq.freeze()
      return [space, { byKey, bySeq }]
    })) as Record<RecordSpace, Readonly<{ byKey: Tree<string, StoredRecord>; bySeq: Tree<number, string> }>>
    return {
      appliedIndex: this.#appliedIndex,
      revision: this.#revision,
      dataCount: data.size,
      recordCounts: { idempotency: spaces.idempotency.byKey.size, request: spaces.request.byKey.size },
      data: () => data.entries(),
      leaseCount: leases.size,
      leases: () => leases.entries(),
      configs: this.#configs,
      leaseEpoch: this.#leaseEpoch,
      records: function* (space) {
        const { byKey, bySeq } = spaces[space]
        for (const [, key] of bySeq.entries()) yield [key, byKey.get(key)!.record]
      },
    }
  }
}

/** Invariant of every stored entry. Hot (every put, every restored key): the message is built only on failure. */
function checkMetadata(key: string, entry: StoredValue): void {
  if (entry.createRevision >= 1 && entry.createRevision <= entry.version && entry.writes >= 1) return
  assert(false, `key ${key}: metadata ${entry.createRevision}/${entry.version}/${entry.writes} is inconsistent`)
}

/** Key, fingerprint and a fixed overhead. */
function recordBytes(key: string, record: DedupeRecord): number {
  return utf8Length(key) + (record.fingerprint?.length ?? 0) + recordOverheadBytes
}
