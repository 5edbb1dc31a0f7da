/**
 * Seeded lease holders: each grants a lease, attaches a key of its own to it, keeps it alive for
 * a while from random nodes (each keepalive goes to the leader, as every node forwards it), and
 * then either revokes it and reads its key back, or goes silent and lets the leader expire it.
 * Every request is retried until it has an answer (a grant and a revoke name their lease, so a
 * retry is harmless). What the lease-safety checker needs to know of the clients comes from here.
 */
import { randomBelow, randomChance, type Random } from '../../src/core/index.js'
import type { LeaseSafetyChecker } from './checkers/lease-safety.js'
import type { ClientCluster } from './sim-clients.js'
import type { SimReply, SimRequest } from './sim-server.js'

/** Op ids of lease requests: apart from the clients' (the history numbers those from 0). */
const opIdBase = 1_000_000_000

type Step =
  | Readonly<{ type: 'grant' }>
  | Readonly<{ type: 'attach' }>
  | Readonly<{ type: 'keep'; left: number }>
  | Readonly<{ type: 'revoke' }>
  | Readonly<{ type: 'read'; revokedAt: number }>
  | Readonly<{ type: 'silent'; until: number }>

export class SimLeaseHolder {
  readonly id: number
  readonly #random: Random
  readonly #checker: LeaseSafetyChecker
  readonly #timeoutTicks: number
  readonly #ttlSeconds: readonly [number, number]
  #leasesLeft: number
  #lease = 0
  #ttl = 0
  #step: Step | null = null
  #nextAt = 0
  /** The send whose answer is awaited (an answer to an older one is ignored), or null. */
  #waiting: Readonly<{ attempt: number; since: number }> | null = null
  #attempts = 0
  #stopped = false
  keepalivesAnswered = 0

  constructor(options: { id: number; random: Random; checker: LeaseSafetyChecker; timeoutTicks: number; ttlSeconds: readonly [number, number]; leases: number }) {
    this.id = options.id
    this.#random = options.random
    this.#checker = options.checker
    this.#timeoutTicks = options.timeoutTicks
    this.#ttlSeconds = options.ttlSeconds
    this.#leasesLeft = options.leases
  }

  /** The liveness phase: no new request (a holder's requests are not part of its budget). */
  stop(): void {
    this.#stopped = true
  }

  get #leaseId(): string {
    return String(this.id * 1000 + this.#lease)
  }

  get #key(): string {
    return `l${this.id}.${this.#lease}`
  }

  tick(cluster: ClientCluster): void {
    const now = cluster.now
    if (this.#stopped) return
    if (this.#waiting !== null) {
      if (now - this.#waiting.since <= this.#patienceTicks()) return
      this.#waiting = null // the node died with it, or its answer was lost: send it again
    }
    if (now < this.#nextAt) return
    this.#step ??= this.#nextLease()
    const step = this.#step
    if (step === null) return
    if (step.type === 'silent') {
      if (now >= step.until) this.#step = this.#nextLease()
      return
    }
    const nodes = cluster.upNodes()
    if (nodes.length === 0) return
    const node = nodes[randomBelow(this.#random, nodes.length)]!
    this.#attempts += 1
    const attempt = this.#attempts
    this.#waiting = { attempt, since: now }
    cluster.send(node, this.#request(step, attempt), now + this.#patienceTicks(), (reply) => this.#onReply(step, attempt, reply, cluster.now))
  }

  /**
   * How long an answer is awaited before the request goes out again: a keepalive is worth
   * something only within the TTL, so, as a real holder does, it is sent again well before then.
   */
  #patienceTicks(): number {
    return this.#step?.type === 'keep' ? Math.max(2, this.#ttl >> 2) : this.#timeoutTicks
  }

  #request(step: Step, attempt: number): SimRequest {
    const opId = opIdBase + this.id * 1_000_000 + attempt
    switch (step.type) {
      case 'grant':
        return { kind: 'lease-grant', opId, id: this.#leaseId, ttlSeconds: this.#ttl }
      case 'attach':
        // One key per attach, so that a late copy of an earlier try cannot attach the key again after the revoke.
        return { kind: 'write', opId, type: 'put', key: this.#key, value: `held by lease ${this.#leaseId}`, cas: null, idempotencyKey: `${this.#key}-attach`, lease: this.#leaseId }
      case 'keep':
        return { kind: 'keepalive', opId, id: this.#leaseId }
      case 'revoke':
        return { kind: 'lease-revoke', opId, id: this.#leaseId }
      case 'read':
        return { kind: 'read', opId, key: this.#key }
      case 'silent':
        throw new Error('a silent holder sends nothing')
    }
  }

  #onReply(step: Step, attempt: number, reply: SimReply, now: number): void {
    if (this.#waiting?.attempt !== attempt || this.#step !== step) return
    this.#waiting = null
    if (reply.type === 'overloaded' || reply.type === 'not_leader' || reply.type === 'unavailable' || reply.type === 'unknown') {
      this.#nextAt = now + 2 // try again: every request of a holder is safe to repeat
      return
    }
    const result = reply.type === 'applied' ? reply.result.type : null
    switch (step.type) {
      case 'grant':
        if (result === 'lease_granted') return this.#go({ type: 'attach' }, now)
        return this.#go(this.#nextLease(), now)
      case 'attach':
        // The lease may have expired meanwhile (a retried grant is slow): then start another.
        if (result === 'written') return this.#go({ type: 'keep', left: 2 + randomBelow(this.#random, 6) }, now)
        return this.#go(this.#nextLease(), now)
      case 'keep': {
        if (reply.type !== 'keepalive' || reply.ttlSeconds === null) return this.#go(this.#nextLease(), now) // it expired
        this.keepalivesAnswered += 1
        if (step.left > 1) return this.#go({ type: 'keep', left: step.left - 1 }, now, 1 + randomBelow(this.#random, Math.max(1, this.#ttl >> 1)))
        if (randomChance(this.#random, 1, 2)) return this.#go({ type: 'revoke' }, now)
        return this.#go({ type: 'silent', until: now + 3 * this.#ttl }, now)
      }
      case 'revoke':
        if (result === 'lease_revoked' || result === 'lease_not_found') return this.#go({ type: 'read', revokedAt: now }, now)
        return this.#go(this.#nextLease(), now)
      case 'read':
        if (reply.type === 'read') this.#checker.readAfterRevoke(this.#key, this.#leaseId, reply.value, now)
        return this.#go(this.#nextLease(), now)
      case 'silent':
        return
    }
  }

  #go(step: Step | null, now: number, afterTicks = 1): void {
    this.#step = step
    this.#nextAt = now + afterTicks
  }

  #nextLease(): Step | null {
    if (this.#leasesLeft === 0) return null
    this.#leasesLeft -= 1
    this.#lease += 1
    const [low, high] = this.#ttlSeconds
    this.#ttl = low + randomBelow(this.#random, high - low + 1)
    return { type: 'grant' }
  }
}
