/**
 * The replicated state machine in memory: applies chosen slots in order, exactly once, and
 * snapshots and restores the whole state.
 * @module
 */
import { assert } from '../core/assert.js'
import type { Ballot } from '../core/ballot.js'
import { isCoreEntry } from '../core/command.js'
import type { ChosenConfig } from '../core/configuration.js'
import { slot, type Revision, type Slot } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { ChosenEntry } from '../core/messages.js'
import { applyWrite, checkApplyWriteOptions, defaultApplyWriteOptions, type ApplyWriteOptions } from './kv.js'
import { KvMemoryStore, type KvStoreView } from './kv-memory-store.js'
import type { KeyRange, ScanBounds } from './key-range.js'
import { encodeSnapshot, SnapshotDecoder, type SnapshotCodecLimits } from './snapshot-codec.js'
import type { AppliedWrite, KvItem, KvPage, Snapshot, StateMachine, TxnResult } from './state-machine.js'
import { applyTxn } from './txn.js'
import { ChangeHistory, type HistoryBounds } from './change-history.js'
import { RecordingStore } from './recording-store.js'
import { txnWrites } from './txn-rules.js'
import type { TxnSpec } from './command.js'
import type { LeaseId } from '../core/ids.js'
import type { StoredLease } from './kv-store.js'
import type { WriteCommand } from './command.js'

/**
 * `snapshotChunkBytesTarget` (`--snapshot-chunk-bytes`) is local: a chunk of any size up to the max
 * decodes anywhere, so replicas need not agree on it.
 */
export type KvStateMachineOptions = Partial<ApplyWriteOptions & Readonly<{ snapshotChunkBytesMax: number; snapshotChunkBytesTarget: number; history: HistoryBounds }>>

/** A view and the chunk size to encode it in. Exported so the simulator can build broken ones. */
export class KvSnapshot implements Snapshot {
  readonly #view: KvStoreView
  readonly #chunkBytesMax: number
  readonly #chunkBytesTarget: number

  constructor(view: KvStoreView, chunkBytesMax: number, chunkBytesTarget: number = limits.snapshotChunkBytesTarget) {
    this.#view = view
    this.#chunkBytesMax = chunkBytesMax
    this.#chunkBytesTarget = Math.min(chunkBytesTarget, chunkBytesMax)
  }

  get appliedIndex(): Slot {
    return this.#view.appliedIndex
  }

  get revision(): Revision {
    return this.#view.revision
  }

  get view(): KvStoreView {
    return this.#view
  }

