/**
 * A tiny in-memory cluster for core unit tests: real Replicas, real processReady, memory
 * storage, and a network the test controls (deliver all, drop a node, crash and restart).
 * The seeded fault-injecting simulator lives in test/sim; this is for readable scenarios.
 */
import type { ByteLimits, ChosenConfig, ChosenEntry, Slot, CoreEvent, Envelope, NodeId, ReadOutcome } from '../../src/core/index.js'
import { type WriteCommand, kvCommands } from '../../src/kv/command.js'
import { Replica, assert, configEntries, governsFrom, nodeId, seededRandom, slot, slotZero } from '../../src/core/index.js'
import { processReady } from '../../src/node/process-ready.js'
import { MemoryAcceptorStorage } from '../../src/storage/memory-storage.js'

export class Harness {
  readonly ids: NodeId[]
  readonly storages = new Map<NodeId, MemoryAcceptorStorage<WriteCommand>>()
  readonly replicas = new Map<NodeId, Replica<WriteCommand>>()
  readonly applied = new Map<NodeId, ChosenEntry<WriteCommand>[]>()
  readonly reads = new Map<NodeId, ReadOutcome[]>()
  readonly dropped = new Map<NodeId, string[]>()
  readonly down = new Set<NodeId>()
  /** Every core event, in order, with the node that reported it. */
  readonly events: { node: NodeId; event: CoreEvent }[] = []
  queue: Envelope<WriteCommand>[] = []
  /** Rewrites every delivered envelope: a broken peer injected by a test (e.g. a voter that always says yes). */
  tamper: ((envelope: Envelope<WriteCommand>) => Envelope<WriteCommand>) | null = null
  /** Every envelope any node sent, in order, for tests that inspect the traffic. */
  readonly sent: Envelope<WriteCommand>[] = []
  #seed: number
  readonly #configurations = new Map<NodeId, readonly ChosenConfig[]>()
  /** A joined node votes only in the slots its configuration governs, as `serve --join` makes it. */
  readonly #votesFrom = new Map<NodeId, Slot>()
  #byteLimits: ByteLimits | undefined

  constructor(count: number, seed = 1, byteLimits?: ByteLimits) {
    this.ids = Array.from({ length: count }, (_, index) => nodeId(index + 1))
    this.#seed = seed
    this.#byteLimits = byteLimits
    for (const id of this.ids) {
      this.storages.set(id, new MemoryAcceptorStorage<WriteCommand>())
      this.applied.set(id, [])
      this.reads.set(id, [])
      this.dropped.set(id, [])
      this.start(id)
    }
  }

  /**
   * A node that joins: it starts empty with the configuration it was added in (as a learner),
   * as `serve --join` does, and learns the log from the others.
   */
  join(id: NodeId, configurations: readonly ChosenConfig[]): void {
    this.storages.set(id, new MemoryAcceptorStorage<WriteCommand>())
    this.applied.set(id, [])
    this.reads.set(id, [])
    this.dropped.set(id, [])
    this.#configurations.set(id, configurations)
    this.#votesFrom.set(id, governsFrom(configurations[configurations.length - 1]!.slot))
    this.start(id)
  }

  start(id: NodeId): void {
    const applied = this.applied.get(id) ?? []
    const appliedIndex = applied.length === 0 ? slotZero : slot(applied[applied.length - 1]!.slot)
    // What a state machine would hold: the configurations in the applied slots, after the bootstrap one.
    const chosen = applied.flatMap((entry) => configEntries(entry.value).map((config): ChosenConfig => ({ slot: entry.slot, members: config.members })))
    const bootstrap = this.#configurations.get(id) ?? []
    const configurations = chosen.length > 0 ? [...bootstrap.filter((config) => config.slot < chosen[0]!.slot), ...chosen] : bootstrap
    this.replicas.set(id, new Replica<WriteCommand>({ commands: kvCommands,
      self: id,
      members: this.ids,
      ...(this.#votesFrom.has(id) ? { votesFrom: this.#votesFrom.get(id)! } : {}),
      ...(configurations.length === 0 ? {} : { configurations: chosen.length > 0 && bootstrap.length === 0 ? [this.#bootstrap(), ...chosen] : configurations }),
      durable: this.storages.get(id)!.load(),
      appliedIndex,
      random: seededRandom(this.#seed * 31 + id),
      onEvent: (event) => this.events.push({ node: id, event }),
      ...(this.#byteLimits === undefined ? {} : { byteLimits: this.#byteLimits }),
    }))
    this.down.delete(id)
  }

  #bootstrap(): ChosenConfig {
    return { slot: slotZero, members: this.ids.map((member) => ({ id: member, url: `node:${member}`, role: 'voter' as const })) }
  }

  crash(id: NodeId): void {
    this.replicas.delete(id)
    this.down.add(id)
  }

  replica(id: NodeId): Replica<WriteCommand> {
    const replica = this.replicas.get(id)
    if (replica === undefined) throw new Error(`node ${id} is down`)
    return replica
  }

  /** Drain every replica's Ready; messages go to the queue. */
  process(): void {
    for (const [id, replica] of this.replicas) {
      while (processReady(replica, {
        self: id,
        atomically: (work) => work(),
        persist: (batch) => this.storages.get(id)!.persist(batch),
        apply: (entries) => this.applied.get(id)!.push(...entries),
        send: (envelopes) => {
          this.queue.push(...envelopes)
          this.sent.push(...envelopes)
        },
        reads: (outcomes) => this.reads.get(id)!.push(...outcomes),
        dropped: (proposals) => this.dropped.get(id)!.push(...proposals),
        // Nothing in these scenarios compacts its log, so no snapshot is ever asked for.
        fetchSnapshot: () => assert(false, 'no scenario compacts its log'),
        installSnapshot: () => assert(false, 'no scenario compacts its log'),
        takeSnapshot: () => assert(false, 'no scenario takes snapshots'),
      }));
    }
  }

  /** Deliver everything queued (repeatedly), except to or from nodes in `cut`. */
  deliverAll(cut: ReadonlySet<NodeId> = new Set()): void {
    for (let round = 0; round < 100 && this.queue.length > 0; round += 1) {
      const batch = this.queue
      this.queue = []
      for (const envelope of batch) {
        if (cut.has(envelope.to) || cut.has(envelope.from) || this.down.has(envelope.to)) continue
        this.replicas.get(envelope.to)?.step(this.tamper === null ? envelope : this.tamper(envelope))
      }
      this.process()
    }
  }

  run(ticks: number, cut: ReadonlySet<NodeId> = new Set()): void {
    for (let tick = 0; tick < ticks; tick += 1) {
      for (const replica of this.replicas.values()) replica.tick()
      this.process()
      this.deliverAll(cut)
    }
  }

  leader(): NodeId | null {
    const leaders = [...this.replicas.entries()].filter(([, replica]) => replica.status().role === 'leader')
    return leaders.length === 1 ? leaders[0]![0] : null
  }
}

let counter = 0
export function put(key: string, value: string): WriteCommand {
  counter += 1
  return { type: 'put', proposal: `t-${counter}`, key, value: Buffer.from(value).toString('base64'), cas: null, idempotency: null }
}
