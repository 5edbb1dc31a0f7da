/**
 * SnapshotStore in memory, for tests and the simulator. `commit` takes effect before it returns
 * (the simulator, which is synchronous, relies on that); what survives a simulated crash is
 * exactly the committed snapshots, as with the file store.
 * @module
 */
import { crc32 } from 'node:zlib'
import { assert } from '../core/assert.js'
import type { Revision, Slot } from '../core/ids.js'
import type { SnapshotMeta, SnapshotSink, SnapshotStore } from './snapshot-store.js'

type Stored = Readonly<{ meta: SnapshotMeta; chunks: readonly Uint8Array[] }>

export class MemorySnapshotStore implements SnapshotStore {
  /** Newest first. */
  #snapshots: Stored[] = []

  create(index: Slot, revision: Revision): SnapshotSink {
    const newest = this.#snapshots[0]?.meta.index ?? 0
    assert(index > newest, `a snapshot at ${index} is not newer than the newest, ${newest}`)
    const chunks: Uint8Array[] = []
    let state: 'open' | 'committed' | 'aborted' = 'open'
    let checksum = 0
    let sizeBytes = 0
    return {
      write: (chunk) => {
        assert(state === 'open', `write to a ${state} snapshot`)
        assert(chunk.byteLength > 0, 'an empty snapshot chunk')
        chunks.push(new Uint8Array(chunk))
        checksum = crc32(chunk, checksum)
        sizeBytes += chunk.byteLength
      },
      commit: () => {
        assert(state === 'open', `commit of a ${state} snapshot`)
        state = 'committed'
        const meta: SnapshotMeta = { index, revision, sizeBytes, checksum: checksum.toString(16).padStart(8, '0') }
        this.#snapshots = [{ meta, chunks }, ...this.#snapshots.filter((stored) => stored.meta.index !== index)]
        this.#snapshots.sort((a, b) => b.meta.index - a.meta.index)
        return Promise.resolve(meta)
      },
      abort: () => {
        if (state === 'open') state = 'aborted'
      },
    }
  }

  latest(): SnapshotMeta | null {
    return this.#snapshots[0]?.meta ?? null
  }

  list(): readonly SnapshotMeta[] {
    return this.#snapshots.map((stored) => stored.meta)
  }

  indexes(): readonly Slot[] {
    return this.#snapshots.map((stored) => stored.meta.index)
  }

  *read(meta: Readonly<{ index: Slot }>): Iterable<Uint8Array> {
    const stored = this.#snapshots.find((candidate) => candidate.meta.index === meta.index)
    assert(stored !== undefined, `no snapshot at ${meta.index}`)
    for (const chunk of stored.chunks) yield new Uint8Array(chunk)
  }

  setAside(index: Slot): void {
    this.#snapshots = this.#snapshots.filter((stored) => stored.meta.index !== index)
  }

  prune(keep: number): void {
    assert(Number.isSafeInteger(keep) && keep >= 1, `cannot keep ${keep} snapshots`)
    this.#snapshots = this.#snapshots.slice(0, keep)
  }
}
