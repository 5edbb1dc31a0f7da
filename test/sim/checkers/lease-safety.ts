/**
 * Lease safety, in ticks. (1) An expiry never comes early: a leader reports a lease expired
 * (and proposes its revoke) only once the lease's full TTL has passed, in ticks, since that
 * leader last (re)started its countdown by the rules: a grant it applied, a keepalive it served
 * after its read barrier, or its becoming leader (a new leader restarts every lease at the full
 * TTL). The TTL in ticks is counted here from the lease's TTL in seconds, not taken from the
 * timers under test. (2) A revoke leaves nothing behind: once a replica applied a lease's revoke,
 * no key is attached to it and the lease is gone; and a read that started after a client saw its
 * revoke acknowledged never sees a key that was attached to it.
 */

const reportedMax = 5

type Restart = Readonly<{ tick: number; ttlTicks: number; why: string }>

export class LeaseSafetyChecker {
  readonly violations: string[] = []
  readonly #ticksOf: (ttlSeconds: number) => number
  /** node → lease → the countdown's last (re)start on that node, while it leads. */
  readonly #restarts = new Map<number, Map<string, Restart>>()
  expiries = 0

  /** `ticksOf`: a TTL in seconds as ticks, rounded up (the production rate of the simulated clock). */
  constructor(ticksOf: (ttlSeconds: number) => number) {
    this.#ticksOf = ticksOf
  }

  /** The leader `node` (re)started the lease's countdown at `tick`: `why` is grant, keepalive or leader. */
  restarted(node: number, lease: string, ttlSeconds: number, tick: number, why: string): void {
    let leases = this.#restarts.get(node)
    if (leases === undefined) this.#restarts.set(node, (leases = new Map()))
    leases.set(lease, { tick, ttlTicks: this.#ticksOf(ttlSeconds), why })
  }

  /** Whether `node` counts down `lease` now (so a grant applied again does not restart it). */
  counts(node: number, lease: string): boolean {
    return this.#restarts.get(node)?.has(lease) === true
  }

  /** `node` applied the lease's revoke, or stopped leading, or crashed: it counts no more. */
  forgot(node: number, lease: string | null): void {
    if (lease === null) this.#restarts.delete(node)
    else this.#restarts.get(node)?.delete(lease)
  }

  /** The leader `node` reports `lease` expired at `tick` and proposes its revoke. */
  expired(node: number, lease: string, tick: number): void {
    this.expiries += 1
    const restart = this.#restarts.get(node)?.get(lease)
    if (restart === undefined) return this.#report(`node ${node} expired lease ${lease} at tick ${tick} without ever counting it down`)
    const elapsed = tick - restart.tick
    if (elapsed < restart.ttlTicks) this.#report(`node ${node} expired lease ${lease} at tick ${tick}, ${elapsed} ticks after its ${restart.why} at tick ${restart.tick}: its TTL is ${restart.ttlTicks} ticks`)
  }

  /**
   * A replica applied the lease's revoke: what of the lease is left there once the batch is
   * applied. The caller skips a revoke that a later command of the same batch undoes (a late copy
   * of the lease's grant: a grant is safe to retry only until the revoke).
   */
  revokeApplied(node: number, lease: string, keysLeft: number, leaseLeft: boolean, tick: number): void {
    if (keysLeft > 0 || leaseLeft) this.#report(`node ${node} applied the revoke of lease ${lease} at tick ${tick}, and ${keysLeft} keys are still attached to it${leaseLeft ? ', the lease itself too' : ''}`)
  }

  /** A read of `key`, attached to `lease`, started after the client saw the revoke acknowledged. */
  readAfterRevoke(key: string, lease: string, value: string | null, tick: number): void {
    if (value !== null) this.#report(`a read of ${key} at tick ${tick}, after the revoke of its lease ${lease} was acknowledged, saw ${JSON.stringify(value.slice(0, 40))}`)
  }

  #report(message: string): void {
    if (this.violations.length < reportedMax) this.violations.push(`lease-safety: ${message}`)
  }
}
