/**
 * Where snapshots live (hashicorp/raft's SnapshotStore). A snapshot is a stream of opaque,
 * bounded chunks (the state machine's encoding) plus the applied index and revision it covers.
 * Implementations: memory (tests, simulator) and files (the node); one contract suite for both
 * (test/storage/snapshot-store-contract.ts).
 *
 * Contract: a snapshot becomes visible (`latest`, `list`) only once `commit` has resolved, and
 * then it is durable; a crash or `abort` before that leaves the store as it was, never a torn
 * snapshot. `read` hands back exactly the chunks written, in order, and checks them: a damaged
 * or foreign snapshot throws `SnapshotStoreError`, whatever point of the stream it reached.
 * @module
 */
import type { Revision, Slot } from '../core/ids.js'

export type SnapshotMeta = Readonly<{
  index: Slot
  revision: Revision
  /** Bytes the store holds for it (file size on disk). */
  sizeBytes: number
  /** CRC-32 over the stored snapshot, as 8 hex digits. */
  checksum: string
}>

export interface SnapshotSink {
  /** Appends one chunk (non-empty). Cheap and bounded: one chunk's copy or buffered write. */
  write(chunk: Uint8Array): void
  /** Makes the snapshot durable and the newest; the store's disk work runs off the event loop. */
  commit(): Promise<SnapshotMeta>
  /** Drops the unfinished snapshot. */
  abort(): void
}

export interface SnapshotStore {
  /** Starts a snapshot covering slots through `index`; `index` must be above the newest's. */
  create(index: Slot, revision: Revision): SnapshotSink
  latest(): SnapshotMeta | null
  /** Every committed snapshot, newest first. */
  list(): readonly SnapshotMeta[]
  /**
   * The slots of every committed snapshot, newest first, without reading any of them: a damaged
   * one is still listed (`latest` and `list` throw on it), so a restart can fall back past it.
   */
  indexes(): readonly Slot[]
  /** The chunks of a committed snapshot, checked as they are read. */
  read(snapshot: Readonly<{ index: Slot }>): Iterable<Uint8Array>
  /** Deletes all but the newest `keep` (at least 1). */
  prune(keep: number): void
  /**
   * Takes a damaged snapshot out of the store (the file store keeps it beside the others, named
   * `.damaged`, for the operator): it is no longer listed, read or pruned.
   */
  setAside(index: Slot): void
}

export type SnapshotStoreErrorCode = 'corrupt' | 'foreign' | 'newer_format'

/** A stored snapshot that cannot be used: an operating error with a one-line message naming it. */
export class SnapshotStoreError extends Error {
  override name = 'SnapshotStoreError'
  readonly code: SnapshotStoreErrorCode

  constructor(code: SnapshotStoreErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
