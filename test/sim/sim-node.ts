/**
 * One simulated node: its "disk" (acceptor storage and snapshot store, which survive crashes)
 * and its volatile parts (the Replica and the in-memory state machine, dropped on crash and
 * rebuilt on restart from the newest snapshot plus the log after it, as after kill -9).
 *
 * Snapshots are written as the node does: taken after an apply, started once the turn that
 * applied its last slot has synced, then one chunk per turn, committed after the last; a crash
 * before the commit leaves only the older snapshots. Once one is durable, the log is truncated
 * behind it (keeping a retained tail), and a lagging peer may be sent a copy of it (an install).
 */
import { Replica, assert, governsFrom, seededRandom, slot, slotZero, type ByteLimits, type ChosenConfig, type CoreEvent, type NodeId, type PersistBatch, type Random, type Slot } from '../../src/core/index.js'
import { KvSnapshot, KvStateMachine, type KvStateMachineOptions } from '../../src/kv/kv-state-machine.js'
import type { Snapshot } from '../../src/kv/state-machine.js'
import { compactLog } from '../../src/storage/log-compaction.js'
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import type { SnapshotMeta, SnapshotSink } from '../../src/storage/snapshot-store.js'
import type { SimSabotage } from './options.js'
import { StaleConfigurations } from './broken-configurations.js'
import { type WriteCommand, kvCommands } from '../../src/kv/command.js'

type DiskSnapshot = Readonly<{ acceptor: ReturnType<MemoryAcceptorStorage<WriteCommand>['load']>; compactedThrough: Slot; values: Map<number, string> }>
type SnapshotWrite = { readonly chunks: Iterator<Uint8Array>; readonly sink: SnapshotSink }

export type SnapshotOptions = Readonly<{ everySlots: number; everyCommands: number | null; everyBytes: number | null; chunkBytesMax: number }>
/** The state machine's options less the chunk size (which `SnapshotOptions` gives). */
export type SimStateMachineOptions = Omit<KvStateMachineOptions, 'snapshotChunkBytesMax'>

/** Builds a node's state machine: the production one, or a sabotage's broken one. */
export type StateMachineFactory = (options: KvStateMachineOptions) => KvStateMachine
export const productionStateMachine: StateMachineFactory = (options) => new KvStateMachine(options)

/** A copy of a peer's newest durable snapshot, and the slot values it stands for on that disk. */
export type SentSnapshot = Readonly<{ meta: SnapshotMeta; chunks: readonly Uint8Array[]; values: ReadonlyMap<number, string> }>

/** A fresh storage holding `entries` above a compaction point (what a crash left on the disk). */
function storageWith(promised: PersistBatch<WriteCommand>['promised'], compactedThrough: Slot, entries: PersistBatch<WriteCommand>['entries']): MemoryAcceptorStorage<WriteCommand> {
  const storage = new MemoryAcceptorStorage<WriteCommand>()
  storage.log.truncatePrefix(compactedThrough)
  storage.persist({ promised, entries })
  return storage
}

export class SimNode {
  readonly id: NodeId
  storage = new MemoryAcceptorStorage<WriteCommand>()
  snapshots = new MemorySnapshotStore()
  readonly #snapshot: SnapshotOptions
  readonly #stateMachineOptions: SimStateMachineOptions
  stateMachine: KvStateMachine
  replica: Replica<WriteCommand> | null = null
  incarnation = 0
  /** slot → the value (JSON) the log holds there, mirrored from each persist: cheap to check. */
  #values = new Map<number, string>()
  /** The disk as of the last durable commit, while non-durable commits follow it. */
  #lastDurable: DiskSnapshot | null = null
  /** The snapshot being written, one chunk per turn; null when none is. */
  #writing: SnapshotWrite | null = null
  #snapshotPending = false
  /** The state before this turn's batch, for the stale-index sabotage (else null). */
  beforeLastApply: KvSnapshot | null = null
  /** A take came while a write was under way or pending. */
  #wanted = false
  snapshotsWritten = 0

  readonly #makeStateMachine: StateMachineFactory

  /** `stateMachineOptions`: the simulator's small record bounds, the same on every node. */
  constructor(id: NodeId, snapshot: SnapshotOptions, stateMachineOptions: SimStateMachineOptions, makeStateMachine: StateMachineFactory = productionStateMachine) {
    this.id = id
    this.#snapshot = snapshot
    this.#stateMachineOptions = stateMachineOptions
    this.#makeStateMachine = makeStateMachine
    this.stateMachine = this.#freshStateMachine()
  }

  get up(): boolean {
    return this.replica !== null
  }

  /** The configuration it joined the cluster with after its disk was replaced; null: a member from the start. */
  joinedWith: ChosenConfig | null = null
  /** As the data directory's meta row keeps it (migrations/0009): survives crashes, not a wipe. */
  votesFrom: Slot = slotZero

  /**
   * A disk replaced under a removed member that is added again (serve --join on an empty
   * directory): everything is gone; it starts with the configuration it was added in and votes
   * only in the slots that configuration governs.
   */
  replaceDisk(joinedWith: ChosenConfig): void {
    this.#wipeDisk()
    this.joinedWith = joinedWith
    this.votesFrom = governsFrom(joinedWith.slot)
  }

