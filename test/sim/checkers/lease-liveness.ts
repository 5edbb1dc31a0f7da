/**
 * Lease liveness, once the cluster is healed: a lease nobody keeps alive ends in bounded time.
 * While a node leads, each lease it holds must be revoked (its revoke applied on that node) by
 * `applySlackTicks` after the node's own lease clock has run the lease's TTL in ticks, plus the
 * tick its countdown's restart may land in, plus an election timeout (the margin a new leader
 * adds), since the later of its takeover and its last restart of that lease (a grant it applied
 * or a keepalive it served). Counted in the leader's ticks, as the issue states it, so a clock
 * that misses ticks is given the time it lost; the slack is in the simulator's ticks: a commit
 * round trip on the healed network (delays of at most 2 ticks each way) and the turns around it.
 * A new leader decides no expiry before its lease epoch marker is applied (src/kv/leases.ts): a
 * countdown that ran out before then is due once it serves, as a leader far behind applies its
 * marker only after the slots it lacks. And when the phase ends, no replica holds a lease any more.
 */

const reportedMax = 5

type Countdown = { readonly ttlTicks: number; readonly startedAt: number; dueAt: number | null; reported: boolean }

export class LeaseLivenessChecker {
  readonly violations: string[] = []
  readonly #ticksOf: (ttlSeconds: number) => number
  readonly #marginTicks: number
  readonly #applySlackTicks: number
  #healed = false
  /** node → ticks its lease clock has run since healing. */
  readonly #clocks = new Map<number, number>()
  /** node → lease → its countdown, while the node leads. */
  readonly #countdowns = new Map<number, Map<string, Countdown>>()

  constructor(options: Readonly<{ ticksOf: (ttlSeconds: number) => number; marginTicks: number; applySlackTicks: number }>) {
    this.#ticksOf = options.ticksOf
    this.#marginTicks = options.marginTicks
    this.#applySlackTicks = options.applySlackTicks
  }

  /** The liveness phase begins: every fault healed, every node restarted (with no countdowns). */
  healed(): void {
    this.#healed = true
    this.#countdowns.clear()
  }

  /** The leader `node` (re)started the lease's countdown: it took over, applied the grant or served a keepalive. */
  restarted(node: number, lease: string, ttlSeconds: number): void {
    if (!this.#healed) return
    let leases = this.#countdowns.get(node)
    if (leases === undefined) this.#countdowns.set(node, (leases = new Map()))
    leases.set(lease, { ttlTicks: this.#ticksOf(ttlSeconds), startedAt: this.#clocks.get(node) ?? 0, dueAt: null, reported: false })
  }

  /** `node` applied the lease's revoke (`lease`), or stopped leading or crashed (null): nothing is owed. */
  forgot(node: number, lease: string | null): void {
    if (lease === null) this.#countdowns.delete(node)
    else this.#countdowns.get(node)?.delete(lease)
  }

  /**
   * `node`'s lease clock ticked at `tick`, `serving` (a leader whose epoch marker is applied):
   * the countdowns that ran out are due now, or once it serves.
   */
  ticked(node: number, tick: number, serving: boolean): void {
    if (!this.#healed) return
    const clock = (this.#clocks.get(node) ?? 0) + 1
    this.#clocks.set(node, clock)
    if (!serving) return
    for (const countdown of this.#countdowns.get(node)?.values() ?? []) {
      if (countdown.dueAt === null && clock - countdown.startedAt >= countdown.ttlTicks + 1 + this.#marginTicks) countdown.dueAt = tick
    }
  }

  /** The end of a tick: a lease still held by a leader past its due tick and the slack is overdue. */
  endOfTick(tick: number, holds: (node: number, lease: string) => boolean): void {
    for (const [node, leases] of this.#countdowns) {
      for (const [lease, countdown] of leases) {
        if (countdown.dueAt === null || countdown.reported || tick - countdown.dueAt <= this.#applySlackTicks || !holds(node, lease)) continue
        countdown.reported = true
        this.#report(`node ${node} led through tick ${tick} and still held lease ${lease}, which its clock had counted down (TTL ${countdown.ttlTicks} ticks, plus ${1 + this.#marginTicks}) by tick ${countdown.dueAt}`)
      }
    }
  }

  /** The phase is over: leases some replica still holds (`left`: node → lease ids). */
  finished(left: ReadonlyMap<number, readonly string[]>, ticks: number): void {
    for (const [node, leases] of left) {
      if (leases.length > 0) this.#report(`node ${node} still held ${leases.length} leases (${leases.slice(0, 3).join(', ')}) ${ticks} ticks after healing`)
    }
  }

  #report(message: string): void {
    if (this.violations.length < reportedMax) this.violations.push(`lease-liveness: ${message}`)
  }
}
