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

/**
 * One key's change. A delete carries no value, createRevision and writes 0 and no lease (the key
 * is gone, as in etcd's delete events); `prevVersion` is the key's version before (0: absent).
 */
export type Change = Readonly<{
  type: 'put' | 'delete'
  key: string
  value: Uint8Array | null
  createRevision: Revision
  writes: number
  lease: LeaseId | null
  prevVersion: Revision
}>

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
  for (const change of entry.changes) bytes += changeOverheadBytes + utf8Length(change.key) + (change.value?.byteLength ?? 0)
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
  #head = 0
  #bytes = 0
  /** The oldest revision whose changes are all here (every later one's are too). */
  #servedFrom: Revision

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

  get revisions(): number {
    return this.#entries.length - this.#head
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Invariant: revisions strictly increase; an entry changes at least one key. */
  append(entry: RevisionChanges): void {
    const last = this.#entries.at(-1)
    assert(entry.changes.length > 0, `revision ${entry.revision} changed nothing`)
    assert(entry.revision >= this.#servedFrom && (this.revisions === 0 || last!.revision < entry.revision), `history revision ${entry.revision} out of order`)
    this.#entries.push(entry)
    this.#bytes += entryBytes(entry)
    while (this.revisions > 1 && (this.revisions > this.#bounds.revisionsMax || this.#bytes > this.#bounds.bytesMax)) this.#dropOldest()
  }

  /** The state was replaced (a snapshot restored) at `at`: history starts over after it. */
  reset(at: Revision): void {
    this.#entries = []
    this.#head = 0
    this.#bytes = 0
    this.#servedFrom = revision(at + 1)
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
    this.#head += 1
    this.#bytes -= entryBytes(oldest)
    this.#servedFrom = revision(oldest.revision + 1)
    // Reclaim the dropped front now and then, so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
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
