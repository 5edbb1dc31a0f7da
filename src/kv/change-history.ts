/**
 * The change history that feeds watch: every applied change (a put or a delete of one key),
 * grouped by the revision that made it, oldest first, bounded by revisions and bytes. It is not
 * in snapshots: a node that restores one (at start, or from the leader) serves history from that
 * revision on, and replaying the log after the snapshot fills it again. A read from before the
 * oldest revision still served is `compacted`, never a silently shorter answer.
 * @module
 */
import { assert } from '../core/assert.js'
import { revision, type LeaseId, type Revision } from '../core/ids.js'
import { utf8Length } from './key-order.js'
import type { StoredValue } from './kv-store.js'

/**
 * One key's change. A delete carries no value, createRevision and writes 0 and no lease (the key
 * is gone, as in etcd's delete events); `prev` is the key's entry before it (null: absent), what
 * etcd's prev_kv answers and what a read at an earlier revision undoes the change to.
 */
export type Change = Readonly<{
  type: 'put' | 'delete'
  key: string
  value: Uint8Array | null
  createRevision: Revision
  writes: number
  lease: LeaseId | null
  prev: Readonly<StoredValue> | null
}>

/** A key that changed after some revision: its entry then (null: absent) and whether it exists now. */
export type KeyThen = Readonly<{ then: Readonly<StoredValue> | null; existsNow: boolean }>

export type RevisionChanges = Readonly<{ revision: Revision; changes: readonly Change[] }>

/** The newest revision is always kept, whatever its size: a reader must be able to get past it. */
export type HistoryBounds = Readonly<{ revisionsMax: number; bytesMax: number }>

export type HistoryRead =
  /** Changes from the asked revision on, oldest first, at most the asked count; `more` when cut. */
  | Readonly<{ type: 'changes'; entries: readonly RevisionChanges[]; more: boolean }>
  /** The asked revision is older than the oldest served: `compactRevision`. */
  | Readonly<{ type: 'compacted'; compactRevision: Revision }>

/** What one change costs, for the byte bound: key and value bytes, and the record around them. */
const changeOverheadBytes = 64

function entryBytes(entry: RevisionChanges): number {
  let bytes = 0
  for (const change of entry.changes) bytes += changeOverheadBytes + utf8Length(change.key) + (change.value?.byteLength ?? 0) + (change.prev?.value.byteLength ?? 0)
  return bytes
}

export function checkHistoryBounds(bounds: HistoryBounds): void {
  assert(Number.isSafeInteger(bounds.revisionsMax) && bounds.revisionsMax >= 1, 'history must keep a revision')
  assert(Number.isSafeInteger(bounds.bytesMax) && bounds.bytesMax >= 1, 'history must have room')
}

export class ChangeHistory {
  readonly #bounds: HistoryBounds
  /** A queue: live entries are those from #head on (dropping from the front is O(1)). */
  #entries: RevisionChanges[] = []
  /** Each entry's entryBytes, computed once when it is appended (dropping it needs them again). */
  #entryBytes: number[] = []
  #head = 0
  #bytes = 0
  /** The oldest revision whose changes are all here (every later one's are too). */
  #servedFrom: Revision
  /** The revision of the last compact (0: none since the start or the last restore). */
  #compactedAt: Revision = revision(0)

  /** `after`: the revision the state starts at (0 for an empty store); history starts after it. */
  constructor(bounds: HistoryBounds, after: Revision = revision(0)) {
    checkHistoryBounds(bounds)
    this.#bounds = bounds
    this.#servedFrom = revision(after + 1)
  }

  /** The oldest revision still served: a read from before it is compacted. */
  get servedFrom(): Revision {
    return this.#servedFrom
  }

