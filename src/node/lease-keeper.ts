/**
 * The leader's side of leases, as one value the node and the simulator both drive: countdowns
 * (LeaseTimers) that follow the applied grants and revokes, restart at the full TTL on a
 * keepalive and (with the takeover margin) on becoming leader, are dropped on stepping down, and name the leases whose
 * revoke the leader must propose. A new leader first has its lease epoch marker chosen and
 * applied (src/kv/leases.ts says why): until then it serves no keepalive and proposes no expiry.
 * Pure and tick-driven: the caller says when it leads (and at which ballot), ticks it, and
 * proposes what the ticks name.
 * @module
 */
import { assert } from '../core/assert.js'
import { compareBallots, type Ballot } from '../core/ballot.js'
import { isCoreEntry } from '../core/command.js'
import { leaseId, type LeaseId } from '../core/ids.js'
import type { ChosenEntry } from '../core/messages.js'
import type { WriteCommand } from '../kv/command.js'
import type { AppliedWrite } from '../kv/state-machine.js'
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
  /** A new leader whose epoch marker is not applied yet: it cannot tell yet (the client tries again). */
  | Readonly<{ type: 'taking-over' }>

/** What the keeper reads of the state machine's leases. */
export type LeaseState = Readonly<{
  lease: (id: LeaseId) => Readonly<{ ttlSeconds: number }> | null
  leases: () => Iterable<readonly [LeaseId, number]>
  /** The ballot of the newest leader whose epoch marker is applied. */
  leaseEpoch: () => Ballot
}>

/**
 * What the leader proposes for no client: its epoch marker, or the revoke of a lease whose TTL
 * ran out, carrying the ballot it decided that at (the state machine ignores it once a newer
 * leader's marker is applied). The caller adds the proposal fields.
 */
export type LeaseProposal =
  | Readonly<{ type: 'lease-epoch'; ballot: Ballot }>
  | Readonly<{ type: 'lease-revoke'; id: LeaseId; expiryBallot: Ballot }>

export class LeaseKeeper {
  readonly #timers: LeaseTimers
  readonly #state: LeaseState
  /** The ballot this node leads at; null while it does not lead. */
  #ballot: Ballot | null = null
  /** Ticks until the marker is proposed (again), while it is not applied. */
  #markerInTicks = 0
  /** Leases whose countdown ran out before the marker applied: their revokes wait for it. */
  readonly #held = new Set<LeaseId>()

  constructor(timers: LeaseTimers, state: LeaseState) {
    this.#timers = timers
    this.#state = state
  }

  /**
   * Becoming leader at `ballot`: every lease the state holds starts over at its full TTL, and the
   * next tick proposes the epoch marker.
   */
  becameLeader(ballot: Ballot): void {
    this.#ballot = ballot
    this.#markerInTicks = 0
    this.#held.clear()
    this.#timers.restartAll(this.#state.leases())
  }

  /** Stepping down: the next leader counts. */
  steppedDown(): void {
    this.#ballot = null
    this.#held.clear()
    this.#timers.clear()
  }

  /**
   * Whether this leader's epoch marker is applied (and no newer leader's): only then does it
   * renew leases and propose expiries. Every slot before the marker is applied by then, so an
   * older leader's expiry chosen there has ended its lease already; one chosen after it is stale.
   */
  serving(): boolean {
    return this.#ballot !== null && compareBallots(this.#state.leaseEpoch(), this.#ballot) === 0
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

  /**
   * Leader only, after `entries` were applied with `results` (one per command, in order):
   * countdowns for new grants, none for revoked leases. An expiry the state machine ignored as
   * stale revoked nothing: the lease keeps its countdown, and expires by it.
   */
  applied(entries: readonly ChosenEntry<WriteCommand>[], results: readonly AppliedWrite[]): void {
    const commands = entries.flatMap((entry) => entry.value.flatMap((command) => (isCoreEntry(command) ? [] : [command])))
    assert(commands.length === results.length, `${commands.length} commands applied with ${results.length} results`)
    for (const [index, command] of commands.entries()) {
      if (command.type === 'lease-revoke' && results[index]!.result.type !== 'lease_expiry_stale') this.#timers.forget(leaseId(command.id))
      if (command.type !== 'lease-grant') continue
      const id = leaseId(command.id)
      const lease = this.#state.lease(id)
      if (lease !== null && !this.#timers.has(id)) this.#timers.start(id, lease.ttlSeconds)
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
    if (!this.serving()) return { type: 'taking-over' }
    const lease = this.#state.lease(id)
    if (lease === null || this.#timers.expired(id)) return { type: 'gone' }
    if (barrierMs > this.#timers.takeoverMs) return { type: 'late' }
    this.#timers.restart(id, lease.ttlSeconds)
    return { type: 'renewed', ttlSeconds: lease.ttlSeconds }
  }

  remainingSeconds(id: LeaseId): number | null {
    return this.#timers.remainingSeconds(id)
  }

  /**
   * Leader only, one tick of the lease clock: what to propose now. Before the marker applies,
   * the marker (again every retry interval, as a proposal can be dropped); the countdowns run
   * from the takeover all the same, and those that run out meanwhile wait for it. Then the
   * revokes of the leases that expired.
   */
  tick(): LeaseProposal[] {
    const ballot = this.#ballot
    if (ballot === null) return []
    const expired = this.#timers.tick()
    if (!this.serving()) {
      for (const id of expired) this.#held.add(id)
      if (this.#markerInTicks > 0) {
        this.#markerInTicks -= 1
        return []
      }
      this.#markerInTicks = this.#timers.retryTicks
      return [{ type: 'lease-epoch', ballot }]
    }
    // A held lease whose countdown started over meanwhile (revoked and granted again) is not due.
    const due = new Set([...[...this.#held].filter((id) => this.#timers.expired(id)), ...expired])
    this.#held.clear()
    const revokes: LeaseProposal[] = []
    for (const id of due) {
      if (this.#state.lease(id) === null) this.#timers.forget(id)
      else revokes.push({ type: 'lease-revoke', id, expiryBallot: ballot })
    }
    return revokes
  }
}
