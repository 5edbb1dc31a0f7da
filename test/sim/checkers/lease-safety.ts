/**
 * Lease safety, in ticks. (1) An expiry never comes early: a leader reports a lease expired
 * (and proposes its revoke) only once the lease's full TTL has passed, in ticks, since that
 * leader last (re)started its countdown by the rules: a grant it applied, a keepalive it served
 * after its read barrier, or its becoming leader (a new leader restarts every lease at the full
 * TTL). The TTL in ticks is counted here from the lease's TTL in seconds, not taken from the
 * timers under test. (2) A renewal is honoured: an expiry deletes the lease's keys (its revoke
 * is first applied, on any replica) a full TTL or more after the last keepalive acknowledged for
 * that lease by the leader that decided the expiry or by an older one: a deposed leader's late
 * acknowledgement, which rule 1 cannot see as the new leader never heard of it, and one given
 * after the leader had decided the expiry, included. Ticks here are the simulator's, which no
 * node's clock outruns. An expiry decided by a leader older than the one that acknowledged the
 * keepalive fails too: a deposed leader's revoke that a minority accepted can be chosen later,
 * through a newer leader's recovery, after a leader in between renewed the lease, and the lease
 * epoch (src/kv/leases.ts) is what must make such a revoke change nothing. (3) A revoke leaves nothing behind: once a replica applied a lease's revoke, no key is
 * attached to it and the lease is gone; and a read that started after a client saw its revoke
 * acknowledged never sees a key that was attached to it.
 */
import { formatBallot, type Ballot } from '../../../src/core/index.js'

const reportedMax = 5

type Restart = Readonly<{ tick: number; ttlTicks: number; why: string }>
type Acknowledged = Readonly<{ node: number; ballot: Ballot; tick: number; ttlTicks: number }>
type Expiry = Readonly<{ node: number; ballot: Ballot; decidedAt: number; appliedAt: number }>

/**
 * Where a write sits in the log: its slot, and its place among the slot's writes. The slot alone
 * cannot order a lease's lives: one batch can hold the revoke that ends one and a retried grant
 * of the same id that begins the next.
 */
export type LogPosition = Readonly<{ slot: number; write: number }>

function isBefore(a: LogPosition, b: LogPosition): boolean {
  return a.slot < b.slot || (a.slot === b.slot && a.write < b.write)
}

export class LeaseSafetyChecker {
  readonly violations: string[] = []
  readonly #ticksOf: (ttlSeconds: number) => number
  /** node → lease → the countdown's last (re)start on that node, while it leads. */
  readonly #restarts = new Map<number, Map<string, Restart>>()
  /** lease → the latest keepalive any node acknowledged for it. */
  readonly #acknowledged = new Map<string, Acknowledged>()
  /** lease → the expiry that ended it (the leader's decision, and when its revoke first applied). */
  readonly #ended = new Map<string, Expiry>()
  readonly #dishonoured = new Set<string>()
  /** lease → where the grant that began its current life sits in the log: an id is free again once revoked. */
  readonly #grants = new Map<string, LogPosition>()
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
   * A replica applied a grant of `lease` at `at`: a new life of the id begins if the grant
   * `created` the lease, unless that grant or a later one began it already (replicas apply the
   * same slots at different ticks, and a restarted one applies them again). A grant that found
   * its lease there (a retried copy), or a retry answered from its record, begins nothing: it
   * must not wipe the renewals that the life it met was given.
   */
  granted(lease: string, at: LogPosition, created: boolean): void {
    if (!created) return
    const current = this.#grants.get(lease)
    if (current !== undefined && !isBefore(current, at)) return
    this.#grants.set(lease, at)
    this.#acknowledged.delete(lease)
    this.#ended.delete(lease)
    this.#dishonoured.delete(lease)
  }

  /** `node`, leading at `ballot`, answered a keepalive of `lease` at `tick`: its client was told the full TTL again. */
  acknowledged(node: number, ballot: Ballot, lease: string, ttlSeconds: number, tick: number): void {
    const latest = this.#acknowledged.get(lease)
    if (latest === undefined || latest.tick <= tick) this.#acknowledged.set(lease, { node, ballot, tick, ttlTicks: this.#ticksOf(ttlSeconds) })
    this.#honoured(lease)
  }

  /**
   * The revoke that `node`, leading at `ballot`, proposed at `decidedAt` for an expiry, applied at
   * `at` in the log, at `tick`: the lease ended then, unless the revoke comes before the grant of
   * its current life (a replica that applies it later, after a grant in the same batch or a later
   * slot, applies the end of an earlier life).
   */
  expiryApplied(expiry: Readonly<{ node: number; ballot: Ballot; decidedAt: number }>, lease: string, at: LogPosition, tick: number): void {
    const grant = this.#grants.get(lease)
    if (this.#ended.has(lease) || (grant !== undefined && isBefore(at, grant))) return
    this.#ended.set(lease, { ...expiry, appliedAt: tick })
    this.#honoured(lease)
  }

  #honoured(lease: string): void {
    const ack = this.#acknowledged.get(lease)
    const expiry = this.#ended.get(lease)
    if (ack === undefined || expiry === undefined || expiry.appliedAt >= ack.tick + ack.ttlTicks || this.#dishonoured.has(lease)) return
    this.#dishonoured.add(lease)
    this.#report(`the expiry of lease ${lease} that node ${expiry.node} decided at tick ${expiry.decidedAt} (ballot ${formatBallot(expiry.ballot)}) deleted its keys at tick ${expiry.appliedAt}, ${expiry.appliedAt - ack.tick} ticks after node ${ack.node} acknowledged a keepalive of it at tick ${ack.tick} (ballot ${formatBallot(ack.ballot)}): its TTL is ${ack.ttlTicks} ticks`)
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
