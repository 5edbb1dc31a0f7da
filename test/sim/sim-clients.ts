/**
 * Seeded closed-loop clients: put / delete / cas / linearizable get / stale get on a few keys,
 * each put with a unique value, each request sent to a random live node (which forwards it to
 * the leader, as every node does). About half the writes carry an idempotency key and are
 * retried after an indeterminate answer (they must apply once); the rest give up and stay
 * indeterminate.
 */
import { randomBelow, randomChance, type NodeId, type Random } from '../../src/core/index.js'
import type { StateMachine } from '../../src/kv/state-machine.js'
import type { History, Op } from './history.js'
import type { SimReply, SimRequest } from './sim-server.js'

export interface ClientCluster {
  readonly now: number
  upNodes(): NodeId[]
  /** Sends `request` to `node`'s server, which answers by `deadline` unless it dies first. */
  send(node: NodeId, request: SimRequest, deadline: number, reply: (reply: SimReply) => void): void
  /** A read of `node`'s state machine as it is now, with no quorum round. */
  staleRead(node: NodeId, key: string): Readonly<{ value: string | null; version: number }>
}

type Request = {
  readonly op: Op
  readonly idempotencyKey: string | null
  /** Counts sends; an answer to an earlier send is ignored. */
  attempt: number
  waitingSince: number | null
  retryAt: number
}

export class SimClient {
  readonly id: number
  readonly #random: Random
  readonly #history: History
  readonly #keys: readonly string[]
  readonly #timeoutTicks: number
  readonly #valueBytes: number
  #thinkTicksMax: number
  #remaining: number
  #current: Request | null = null
  #nextAt = 0
  #writes = 0
  #lastVersion = new Map<string, number>()
  /** Final reads queued for the liveness phase. */
  #finalReads: string[] = []

  constructor(options: { id: number; random: Random; history: History; keys: readonly string[]; requests: number; timeoutTicks: number; thinkTicksMax: number; valueBytes: number }) {
    this.id = options.id
    this.#random = options.random
    this.#history = options.history
    this.#keys = options.keys
    this.#remaining = options.requests
    this.#timeoutTicks = options.timeoutTicks
    this.#valueBytes = options.valueBytes
    this.#thinkTicksMax = options.thinkTicksMax
  }

  get idle(): boolean {
    return this.#current === null && this.#remaining === 0 && this.#finalReads.length === 0
  }

  /** Requests this client has yet to issue (its final reads included). */
  get unissued(): number {
    return this.#remaining + this.#finalReads.length
  }

  get pendingOp(): Op | null {
    return this.#current?.op ?? null
  }

  /**
   * The liveness phase: the rest of the requests, then a read of every key, back to back, so the
   * tick budget measures the cluster's progress and not the clients' think time.
   */
  enterLiveness(): void {
    this.#finalReads = [...this.#keys]
    this.#thinkTicksMax = 2
  }

