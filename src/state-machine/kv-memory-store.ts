/**
 * Map-backed KvStore for the simulator and tests. Orders keys by UTF-8 bytes, like SQLite's
 * BINARY collation, so both stores list identically.
 * @module
 */
import { assert } from '../core/assert.js'
import { revisionZero, slotZero, type Revision, type Slot } from '../core/ids.js'
import type { DedupeRecord, KvStore, RecordSpace, StoredValue } from './kv-store.js'
import type { KvItem } from './state-machine.js'

export class KvMemoryStore implements KvStore {
  readonly #data = new Map<string, StoredValue>()
  /** Insertion order is apply order: Maps iterate in insertion order, so the first is the oldest. */
  readonly #records: Readonly<Record<RecordSpace, Map<string, DedupeRecord>>> = { idempotency: new Map(), request: new Map() }
  #appliedIndex: Slot = slotZero
  #revision: Revision = revisionZero

  /** Hands out copies, as the SQLite store does: a caller can never edit what is "on disk". */
  get(key: string): StoredValue | null {
    const stored = this.#data.get(key)
    return stored === undefined ? null : { value: new Uint8Array(stored.value), version: stored.version }
  }

  put(key: string, value: Uint8Array, version: Revision): void {
    this.#data.set(key, { value: new Uint8Array(value), version })
  }

  delete(key: string): boolean {
    return this.#data.delete(key)
  }

  range(prefix: string, limit: number): Readonly<{ items: readonly KvItem[]; more: boolean }> {
    // Encode each key once; comparing UTF-16 strings with `<` would put U+E000..U+FFFF after
    // astral characters, unlike SQLite's byte order.
    const keys = [...this.#data.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => ({ key, bytes: Buffer.from(key, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    const items = keys.slice(0, limit).map(({ key }) => {
      const stored = this.#data.get(key)
      assert(stored !== undefined, `listed key ${key} vanished`)
      return { key, value: new Uint8Array(stored.value), version: stored.version }
    })
    return { items, more: keys.length > limit }
  }

  position(): Readonly<{ appliedIndex: Slot; revision: Revision }> {
    return { appliedIndex: this.#appliedIndex, revision: this.#revision }
  }

  setPosition(appliedIndex: Slot, revision: Revision): void {
    this.#appliedIndex = appliedIndex
    this.#revision = revision
  }

  recordGet(space: RecordSpace, key: string): DedupeRecord | null {
    return this.#records[space].get(key) ?? null
  }

  recordPut(space: RecordSpace, key: string, record: DedupeRecord): void {
    const records = this.#records[space]
    assert(!records.has(key), `record ${key} exists already`)
    records.set(key, record)
  }

  recordOldest(space: RecordSpace): Readonly<{ key: string; record: DedupeRecord }> | null {
    const first = this.#records[space].entries().next()
    return first.done === true ? null : { key: first.value[0], record: first.value[1] }
  }

  recordDeleteOldest(space: RecordSpace): void {
    const first = this.#records[space].keys().next()
    assert(first.done !== true, `no ${space} record to delete`)
    this.#records[space].delete(first.value)
  }

  recordCount(space: RecordSpace): number {
    return this.#records[space].size
  }

  /** An independent copy: what a disk held at one moment (the simulator's crash model). */
  clone(): KvMemoryStore {
    const copy = new KvMemoryStore()
    for (const [key, stored] of this.#data) copy.#data.set(key, stored)
    for (const space of ['idempotency', 'request'] as const) {
      for (const [key, record] of this.#records[space]) copy.#records[space].set(key, record)
    }
    copy.#appliedIndex = this.#appliedIndex
    copy.#revision = this.#revision
    return copy
  }

  /**
   * Not atomic: a throw part-way leaves what was done. Nothing here throws except an assertion,
   * which ends the process (or the simulated node, whose disk is then rebuilt from a snapshot).
   */
  transaction<T>(work: () => T): T {
    return work()
  }

  close(): void {}
}
