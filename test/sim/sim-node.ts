/**
 * One simulated node: its "disk" (acceptor storage and KV store, which survive crashes) and its
 * volatile Replica (dropped on crash, rebuilt from the disk on restart, as after kill -9).
 *
 * The KV store on the disk is this build's durable snapshot (it commits in the turn's
 * transaction, like the SQLite table): once a sync made it durable, the log may be truncated
 * behind its applied index, and a lagging peer may be sent a copy of it (a snapshot install).
 */
import { Replica, assert, seededRandom, slot, type CoreEvent, type NodeId, type PersistBatch, type Random, type Slot } from '../../src/core/index.js'
import type { CoreSabotage } from '../../src/core/replica-port.js'
import { KvMemoryStore } from '../../src/state-machine/kv-memory-store.js'
import { KvStateMachine } from '../../src/state-machine/kv-state-machine.js'
import { compactLog } from '../../src/storage/log-compaction.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import type { SimSabotage } from './options.js'

type DiskSnapshot = Readonly<{ acceptor: ReturnType<MemoryAcceptorStorage['load']>; compactedThrough: Slot; kv: KvMemoryStore; values: ReadonlyMap<number, string> }>

/** A durable copy of a peer's state: the KV store, and the slot values it stands for on a disk. */
export type FetchedSnapshot = Readonly<{ kv: KvMemoryStore; values: ReadonlyMap<number, string> }>

export type CompactionOptions = Readonly<{ everySlots: number; retainSlots: number }>

/** A fresh storage holding `entries` above a compaction point (what a crash left on the disk). */
function storageWith(promised: PersistBatch['promised'], compactedThrough: Slot, entries: PersistBatch['entries']): MemoryAcceptorStorage {
  const storage = new MemoryAcceptorStorage()
  storage.log.truncatePrefix(compactedThrough)
  storage.persist({ promised, entries })
  return storage
}