  tick(cluster: ClientCluster): void {
    const now = cluster.now
    if (this.#current === null) {
      if (now < this.#nextAt) return
      const next = this.#nextRequest(now)
      if (next === null) return
      this.#current = next
    }
    const request = this.#current
    // The node died with the request (or its answer was lost): nothing more will come.
    if (request.waitingSince !== null && now - request.waitingSince > this.#timeoutTicks) this.#indeterminate(request, now)
    if (this.#current === request && request.waitingSince === null && now >= request.retryAt) this.#send(cluster, request)
  }

  #onReply(request: Request, attempt: number, reply: SimReply, now: number): void {
    if (this.#current !== request || request.attempt !== attempt) return
    request.waitingSince = null
    switch (reply.type) {
      case 'applied': {
        const result = reply.result
        // Never sent by these clients (each key names one request, no command carries a quota).
        if (result.type === 'idempotency_key_reused' || result.type === 'records_full' || result.type === 'quota_exceeded') return this.#indeterminate(request, now)
        const version = result.revision
        if (result.type === 'written') this.#lastVersion.set(request.op.key, request.op.kind === 'delete' ? 0 : version)
        else this.#lastVersion.set(request.op.key, version)
        this.#history.complete(request.op, now, result.type === 'written' ? { type: 'written', version, deleted: result.deleted } : { type: 'cas_mismatch', version })
        return this.#finish(now)
      }
      case 'read':
        this.#history.complete(request.op, now, { type: 'read', value: reply.value, version: reply.version })
        return this.#finish(now)
      case 'overloaded':
        request.retryAt = now + 5 // nothing was proposed: try again
        return
      case 'not_leader':
      case 'unavailable':
      case 'unknown':
        return this.#indeterminate(request, now)
    }
  }

  #finish(now: number): void {
    this.#current = null
    this.#nextAt = now + 1 + randomBelow(this.#random, this.#thinkTicksMax)
  }

  /** A 503 or no answer: as a client of the real API must, assume the write may have applied. */
  #indeterminate(request: Request, now: number): void {
    request.waitingSince = null
    request.attempt += 1
    request.retryAt = now + 1 + randomBelow(this.#random, 3)
    if (request.op.kind === 'get') return // a read had no effect: ask again
    if (request.idempotencyKey !== null) return // retried with the same key: applies at most once
    this.#current = null // gives up: the write stays indeterminate in the history
    this.#nextAt = now + 1
  }

  #nextRequest(now: number): Request | null {
    const finalKey = this.#remaining === 0 ? this.#finalReads.shift() : undefined
    if (this.#remaining === 0 && finalKey === undefined) return null
    if (finalKey !== undefined) return this.#request(now, { kind: 'get', key: finalKey, value: null, cas: null }, null)
    this.#remaining -= 1
    const key = this.#keys[randomBelow(this.#random, this.#keys.length)]!
    const roll = randomBelow(this.#random, 100)
    if (roll < 10) return this.#request(now, { kind: 'stale-get', key, value: null, cas: null }, null)
    if (roll < 35) return this.#request(now, { kind: 'get', key, value: null, cas: null }, null)
    this.#writes += 1
    const idempotencyKey = randomChance(this.#random, 1, 2) ? `c${this.id}-w${this.#writes}` : null
    const cas = roll >= 75 ? (this.#lastVersion.get(key) ?? 0) : null
    if (roll < 50) return this.#request(now, { kind: 'delete', key, value: null, cas }, idempotencyKey)
    // Unique per write (the checkers need that), padded to the seed's value size.
    return this.#request(now, { kind: 'put', key, value: `c${this.id}v${this.#writes}-`.padEnd(this.#valueBytes, 'x'), cas }, idempotencyKey)
  }

  #request(now: number, fields: Pick<Op, 'kind' | 'key' | 'value' | 'cas'>, idempotencyKey: string | null): Request {
    const op = this.#history.invoke({ client: this.id, invokeTick: now, ...fields })
    return { op, idempotencyKey, attempt: 0, waitingSince: null, retryAt: now }
  }

  #send(cluster: ClientCluster, request: Request): void {
    const up = cluster.upNodes()
    if (up.length === 0) return void (request.retryAt = cluster.now + 5)
    const node = up[randomBelow(this.#random, up.length)]!
    const op = request.op
    if (op.kind === 'stale-get') {
      // Any live node answers at once from its own state: no leader, no waiting.
      this.#history.complete(op, cluster.now, { type: 'read', ...cluster.staleRead(node, op.key) })
      return this.#finish(cluster.now)
    }
    const simRequest: SimRequest = op.kind === 'get'
      ? { kind: 'read', opId: op.id, key: op.key }
      : { kind: 'write', opId: op.id, type: op.kind, key: op.key, value: op.value, cas: op.cas, idempotencyKey: request.idempotencyKey }
    const attempt = request.attempt
    request.waitingSince = cluster.now
    // The node gives up a little before the client does, so an answer usually arrives.
    const deadline = cluster.now + Math.floor((this.#timeoutTicks * 3) / 4)
    cluster.send(node, simRequest, deadline, (reply) => this.#onReply(request, attempt, reply, cluster.now))
  }
}

/** A key's value and version as a client sees them; an absent key reads as null at version 0. */
export function readState(stateMachine: StateMachine, key: string): { value: string | null; version: number } {
  const item = stateMachine.get(key)
  return item === null ? { value: null, version: 0 } : { value: Buffer.from(item.value).toString(), version: item.version as number }
}
