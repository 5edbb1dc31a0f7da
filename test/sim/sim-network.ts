/**
 * The simulated network: every envelope gets a delivery tick (random delay, which reorders),
 * may be dropped or duplicated, and is lost if its link is cut at delivery. Cuts are per
 * directed link, so a partition need not be clean: a bridge node may see both sides of a split
 * (connectivity that is not transitive) and a link may carry messages one way only.
 */
import { randomBelow, randomChance, type Envelope, type NodeId, type Random } from '../../src/core/index.js'
import type { SimOptions } from './options.js'
import type { WriteCommand } from '../../src/kv/command.js'

type InFlight = { readonly deliverAt: number; readonly seq: number; readonly envelope: Envelope<WriteCommand> }

export class SimNetwork {
  readonly #random: Random
  readonly #options: SimOptions
  #queue: InFlight[] = []
  #seq = 0
  /** Directed links that lose every envelope, as `from>to`. Empty means fully connected. */
  #cut = new Set<string>()
  #description = 'connected'
  faultsOn = true

  constructor(random: Random, options: SimOptions) {
    this.#random = random
    this.#options = options
  }

  send(envelopes: readonly Envelope<WriteCommand>[], now: number): void {
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

  /** Envelopes due at `now`, in a deterministic order (tick, then send order); cut ones are lost. */
  due(now: number): Envelope<WriteCommand>[] {
    const due = this.#queue.filter((item) => item.deliverAt <= now)
    if (due.length === 0) return []
    this.#queue = this.#queue.filter((item) => item.deliverAt > now)
    due.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq)
    return due.map((item) => item.envelope).filter((envelope) => this.connected(envelope.from, envelope.to))
  }

  /** Whether `from` can reach `to` now (one direction only). */
  connected(from: NodeId, to: NodeId): boolean {
    return !this.#cut.has(`${from}>${to}`)
  }

  /** Cuts exactly these directed links (replacing any earlier cut). */
  cut(links: readonly (readonly [NodeId, NodeId])[], description: string): void {
    this.#cut = new Set(links.map(([from, to]) => `${from}>${to}`))
    this.#description = description
  }

  heal(): void {
    this.#cut = new Set()
    this.#description = 'connected'
  }

  get partitioned(): boolean {
    return this.#cut.size > 0
  }

  describePartition(): string {
    return this.#description
  }
}