  chunks(): Iterable<Uint8Array> {
    return { [Symbol.iterator]: () => encodeSnapshot(this.#view, this.#chunkBytesMax, this.#chunkBytesTarget) }
  }
}

export class KvStateMachine implements StateMachine {
  #store = new KvMemoryStore()
  readonly #options: ApplyWriteOptions
  readonly #codecLimits: SnapshotCodecLimits
  readonly #chunkBytesTarget: number
  readonly #history: ChangeHistory

  /**
   * `options` exist for tests; every replica of a cluster must run with the same values (the
   * history's bounds excepted: each node keeps what it was told to).
   */
  constructor(options: KvStateMachineOptions = {}) {
    const { snapshotChunkBytesMax, snapshotChunkBytesTarget, history, ...bounds } = options
    this.#chunkBytesTarget = snapshotChunkBytesTarget ?? limits.snapshotChunkBytesTarget
    assert(this.#chunkBytesTarget > 0, 'a snapshot chunk target of at least one byte')
    this.#history = new ChangeHistory(history ?? { revisionsMax: limits.historyRevisions, bytesMax: limits.historyBytesMax })
    this.#options = { ...defaultApplyWriteOptions, ...bounds }
    checkApplyWriteOptions(this.#options)
    this.#codecLimits = {
      chunkBytesMax: snapshotChunkBytesMax ?? limits.snapshotChunkBytesMax,
      keyBytesMax: limits.keyBytesMax,
      valueBytesMax: limits.valueBytesMax,
      idempotencyKeyBytesMax: limits.idempotencyKeyBytesMax,
      requestIdBytesMax: limits.requestIdBytesMax,
    }
  }

  /** Invariant: slots are applied once each, in order; position moves with the data. */
  apply(entries: readonly ChosenEntry<WriteCommand>[]): readonly AppliedWrite[] {
    const store = this.#store
    const results: AppliedWrite[] = []
    let { appliedIndex, revision } = store.position()
    for (const entry of entries) {
      assert(entry.slot === appliedIndex + 1, `apply slot ${entry.slot} after ${appliedIndex}: gap or repeat`)
      assert(entry.value.length > 0, `slot ${entry.slot} has an empty batch`)
      for (const command of entry.value) {
        if (isCoreEntry(command)) {
          // The member list rides in the state, so a snapshot carries it (src/core/configuration.ts).
          if (command.type === 'config') store.addConfig({ slot: entry.slot, members: command.members })
          continue
        }
        const recording = new RecordingStore(store)
        const outcome = applyWrite(recording, command, revision, this.#options)
        if (recording.changes.length > 0) this.#history.append({ revision: outcome.revision, changes: recording.changes })
        if (outcome.result.type === 'history_compacted') this.#history.compact(outcome.result.revision)
        revision = outcome.revision
        results.push({ proposal: command.proposal, slot: entry.slot, result: outcome.result })
      }
      appliedIndex = slot(entry.slot)
    }
    store.setPosition(appliedIndex, revision)
    return results
  }

  appliedIndex(): Slot {
    return this.#store.position().appliedIndex
  }

  /** The member configurations as of the applied index, oldest first; empty: never changed. */
  configurations(): readonly ChosenConfig[] {
    return this.#store.configs()
  }

  revision(): Revision {
    return this.#store.position().revision
  }

  get(key: string): KvItem | null {
    const stored = this.#store.get(key)
    return stored === null ? null : { key, ...stored }
  }

  range(prefix: string, limit: number, after: string | null = null): KvPage {
    return this.#store.range(prefix, limit, after)
  }

  scan(range: KeyRange, bounds: ScanBounds): KvPage {
    return this.#store.scan(range, bounds)
  }

  count(range: KeyRange): number {
    return this.#store.count(range)
  }

  readTxn(txn: TxnSpec): TxnResult {
    assert(!txnWrites(txn), 'readTxn of a txn that writes')
    const current = this.revision()
    const { result } = applyTxn(this.#store, txn, current)
    assert(result.type === 'txn' && this.revision() === current, 'a read-only txn changed the state')
    return result
  }

  snapshot(): KvSnapshot {
    return new KvSnapshot(this.#store.view(), this.#codecLimits.chunkBytesMax, this.#chunkBytesTarget)
  }

  restore(chunks: Iterable<Uint8Array>): void {
    const decoder = new SnapshotDecoder(this.#codecLimits)
    for (const chunk of chunks) decoder.push(chunk)
    this.#store = decoder.finish()
    this.#history.reset(this.#store.position().revision)
  }

  usedBytes(): number {
    return this.#store.usedBytes()
  }

  lease(id: LeaseId): StoredLease | null {
    return this.#store.leaseGet(id)
  }

  leaseKeys(id: LeaseId): readonly string[] {
    return this.#store.leaseKeys(id)
  }

  leases(): Iterable<readonly [LeaseId, number]> {
    return this.#store.leases()
  }

  /** The ballot of the newest leader whose lease epoch marker is applied (src/kv/leases.ts). */
  leaseEpoch(): Ballot {
    return this.#store.leaseEpoch()
  }

  /** The changes applied since the last restore (or the start), as far back as its bounds keep. */
  get history(): Pick<ChangeHistory, 'read' | 'servedFrom' | 'rangeFloor' | 'changedAfter' | 'revisions' | 'bytes'> {
    return this.#history
  }

  /** Keys held: for metrics and tests. */
  get keyCount(): number {
    return this.#store.size
  }

  close(): void {}
}
