/**
 * The simulated network: every envelope gets a delivery tick (random delay, which reorders),
 * may be dropped or duplicated, and is lost if a partition separates its ends at delivery.
 */
import { randomBelow, randomChance, type Envelope, type NodeId, type Random } from '../../src/core/index.js'
import type { SimOptions } from './options.js'

type InFlight = { readonly deliverAt: number; readonly seq: number; readonly envelope: Envelope }

export class SimNetwork {
  readonly #random: Random
  readonly #options: SimOptions
  #queue: InFlight[] = []
  #seq = 0
  /** Partition groups: nodes talk only within their group. Empty means fully connected. */
  #groups = new Map<NodeId, number>()
  faultsOn = true

  constructor(random: Random, options: SimOptions) {
    this.#random = random
    this.#options = options
  }

  send(envelopes: readonly Envelope[], now: number): void {
    for (const envelope of envelopes) {
      if (this.faultsOn && randomChance(this.#random, this.#options.dropPercent, 100)) continue
      const copies = this.faultsOn && randomChance(this.#random, this.#options.duplicatePercent, 100) ? 2 : 1
      for (let copy = 0; copy < copies; copy += 1) {
        const long = this.faultsOn && randomChance(this.#random, this.#options.longDelayPercent, 100)
        const delayMax = !this.faultsOn ? 2 : long ? this.#options.longDelayTicksMax : this.#options.delayTicksMax
        const delay = 1 + randomBelow(this.#random, delayMax)
        this.#queue.push({ deliverAt: now + delay, seq: this.#seq++, envelope })
      }
    }
  }

  /** Envelopes due at `now`, in a deterministic order; partitioned ones are lost. */
  due(now: number): Envelope[] {
    const due = this.#queue.filter((item) => item.deliverAt <= now)
    if (due.length === 0) return []
    this.#queue = this.#queue.filter((item) => item.deliverAt > now)
    due.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq)
    return due.map((item) => item.envelope).filter((envelope) => this.connected(envelope.from, envelope.to))
  }

  connected(a: NodeId, b: NodeId): boolean {
    return (this.#groups.get(a) ?? 0) === (this.#groups.get(b) ?? 0)
  }

  partition(groups: ReadonlyMap<NodeId, number>): void {
    this.#groups = new Map(groups)
  }

  heal(): void {
    this.#groups = new Map()
  }

  get partitioned(): boolean {
    return new Set(this.#groups.values()).size > 1
  }

  describePartition(): string {
    const byGroup = new Map<number, NodeId[]>()
    for (const [node, group] of this.#groups) byGroup.set(group, [...(byGroup.get(group) ?? []), node])
    return [...byGroup.values()].map((nodes) => nodes.join(',')).join(' | ')
  }
}
