/**
 * One simulated node: its "disk" (acceptor storage and KV store, which survive crashes) and its
 * volatile Replica (dropped on crash, rebuilt from the disk on restart, as after kill -9).
 */
import { Replica, seededRandom, type ByteLimits, type CoreEvent, type NodeId, type PersistBatch, type Random } from '../../src/core/index.js'
import type { CoreSabotage } from '../../src/core/replica-port.js'
import { KvMemoryStore } from '../../src/state-machine/kv-memory-store.js'
import { KvStateMachine, type KvStateMachineOptions } from '../../src/state-machine/kv-state-machine.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import { simOnlySabotages, type SimSabotage } from './options.js'

type DiskSnapshot = Readonly<{ acceptor: ReturnType<MemoryAcceptorStorage['load']>; kv: KvMemoryStore; values: ReadonlyMap<number, string> }>

export class SimNode {
  readonly id: NodeId
  storage = new MemoryAcceptorStorage()
  #kv = new KvMemoryStore()
  readonly #stateMachineOptions: KvStateMachineOptions
  stateMachine: KvStateMachine
  replica: Replica | null = null
  incarnation = 0
  /** slot → the value (JSON) the log holds there, mirrored from each persist: cheap to check. */
  #values = new Map<number, string>()
  /** The disk as of the last durable commit, while non-durable commits follow it. */
  #lastDurable: DiskSnapshot | null = null

  /** `stateMachineOptions`: the simulator's small record bounds, the same on every node. */
  constructor(id: NodeId, stateMachineOptions: KvStateMachineOptions) {
    this.id = id
    this.#stateMachineOptions = stateMachineOptions
    this.stateMachine = new KvStateMachine(this.#kv, stateMachineOptions)
  }

  get up(): boolean {
    return this.replica !== null
  }

  start(options: { members: readonly NodeId[]; random: Random; sabotage: SimSabotage | null; byteLimits: ByteLimits; onEvent: (event: CoreEvent) => void }): void {
    this.incarnation += 1
    if (options.sabotage === 'forget-promise' && this.incarnation > 1) {
      // The forget-promise sabotage: the disk kept the accepted values but lost the promise.
      const forgetful = new MemoryAcceptorStorage()
      forgetful.persist({ promised: null, entries: this.storage.load().entries })
      this.storage = forgetful
    }
    const durable = this.storage.load()
    const coreSabotage = new Set<CoreSabotage>()
    if (options.sabotage !== null && !simOnlySabotages.has(options.sabotage)) coreSabotage.add(options.sabotage as CoreSabotage)
    this.replica = new Replica({
      self: this.id,
      members: options.members,
      durable,
      appliedIndex: this.stateMachine.appliedIndex(),
      random: seededRandom(options.random.uint32()),
      archive: this.storage.log,
      onEvent: options.onEvent,
      sabotage: coreSabotage,
      byteLimits: options.byteLimits,
    })
  }

  /** One turn's transaction, not yet synced: a crash may lose it, with every commit after it. */
  atomically(work: () => void): void {
    this.#lastDurable ??= { acceptor: this.storage.load(), kv: this.#kv.clone(), values: new Map(this.#values) }
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
    if (!loseUnsynced || snapshot === null) return false
    this.storage = new MemoryAcceptorStorage()
    this.storage.persist({ promised: snapshot.acceptor.promised, entries: snapshot.acceptor.entries })
    this.#kv = snapshot.kv
    this.#values = new Map(snapshot.values)
    this.stateMachine = new KvStateMachine(this.#kv, this.#stateMachineOptions)
    return true
  }
}
