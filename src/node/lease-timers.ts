/**
 * The leader's lease clock, in ticks: one countdown per lease, restarted at the full TTL by a
 * grant or a keepalive, and by the node becoming leader (a leader change never ends a lease
 * early). A countdown that reaches zero is reported once as expired, for the node to propose its
 * revoke; if that revoke does not take effect, the lease is reported again after `retryTicks`.
 * Pure: the node drives `tick()` from the ticks of its event loop; nothing here reads a clock.
 * @module
 */
import { assert } from '../core/assert.js'
import type { LeaseId } from '../core/ids.js'

/** `expired`: reported, its revoke proposed; only a new leader's restart brings it back. */
type Countdown = { remainingTicks: number; ttlSeconds: number; expired: boolean }

export class LeaseTimers {
  readonly #tickMs: number
  readonly #retryTicks: number
  readonly #countdowns = new Map<LeaseId, Countdown>()

  constructor(options: Readonly<{ tickMs: number; retryTicks: number }>) {
    assert(options.tickMs > 0 && options.retryTicks >= 1, 'lease timers need a tick and a retry')
    this.#tickMs = options.tickMs
    this.#retryTicks = options.retryTicks
  }

  /** Ticks in `ttlSeconds`, rounded up: a lease never ends before its TTL. */
  ticksOf(ttlSeconds: number): number {
    return Math.ceil((ttlSeconds * 1000) / this.#tickMs)
  }

  /** Becoming leader: every lease the state holds starts over at its full TTL. */
  restartAll(leases: Iterable<readonly [LeaseId, number]>): void {
    this.#countdowns.clear()
    for (const [id, ttlSeconds] of leases) this.restart(id, ttlSeconds)
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
    // The tick a restart added for the partial tick it landed in is no time the lease has left.
    return countdown === undefined ? null : Math.max(0, Math.ceil(((countdown.remainingTicks - 1) * this.#tickMs) / 1000))
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
