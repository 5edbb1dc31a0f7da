/**
 * Seeded closed-loop clients: put / delete / cas / linearizable get / stale get on a few keys,
 * each put with a unique value, following not_leader hints. About half the writes carry an
 * idempotency key and are retried after a timeout (they must apply once); the rest give up and
 * stay indeterminate.
 */
import { randomBelow, randomChance, revision, type NodeId, type Random, type WriteCommand } from '../../src/core/index.js'
import type { ApplyResult, StateMachine } from '../../src/state-machine/state-machine.js'
import type { History, Op } from './history.js'

export interface ClientCluster {
  readonly now: number
  upNodes(): NodeId[]
  propose(node: NodeId, command: WriteCommand): 'proposed' | 'overloaded' | Readonly<{ leader: NodeId | null }>
  read(node: NodeId, id: number): 'reading' | 'overloaded' | Readonly<{ leader: NodeId | null }>
  /** A read of `node`'s state machine as it is now, with no quorum round. */
  staleRead(node: NodeId, key: string): Readonly<{ value: string | null; version: number }>
}

type Request = {
  readonly op: Op
  readonly idempotencyKey: string | null
  proposals: Set<string>
  readId: number | null
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
  #guess: NodeId | null = null
  #writes = 0
  #attempts = 0
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
    if (request.waitingSince !== null && now - request.waitingSince > this.#timeoutTicks) this.#onTimeout(request, now)
    if (this.#current === request && request.waitingSince === null && now >= request.retryAt) this.#send(cluster, request)
  }

  onApplied(proposal: string, result: ApplyResult, now: number): void {
    const request = this.#current
    if (request === null || !request.proposals.has(proposal)) return
    const version = result.revision
    if (result.type === 'written') this.#lastVersion.set(request.op.key, request.op.kind === 'delete' ? 0 : version)
    else this.#lastVersion.set(request.op.key, version)
    this.#history.complete(request.op, now, result.type === 'written'
      ? { type: 'written', version, deleted: result.deleted }
      : { type: 'cas_mismatch', version })
    this.#finish(now)
  }

  onDropped(proposal: string): void {
    const request = this.#current
    if (request === null || !request.proposals.has(proposal)) return
    request.waitingSince = null // never got a slot: safe to send again
  }

  /** A read is served from the node's state machine at the moment the core releases it. */
  onRead(readId: number, outcome: 'ready' | 'not_leader', now: number, stateMachine: StateMachine): void {
    const request = this.#current
    if (request === null || request.readId !== readId) return
    if (outcome === 'not_leader') {
      request.waitingSince = null
      request.retryAt = now + 2
      return
    }
    this.#history.complete(request.op, now, { type: 'read', ...readState(stateMachine, request.op.key) })
    this.#finish(now)
  }

  #finish(now: number): void {
    this.#current = null
    this.#nextAt = now + 1 + randomBelow(this.#random, this.#thinkTicksMax)
  }

  #onTimeout(request: Request, now: number): void {
    request.waitingSince = null
    this.#guess = null
    if (request.op.kind === 'get') {
      request.readId = null // an unanswered read had no effect: ask again
      return
    }
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
    return { op, idempotencyKey, proposals: new Set(), readId: null, waitingSince: null, retryAt: now }
  }

  #send(cluster: ClientCluster, request: Request): void {
    const up = cluster.upNodes()
    if (up.length === 0) return void (request.retryAt = cluster.now + 5)
    if (request.op.kind === 'stale-get') {
      // Any live node answers at once from its own state: no leader, no waiting.
      const node = up[randomBelow(this.#random, up.length)]!
      this.#history.complete(request.op, cluster.now, { type: 'read', ...cluster.staleRead(node, request.op.key) })
      return this.#finish(cluster.now)
    }
    const node = this.#guess !== null && up.includes(this.#guess) ? this.#guess : up[randomBelow(this.#random, up.length)]!
    const outcome = request.op.kind === 'get' ? this.#sendRead(cluster, node, request) : this.#sendWrite(cluster, node, request)
    if (outcome === 'proposed' || outcome === 'reading') {
      this.#guess = node
      request.waitingSince = cluster.now
    } else if (outcome === 'overloaded') {
      request.retryAt = cluster.now + 5
    } else {
      this.#guess = outcome.leader
      request.retryAt = cluster.now + 1 + randomBelow(this.#random, 3)
    }
  }

  #sendWrite(cluster: ClientCluster, node: NodeId, request: Request): ReturnType<ClientCluster['propose']> {
    this.#attempts += 1
    const op = request.op
    const base = {
      proposal: `c${this.id}-a${this.#attempts}`,
      key: op.key,
      cas: op.cas === null ? null : revision(op.cas),
      idempotency: request.idempotencyKey === null ? null : { key: request.idempotencyKey, atMs: op.invokeTick },
    }
    const command: WriteCommand = op.kind === 'put' ? { type: 'put', value: Buffer.from(op.value!).toString('base64'), ...base } : { type: 'delete', ...base }
    request.proposals.add(command.proposal)
    return cluster.propose(node, command)
  }

  #sendRead(cluster: ClientCluster, node: NodeId, request: Request): ReturnType<ClientCluster['read']> {
    this.#attempts += 1
    request.readId = this.id * 1_000_000 + this.#attempts
    return cluster.read(node, request.readId)
  }
}

/** A key's value and version as a client sees them; an absent key reads as null at version 0. */
export function readState(stateMachine: StateMachine, key: string): { value: string | null; version: number } {
  const item = stateMachine.get(key)
  return item === null ? { value: null, version: 0 } : { value: Buffer.from(item.value).toString(), version: item.version as number }
}