  #wipeDisk(): void {
    this.storage = new MemoryAcceptorStorage<WriteCommand>()
    this.snapshots = new MemorySnapshotStore()
    this.#values = new Map()
  }

  /** Restores the newest snapshot (if any); returns whether it did. */
  start(options: { members: readonly NodeId[]; random: Random; sabotage: SimSabotage | null; byteLimits: ByteLimits; onEvent: (event: CoreEvent) => void }): boolean {
    this.incarnation += 1
    if (options.sabotage === 'forget-promise' && this.incarnation > 1) {
      // The forget-promise sabotage: the disk kept the accepted values but lost the promise.
      this.storage = storageWith(null, this.storage.log.compactedThrough(), this.storage.load().entries)
    }
    if (options.sabotage === 'amnesia' && this.incarnation > 1 && this.id === Math.max(...options.members)) {
      // The amnesia sabotage: one member's data directory is wiped at every restart, and it
      // votes again as if new (what peers refuse in production: a changed incarnation).
      this.#wipeDisk()
    }
    this.stateMachine = this.#freshStateMachine()
    const latest = this.snapshots.latest()
    if (latest !== null) this.stateMachine.restore(this.snapshots.read(latest))
    const appliedIndex = this.stateMachine.appliedIndex()
    this.replica = new Replica<WriteCommand>({ commands: kvCommands,
      self: this.id,
      members: options.members,
      // As the node: the state machine's configurations, else the one it joined with, else all.
      configurations: this.stateMachine.configurations(),
      // The ignore-config sabotage: node 1 never takes in a new configuration, and counts quorums
      // against the members it started with however the log changed them.
      ...(options.sabotage === 'ignore-config' && this.id === 1 ? { trackConfigurations: (known: readonly ChosenConfig[]) => new StaleConfigurations(known) } : {}),
      ...(this.joinedWith === null ? {} : { bootstrap: this.joinedWith }),
      votesFrom: this.votesFrom,
      durable: this.storage.loadFrom(slot(appliedIndex + 1)),
      appliedIndex,
      random: seededRandom(options.random.uint32()),
      archive: this.storage.log,
      compactedThrough: this.storage.log.compactedThrough(),
      snapshotEverySlots: this.#snapshot.everySlots,
      ...(this.#snapshot.everyCommands === null ? {} : { snapshotEveryCommands: this.#snapshot.everyCommands }),
      ...(this.#snapshot.everyBytes === null ? {} : { snapshotEveryBytes: this.#snapshot.everyBytes }),
      onEvent: options.onEvent,
      byteLimits: options.byteLimits,
    })
    return latest !== null
  }

  /** One turn's transaction, not yet synced: a crash may lose it, with every commit after it. */
  atomically(work: () => void): void {
    this.#lastDurable ??= { acceptor: this.storage.load(), compactedThrough: this.storage.log.compactedThrough(), values: new Map(this.#values) }
    work()
  }

  /**
   * Messages that wait for the disk (an acceptor's replies, the node's own votes), released by
   * the next sync: the simulator runs it on the node's next turn, so a crash can come between.
   */
  waitingForSync: Array<() => void> = []

  /** The fsync: every commit so far is on disk; then what waited for it is released. */
  sync(): void {
    this.#lastDurable = null
    for (const release of this.waitingForSync.splice(0)) release()
  }

  /** Every persist goes through here, so the mirror of the log's values stays exact. */
  persist(batch: PersistBatch<WriteCommand>): void {
    this.storage.persist(batch)
    for (const entry of batch.entries) this.#values.set(entry.slot, JSON.stringify(entry.value))
  }

  /**
   * Ready's `take`, after the turn's apply, as the node's snapshotter: while a write is under
   * way or about to start, the take waits for it and then sees a newer state. `before` is a view
   * of the state before the turn's batch, for the stale-index sabotage (a snapshot that claims
   * the batch's slots but holds the state before it).
   */
  take(before: KvSnapshot | null): void {
    if (this.#writing !== null || this.#snapshotPending) {
      this.#wanted = true
      return
    }
    const applied = this.stateMachine.appliedIndex()
    const taken = before !== null && before.revision !== this.stateMachine.revision()
      ? new KvSnapshot({ ...before.view, appliedIndex: applied }, this.#snapshot.chunkBytesMax)
      : this.stateMachine.snapshot()
    this.#snapshotPending = true
    this.waitingForSync.push(() => this.#beginWrite(taken))
  }

  /** One chunk of the snapshot in progress per turn; the last one commits it. */
  writeSnapshotChunk(): void {
    const writing = this.#writing
    if (writing === null) return
    const next = writing.chunks.next()
    if (!next.done) return writing.sink.write(next.value)
    this.#writing = null
    void writing.sink.commit() // the memory store commits before it returns
    this.snapshots.prune(2)
    this.snapshotsWritten += 1
    if (this.#wanted) {
      this.#wanted = false
      this.take(null)
    }
  }

  /**
   * Once the turns are synced, the log may go behind the newest durable snapshot, keeping the
   * retained tail (the node's rule, src/storage/log-compaction.ts). `unapplied` is the
   * truncate-unapplied sabotage: through the applied index at once, past the newest snapshot,
   * and the truncation itself survives any crash.
   */
  compact(retainSlots: number, unapplied: boolean): void {
    const replica = this.replica
    if (replica === null) return
    if (unapplied) {
      this.#compactThrough(replica, this.stateMachine.appliedIndex(), 0)
      this.#unappliedCompactedThrough = this.storage.log.compactedThrough()
      return
    }
    const latest = this.snapshots.latest()
    if (this.#lastDurable !== null || latest === null) return
    // A peer's snapshot not installed yet covers slots the log must still serve.
    this.#compactThrough(replica, slot(Math.min(latest.index, this.stateMachine.appliedIndex())), retainSlots)
  }

  /** A copy of the newest durable snapshot, to send a lagging peer; null when there is none. */
  newestSnapshot(): SentSnapshot | null {
    const meta = this.snapshots.latest()
    if (meta === null) return null
    const values = new Map([...this.durableValues()].filter(([at]) => at <= meta.index))
    return { meta, chunks: [...this.snapshots.read(meta)], values }
  }

  /**
   * A peer's snapshot arrived whole: it is stored (durable at once, as the file store's rename),
   * and the slot values it stands for join the disk. The install comes in a later turn.
   */
  receiveSnapshot(sent: SentSnapshot): void {
    const sink = this.snapshots.create(sent.meta.index, sent.meta.revision)
    for (const chunk of sent.chunks) sink.write(chunk)
    void sink.commit() // the memory store commits before it returns
    this.snapshots.prune(2)
    for (const [at, value] of sent.values) {
      this.#values.set(at, value)
      this.#lastDurable?.values.set(at, value)
    }
  }

  /** Inside the install turn's transaction: the stored snapshot replaces the state machine. */
  install(index: Slot): void {
    const meta = this.snapshots.latest()
    assert(meta !== null && meta.index === index, `install of ${index}, but the newest snapshot is at ${meta?.index ?? 'none'}`)
    const stateMachine = this.#freshStateMachine()
    stateMachine.restore(this.snapshots.read(meta))
    this.stateMachine = stateMachine
    this.storage.log.truncatePrefix(index)
  }

  #compactThrough(replica: Replica<WriteCommand>, through: Slot, retainSlots: number): void {
    const before = this.storage.log.compactedThrough()
    const after = compactLog(this.storage.log, through, retainSlots)
    if (after === before) return
    // The disk keeps a compacted slot's value only in a durable snapshot; a slot truncated above
    // the newest one (only the sabotage does it) is gone, and the durability checker must see so.
    const covered = this.snapshots.latest()?.index ?? 0
    for (let at = Math.max(before, covered) + 1; at <= after; at += 1) {
      this.#values.delete(at)
      this.#lastDurable?.values.delete(at)
    }
    replica.compacted(slot(after))
  }

  /** What the truncate-unapplied sabotage truncated: durable at once, whatever crashes after. */
  #unappliedCompactedThrough = 0

  /** The log's values as a crash now would leave them (the last fsync, if commits followed it). */
  durableValues(): ReadonlyMap<number, string> {
    return this.#lastDurable?.values ?? this.#values
  }

  /**
   * kill -9. With `loseUnsynced`, the commits since the last fsync never reached the disk.
   * Returns whether anything was lost. A snapshot being written is lost either way.
   */
  crash(loseUnsynced: boolean): boolean {
    this.replica = null
    this.waitingForSync = []
    this.#writing?.sink.abort()
    this.#writing = null
    this.#snapshotPending = false
    this.#wanted = false
    const snapshot = this.#lastDurable
    this.#lastDurable = null
    if (!loseUnsynced || snapshot === null) return false
    // A sabotaged truncation survives any crash; a correct one came before the durable copy.
    const compactedThrough = slot(Math.max(snapshot.compactedThrough, this.#unappliedCompactedThrough))
    this.storage = storageWith(snapshot.acceptor.promised, compactedThrough, snapshot.acceptor.entries.filter((entry) => entry.slot > compactedThrough))
    this.#values = new Map(snapshot.values)
    return true
  }

  #beginWrite(snapshot: Snapshot): void {
    this.#snapshotPending = false
    if (snapshot.appliedIndex <= (this.snapshots.latest()?.index ?? 0)) {
      // A peer's snapshot arrived meanwhile: a take that waited sees the state after it.
      if (this.#wanted) {
        this.#wanted = false
        this.take(null)
      }
      return
    }
    this.#writing = { chunks: snapshot.chunks()[Symbol.iterator](), sink: this.snapshots.create(snapshot.appliedIndex, snapshot.revision) }
  }

  #freshStateMachine(): KvStateMachine {
    return this.#makeStateMachine({ ...this.#stateMachineOptions, snapshotChunkBytesMax: this.#snapshot.chunkBytesMax })
  }
}