  /**
   * The oldest revision a read of the whole state can be served at: the state before the oldest
   * change held (undoing every change held gives it), but never below the last compact's
   * revision (etcd serves a compacted revision itself, and nothing before it).
   */
  get rangeFloor(): Revision {
    return revision(Math.max(this.#servedFrom - 1, this.#compactedAt))
  }

  get revisions(): number {
    return this.#entries.length - this.#head
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Invariant: revisions strictly increase; an entry changes at least one key. */
  append(entry: RevisionChanges): void {
    const last = this.#entries.at(-1)
    // Hot (every applied write): the messages are built only on failure.
    if (entry.changes.length === 0) assert(false, `revision ${entry.revision} changed nothing`)
    if (entry.revision < this.#servedFrom || (this.revisions > 0 && last!.revision >= entry.revision)) assert(false, `history revision ${entry.revision} out of order`)
    const bytes = entryBytes(entry)
    this.#entries.push(entry)
    this.#entryBytes.push(bytes)
    this.#bytes += bytes
    while (this.revisions > 1 && (this.revisions > this.#bounds.revisionsMax || this.#bytes > this.#bounds.bytesMax)) this.#dropOldest()
  }

  /** The state was replaced (a snapshot restored) at `at`: history starts over after it. */
  reset(at: Revision): void {
    this.#entries = []
    this.#entryBytes = []
    this.#head = 0
    this.#bytes = 0
    this.#servedFrom = revision(at + 1)
    this.#compactedAt = revision(0)
  }

  /**
   * etcd's compact at `at` (at most the current revision, which the caller knows): changes before
   * `at` are dropped, so watches from before it and reads at revisions before it are compacted;
   * `at` itself stays served for both. A compact below what is already dropped changes nothing.
   */
  compact(at: Revision): void {
    while (this.revisions > 0 && this.#entries[this.#head]!.revision < at) this.#dropOldest()
    if (at > this.#servedFrom) this.#servedFrom = at
    if (at > this.#compactedAt) this.#compactedAt = at
  }

  /**
   * Every key `matches` selects that changed after revision `at`, with its entry at `at` (the
   * `prev` of its first change after `at`) and whether it exists now (its last change is a put).
   * Invariant: `at` is at or above rangeFloor (callers answer compacted below it).
   */
  changedAfter(at: Revision, matches: (key: string) => boolean): ReadonlyMap<string, KeyThen> {
    assert(at >= this.rangeFloor, `a read at revision ${at} below the history's floor ${this.rangeFloor}`)
    const changed = new Map<string, { then: Readonly<StoredValue> | null; existsNow: boolean }>()
    for (let index = this.#firstAtOrAfter(revision(at + 1)); index < this.#entries.length; index += 1) {
      for (const change of this.#entries[index]!.changes) {
        if (!matches(change.key)) continue
        const known = changed.get(change.key)
        if (known === undefined) changed.set(change.key, { then: change.prev, existsNow: change.type === 'put' })
        else known.existsNow = change.type === 'put'
      }
    }
    return changed
  }

  read(fromRevision: Revision, entriesMax: number): HistoryRead {
    assert(entriesMax >= 1, 'a history read of nothing')
    if (fromRevision < this.#servedFrom) return { type: 'compacted', compactRevision: this.#servedFrom }
    const start = this.#firstAtOrAfter(fromRevision)
    const end = Math.min(this.#entries.length, start + entriesMax)
    return { type: 'changes', entries: this.#entries.slice(start, end), more: end < this.#entries.length }
  }

  #dropOldest(): void {
    const oldest = this.#entries[this.#head]!
    this.#bytes -= this.#entryBytes[this.#head]!
    this.#head += 1
    this.#servedFrom = revision(oldest.revision + 1)
    // Reclaim the dropped front now and then, so the arrays do not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#entryBytes = this.#entryBytes.slice(this.#head)
      this.#head = 0
    }
  }

  /** Binary search over the live entries. */
  #firstAtOrAfter(fromRevision: Revision): number {
    let low = this.#head
    let high = this.#entries.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.#entries[middle]!.revision < fromRevision) low = middle + 1
      else high = middle
    }
    return low
  }
}