export class SimNode {
  readonly id: NodeId
  storage = new MemoryAcceptorStorage()
  #kv = new KvMemoryStore()
  stateMachine = new KvStateMachine(this.#kv)
  replica: Replica | null = null
  incarnation = 0
  /** slot → the value (JSON) the log holds there, mirrored from each persist: cheap to check. */
  #values = new Map<number, string>()
  /** The disk as of the last durable commit, while non-durable commits follow it. */
  #lastDurable: DiskSnapshot | null = null

  constructor(id: NodeId) {
    this.id = id
  }

  get up(): boolean {
    return this.replica !== null
  }

  start(options: { members: readonly NodeId[]; random: Random; sabotage: SimSabotage | null; onEvent: (event: CoreEvent) => void }): void {
    this.incarnation += 1
    this.fetched = null
    if (options.sabotage === 'forget-promise' && this.incarnation > 1) {
      // The forget-promise sabotage: the disk kept the accepted values but lost the promise.
      this.storage = storageWith(null, this.storage.log.compactedThrough(), this.storage.load().entries)
    }
    const durable = this.storage.load()
    const coreSabotage = new Set<CoreSabotage>()
    if (options.sabotage !== null && options.sabotage !== 'forget-promise' && options.sabotage !== 'blind-retry' && options.sabotage !== 'truncate-unapplied') coreSabotage.add(options.sabotage)
    this.replica = new Replica({
      self: this.id,
      members: options.members,
      durable,
      appliedIndex: this.stateMachine.appliedIndex(),
      random: seededRandom(options.random.uint32()),
      archive: this.storage.log,
      compactedThrough: this.storage.log.compactedThrough(),
      onEvent: options.onEvent,
      sabotage: coreSabotage,
    })
  }

  /** One turn's transaction, not yet synced: a crash may lose it, with every commit after it. */
  atomically(work: () => void): void {
    this.#lastDurable ??= { acceptor: this.storage.load(), compactedThrough: this.storage.log.compactedThrough(), kv: this.#kv.clone(), values: new Map(this.#values) }
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
  persist(batch: PersistBatch): void {
    this.storage.persist(batch)
    for (const entry of batch.entries) this.#values.set(entry.slot, JSON.stringify(entry.value))
  }

  /** A peer's state fetched for an install (lost on crash, as a half-received one would be). */
  fetched: FetchedSnapshot | null = null

  /** A copy of the durable state, to send a lagging peer. */
  durableSnapshot(): FetchedSnapshot {
    return { kv: (this.#lastDurable?.kv ?? this.#kv).clone(), values: new Map(this.durableValues()) }
  }

  /**
   * After a sync everything is durable, the KV store included: the log may go behind its applied
   * index, keeping the retained tail (the driver's rule, src/storage/log-compaction.ts).
   * `unapplied` is the truncate-unapplied sabotage: through the applied index at once, before the
   * state it relies on is durable, and the truncation itself survives any crash.
   */
  compact(options: CompactionOptions, unapplied: boolean): void {
    const replica = this.replica
    if (replica === null) return
    const applied = this.stateMachine.appliedIndex()
    if (unapplied) {
      this.#compactThrough(replica, applied, 0)
      this.#unappliedCompactedThrough = this.storage.log.compactedThrough()
      return
    }
    if (this.#lastDurable !== null) return
    if (applied - options.retainSlots - this.storage.log.compactedThrough() < options.everySlots) return
    this.#compactThrough(replica, applied, options.retainSlots)
  }

  /** Inside the install turn's transaction: the fetched state replaces the KV store. */
  install(index: Slot): void {
    const fetched = this.fetched
    assert(fetched !== null && fetched.kv.position().appliedIndex === index, `install of ${index} without that snapshot`)
    this.fetched = null
    this.#kv = fetched.kv
    this.stateMachine = new KvStateMachine(this.#kv)
    this.storage.log.truncatePrefix(index)
    for (const [at, value] of fetched.values) if (at <= index) this.#values.set(at, value)
  }

  #compactThrough(replica: Replica, applied: Slot, retain: number): void {
    const durableApplied = (this.#lastDurable?.kv ?? this.#kv).position().appliedIndex
    const before = this.storage.log.compactedThrough()
    const through = compactLog(this.storage.log, applied, retain)
    // The disk keeps a compacted slot's value only in its durable state; a slot truncated above
    // that (only the sabotage does it) is gone, and the durability checker must see so.
    for (let at = Math.max(before, durableApplied) + 1; at <= through; at += 1) {
      this.#values.delete(at)
      ;(this.#lastDurable?.values as Map<number, string> | undefined)?.delete(at)
    }
    replica.compacted(slot(through))
  }

  /** The log's values as a crash now would leave them (the last fsync, if commits followed it). */
  durableValues(): ReadonlyMap<number, string> {
    return this.#lastDurable?.values ?? this.#values
  }

  /**
   * kill -9. With `loseUnsynced`, the commits since the last fsync never reached the disk.
   * Returns whether anything was lost.
   */
  crash(loseUnsynced: boolean): boolean {
    this.replica = null
    this.waitingForSync = []
    const snapshot = this.#lastDurable
    this.#lastDurable = null
    this.fetched = null
    if (!loseUnsynced || snapshot === null) return false
    // A sabotaged truncation survives any crash; a correct one came before the durable copy.
    const compactedThrough = slot(Math.max(snapshot.compactedThrough, this.#unappliedCompactedThrough))
    this.storage = storageWith(snapshot.acceptor.promised, compactedThrough, snapshot.acceptor.entries.filter((entry) => entry.slot > compactedThrough))
    this.#kv = snapshot.kv
    this.#values = new Map(snapshot.values)
    this.stateMachine = new KvStateMachine(this.#kv)
    return true
  }

  /** What the truncate-unapplied sabotage truncated: durable at once, whatever crashes after. */
  #unappliedCompactedThrough = 0
}
