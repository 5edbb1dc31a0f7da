/**
 * The leader's side of leases, as one value the node and the simulator both drive: countdowns
 * (LeaseTimers) that follow the applied grants and revokes, restart at the full TTL on a
 * keepalive and (with the takeover margin) on becoming leader, are dropped on stepping down, and name the leases whose
 * revoke the leader must propose. Pure and tick-driven: the caller says when it leads, ticks it,
 * and proposes the revokes.
 * @module
 */
import { isCoreEntry } from '../core/command.js'
import { leaseId, type LeaseId } from '../core/ids.js'
import type { ChosenEntry } from '../core/messages.js'
import type { WriteCommand } from '../kv/command.js'
import type { LeaseTimers } from './lease-timers.js'

/**
 * A keepalive's answer: renewed (the full TTL again), the lease gone or ending, or too late: its
 * read barrier took longer than the takeover margin, so a new leader may have restarted the
 * countdown too early to honour a renewal given now (the client tries again).
 */
export type KeepaliveOutcome =
  | Readonly<{ type: 'renewed'; ttlSeconds: number }>
  | Readonly<{ type: 'gone' }>
  | Readonly<{ type: 'late' }>

/** What the keeper reads of the state machine's leases. */
export type LeaseState = Readonly<{
  lease: (id: LeaseId) => Readonly<{ ttlSeconds: number }> | null
  leases: () => Iterable<readonly [LeaseId, number]>
}>

export class LeaseKeeper {
  readonly #timers: LeaseTimers
  readonly #state: LeaseState

  constructor(timers: LeaseTimers, state: LeaseState) {
    this.#timers = timers
    this.#state = state
  }

  /** Becoming leader: every lease the state holds starts over at its full TTL. */
  becameLeader(): void {
    this.#timers.restartAll(this.#state.leases())
  }

  /** Stepping down: the next leader counts. */
  steppedDown(): void {
    this.#timers.clear()
  }

  /**
   * Leader only, after a snapshot replaced the state (a leader behind its peers installs one): a
   * lease the snapshot brought gets a countdown, as a grant would (the simulator's liveness
   * checker saw such a lease outlive the whole liveness phase); one it dropped is forgotten when
   * its countdown runs out, as any lease that is gone.
   */
  installed(): void {
    for (const [id, ttlSeconds] of this.#state.leases()) if (!this.#timers.has(id)) this.#timers.start(id, ttlSeconds)
  }

  /** Leader only, after `entries` were applied: countdowns for new grants, none for revoked leases. */
  applied(entries: readonly ChosenEntry<WriteCommand>[]): void {
    for (const entry of entries) {
      for (const command of entry.value) {
        if (isCoreEntry(command)) continue
        if (command.type === 'lease-revoke') this.#timers.forget(leaseId(command.id))
        if (command.type !== 'lease-grant') continue
        const id = leaseId(command.id)
        const lease = this.#state.lease(id)
        if (lease !== null && !this.#timers.has(id)) this.#timers.start(id, lease.ttlSeconds)
      }
    }
  }

  /**
   * Leader only, after a read barrier that took `barrierMs` (real time, from before the read was
   * asked for to its confirmation): restarts the lease's countdown. The barrier proves this node
   * led when its round began, not now: a new leader can take over only after the round's
   * acknowledgements (its quorum's promises come later), and restarts every countdown then, at
   * the full TTL and the takeover margin. So a renewal given within the margin of the barrier's
   * start lasts its full TTL under the new leader too, and a later one is refused as late.
   * A lease whose countdown ran out is ending: its revoke is proposed and will delete its keys,
   * so a renewal would be a promise the revoke breaks (etcd makes such a keepalive wait for the
   * revoke, then answers that the lease is not found).
   */
  keepalive(id: LeaseId, barrierMs: number): KeepaliveOutcome {
    const lease = this.#state.lease(id)
    if (lease === null || this.#timers.expired(id)) return { type: 'gone' }
    if (barrierMs > this.#timers.takeoverMs) return { type: 'late' }
    this.#timers.restart(id, lease.ttlSeconds)
    return { type: 'renewed', ttlSeconds: lease.ttlSeconds }
  }

  remainingSeconds(id: LeaseId): number | null {
    return this.#timers.remainingSeconds(id)
  }

  /** Leader only, one tick of the lease clock: the leases that expired, whose revoke to propose now. */
  tick(): LeaseId[] {
    const expired: LeaseId[] = []
    for (const id of this.#timers.tick()) {
      if (this.#state.lease(id) === null) this.#timers.forget(id)
      else expired.push(id)
    }
    return expired
  }
}
