/**
 * One simulated node: its "disk" (acceptor storage and KV store, which survive crashes) and its
 * volatile Replica (dropped on crash, rebuilt from the disk on restart, as after kill -9).
 */
import { Replica, seededRandom, type CoreEvent, type NodeId, type Random } from '../../src/core/index.js'
import type { CoreSabotage } from '../../src/core/replica-port.js'
import { KvMemoryStore } from '../../src/state-machine/kv-memory-store.js'
import { KvStateMachine } from '../../src/state-machine/kv-state-machine.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'
import type { SimSabotage } from './options.js'

export class SimNode {
  readonly id: NodeId
  storage = new MemoryAcceptorStorage()
  readonly stateMachine = new KvStateMachine(new KvMemoryStore())
  replica: Replica | null = null
  incarnation = 0

  constructor(id: NodeId) {
    this.id = id
  }

  get up(): boolean {
    return this.replica !== null
  }

  start(options: { members: readonly NodeId[]; random: Random; sabotage: SimSabotage | null; onEvent: (event: CoreEvent) => void }): void {
    this.incarnation += 1
    if (options.sabotage === 'forget-promise' && this.incarnation > 1) {
      // The forget-promise sabotage: the disk kept the accepted values but lost the promise.
      const forgetful = new MemoryAcceptorStorage()
      forgetful.persist({ promised: null, entries: this.storage.load().entries })
      this.storage = forgetful
    }
    const durable = this.storage.load()
    const coreSabotage = new Set<CoreSabotage>()
    if (options.sabotage !== null && options.sabotage !== 'forget-promise') coreSabotage.add(options.sabotage)
    this.replica = new Replica({
      self: this.id,
      members: options.members,
      durable,
      appliedIndex: this.stateMachine.appliedIndex(),
      random: seededRandom(options.random.uint32()),
      archive: this.storage,
      onEvent: options.onEvent,
      sabotage: coreSabotage,
    })
  }

  crash(): void {
    this.replica = null
  }
}
