/**
 * Forwarded client requests and their answers between nodes: HTTP requests in production, here
 * seeded like the peer network (random delay, loss, partitions cut them). One deliberate
 * difference: a request to a node that is down is refused at once (connection refused), which is
 * the one case in which the sender knows it never arrived.
 */
import { randomBelow, randomChance, type NodeId, type Random } from '../../src/core/index.js'
import type { SimOptions } from './options.js'

type InFlight<T> = { readonly deliverAt: number; readonly seq: number; readonly from: NodeId; readonly to: NodeId; readonly payload: T }

export class SimRpc<T> {
  readonly #random: Random
  readonly #options: SimOptions
  readonly #connected: (from: NodeId, to: NodeId) => boolean
  #queue: InFlight<T>[] = []
  #seq = 0
  faultsOn = true

  constructor(random: Random, options: SimOptions, connected: (from: NodeId, to: NodeId) => boolean) {
    this.#random = random
    this.#options = options
    this.#connected = connected
  }

  send(from: NodeId, to: NodeId, payload: T, now: number): void {
    if (this.faultsOn && randomChance(this.#random, this.#options.dropPercent, 100)) return
    const delay = 1 + randomBelow(this.#random, this.faultsOn ? this.#options.delayTicksMax : 2)
    this.#queue.push({ deliverAt: now + delay, seq: this.#seq++, from, to, payload })
  }

  /**
   * Messages due at `now` whose target `accepts` them now (a paused node's wait in the queue), in
   * tick then send order; those on a link cut at delivery are lost.
   */
  due(now: number, accepts: (to: NodeId) => boolean): Array<Readonly<{ from: NodeId; to: NodeId; payload: T }>> {
    const due = this.#queue.filter((item) => item.deliverAt <= now && accepts(item.to))
    if (due.length === 0) return []
    const taken = new Set(due)
    this.#queue = this.#queue.filter((item) => !taken.has(item))
    due.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq)
    return due.filter((item) => this.#connected(item.from, item.to))
  }

  /** A node crashed: what was in flight to it dies with its sockets. */
  dropTo(node: NodeId): void {
    this.#queue = this.#queue.filter((item) => item.to !== node)
  }
}
