/**
 * The leader's lease clock, in ticks: one countdown per lease, restarted at the full TTL by a
 * grant or a keepalive, and by the node becoming leader (a leader change never ends a lease
 * early), then with `takeoverTicks` more: a deposed leader may still be answering a keepalive
 * whose read barrier began before this node took over (see LeaseKeeper.keepalive). A countdown that reaches zero is reported once as expired, for the node to propose its
 * revoke; if that revoke does not take effect, the lease is reported again after `retryTicks`.
 * Pure: the node drives `tick()` from the ticks of its event loop; nothing here reads a clock.
 * @module
 */
import { assert } from '../core/assert.js'
import type { LeaseId } from '../core/ids.js'
import { limits } from '../core/limits.js'

/**
 * The takeover margin for a lease clock ticking every `tickMs`: an election timeout, as etcd
 * extends its leases on a leader change, and at least a second, so that a keepalive's read
 * barrier on a busy leader may take that long before its renewal is refused as late.
 */
export function takeoverTicksFor(tickMs: number): number {
  return Math.max(limits.electionTimeoutTicks, Math.ceil(1000 / tickMs))
}

/** `expired`: reported, its revoke proposed; only a new leader's restart brings it back. */
type Countdown = { remainingTicks: number; ttlSeconds: number; expired: boolean }

export class LeaseTimers {
  readonly #tickMs: number
  readonly #retryTicks: number
  readonly #takeoverTicks: number
  readonly #countdowns = new Map<LeaseId, Countdown>()

  constructor(options: Readonly<{ tickMs: number; retryTicks: number; takeoverTicks: number }>) {
    assert(options.tickMs > 0 && options.retryTicks >= 1 && options.takeoverTicks >= 0, 'lease timers need a tick, a retry and a takeover margin')
    this.#tickMs = options.tickMs
    this.#retryTicks = options.retryTicks
    this.#takeoverTicks = options.takeoverTicks
  }

  /** Ticks after which an expired lease whose revoke did not take effect is reported again. */
  get retryTicks(): number {
    return this.#retryTicks
  }

  /** The takeover margin in milliseconds: the longest read barrier a keepalive may renew after. */
  get takeoverMs(): number {
    return this.#takeoverTicks * this.#tickMs
  }

  /** Ticks in `ttlSeconds`, rounded up: a lease never ends before its TTL. */
  ticksOf(ttlSeconds: number): number {
    return Math.ceil((ttlSeconds * 1000) / this.#tickMs)
  }

  /** Becoming leader: every lease the state holds starts over at its full TTL and the takeover margin. */
  restartAll(leases: Iterable<readonly [LeaseId, number]>): void {
    this.#countdowns.clear()
    for (const [id, ttlSeconds] of leases) this.start(id, ttlSeconds)
  }

  /**
   * A countdown this leader did not have: at takeover, or for a grant it applied (which a
   * deposed leader may have applied first and renewed late): the full TTL and the takeover margin.
   */
  start(id: LeaseId, ttlSeconds: number): void {
    this.restart(id, ttlSeconds)
    this.#countdowns.get(id)!.remainingTicks += this.#takeoverTicks
  }

  /**
   * A grant or a keepalive. One tick more than the TTL: a restart lands between two ticks, and
   * the next tick may come at once, so counting only the TTL's ticks could end the lease up to a
   * tick early (the simulator's lease checker saw it: a new leader expired leases one tick short).
   */
  restart(id: LeaseId, ttlSeconds: number): void {
    this.#countdowns.set(id, { remainingTicks: this.ticksOf(ttlSeconds) + 1, ttlSeconds, expired: false })
  }

  forget(id: LeaseId): void {
    this.#countdowns.delete(id)
  }

  /** Stepping down: the next leader counts. */
  clear(): void {
    this.#countdowns.clear()
  }

  has(id: LeaseId): boolean {
    return this.#countdowns.has(id)
  }

  /** Whether the lease's countdown ran out (its revoke is proposed, and proposed again until it applies). */
  expired(id: LeaseId): boolean {
    return this.#countdowns.get(id)?.expired === true
  }

  remainingSeconds(id: LeaseId): number | null {
    const countdown = this.#countdowns.get(id)
    // The tick a restart added for the partial tick it landed in is no time the lease has left;
    // the takeover margin is a cushion for a deposed leader's renewals, not a longer lease: at
    // most the TTL is reported (as etcd does).
    if (countdown === undefined) return null
    return Math.min(countdown.ttlSeconds, Math.max(0, Math.ceil(((countdown.remainingTicks - 1) * this.#tickMs) / 1000)))
  }

  /** One tick; returns the leases whose TTL just ran out (or whose revoke is due again). */
  tick(): LeaseId[] {
    const expired: LeaseId[] = []
    for (const [id, countdown] of this.#countdowns) {
      countdown.remainingTicks -= 1
      if (countdown.remainingTicks > 0) continue
      expired.push(id)
      countdown.expired = true
      countdown.remainingTicks = this.#retryTicks
    }
    return expired
  }
}
