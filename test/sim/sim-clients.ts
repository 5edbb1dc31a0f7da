/**
 * Seeded closed-loop clients: put / delete / cas / linearizable get / stale get / txn on a few keys,
 * each put with a unique value, each request sent to a random live node (which forwards it to
 * the leader, as every node does). About half the writes carry an idempotency key and are
 * retried after an indeterminate answer (they must apply once); the rest give up and stay
 * indeterminate.
 */
import { randomBelow, randomChance, type NodeId, type Random } from '../../src/core/index.js'
import type { TxnOp, TxnSpec } from '../../src/kv/command.js'
import type { StateMachine, TxnResult } from '../../src/kv/state-machine.js'
import { txnWritesAny, type History, type Op, type OpResult, type SimTxn, type SimTxnOp } from './history.js'
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
  /** The value this client last saw for each key (null: absent), for the compares of its txns. */
  #lastValue = new Map<string, string | null>()
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
      case 'txn-read':
        this.#history.complete(request.op, now, simTxnResult(reply.result))
        return this.#finish(now)
      case 'applied': {
        const result = reply.result
        if (result.type === 'txn') {
          this.#history.complete(request.op, now, simTxnResult(result))
          return this.#finish(now)
        }
        // Never sent by these clients (each key names one request, no command carries a quota).
        if (result.type !== 'written' && result.type !== 'cas_mismatch') return this.#indeterminate(request, now)
        const version = result.revision
        if (result.type === 'written') this.#lastValue.set(request.op.key, request.op.kind === 'delete' ? null : request.op.value)
        if (result.type === 'written') this.#lastVersion.set(request.op.key, request.op.kind === 'delete' ? 0 : version)
        else this.#lastVersion.set(request.op.key, version)
        this.#history.complete(request.op, now, result.type === 'written' ? { type: 'written', version, deleted: result.deleted } : { type: 'cas_mismatch', version })
        return this.#finish(now)
      }
      case 'read':
        this.#lastValue.set(request.op.key, reply.value)
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
    const read = request.op.kind === 'get' || (request.op.txn !== undefined && !txnWritesAny(request.op.txn))
    if (read) return // a read had no effect: ask again
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
    if (roll >= 35 && roll < 45) return this.#txnRequest(now, key)
    if (roll < 10) return this.#request(now, { kind: 'stale-get', key, value: null, cas: null }, null)
    if (roll < 35) return this.#request(now, { kind: 'get', key, value: null, cas: null }, null)
    this.#writes += 1
    const idempotencyKey = randomChance(this.#random, 1, 2) ? `c${this.id}-w${this.#writes}` : null
    const cas = roll >= 75 ? (this.#lastVersion.get(key) ?? 0) : null
    if (roll < 50) return this.#request(now, { kind: 'delete', key, value: null, cas }, idempotencyKey)
    // Unique per write (the checkers need that), padded to the seed's value size.
    return this.#request(now, { kind: 'put', key, value: `c${this.id}v${this.#writes}-`.padEnd(this.#valueBytes, 'x'), cas }, idempotencyKey)
  }

  /**
   * A txn on `key` and another key (the same one when there is only one): a compare on the
   * value this client last saw there; a third of them only read, the rest write both keys when
   * the compare holds, and read one and delete the other when it does not.
   */
  #txnRequest(now: number, key: string): Request {
    const others = this.#keys.filter((candidate) => candidate !== key)
    const other = others.length === 0 ? key : others[randomBelow(this.#random, others.length)]!
    const compare = { key, value: this.#lastValue.get(key) ?? null }
    let txn: SimTxn
    if (randomChance(this.#random, 1, 3)) {
      txn = { compare, success: [{ type: 'get', key }, { type: 'get', key: other }], failure: [{ type: 'get', key: other }] }
    } else {
      this.#writes += 1
      const value = (which: string) => `c${this.id}v${this.#writes}${which}`
      const puts: SimTxnOp[] = other === key ? [{ type: 'put', key, value: value('a') }] : [{ type: 'put', key, value: value('a') }, { type: 'put', key: other, value: value('b') }]
      txn = { compare, success: puts, failure: other === key ? [{ type: 'delete', key }] : [{ type: 'get', key }, { type: 'delete', key: other }] }
    }
    const idempotencyKey = txnWritesAny(txn) && randomChance(this.#random, 1, 2) ? `c${this.id}-w${this.#writes}` : null
    const op = this.#history.invoke({ client: this.id, invokeTick: now, kind: 'txn', key, value: null, cas: null, txn })
    return { op, idempotencyKey, attempt: 0, waitingSince: null, retryAt: now }
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
    const simRequest: SimRequest = op.txn !== undefined
      ? { kind: 'txn', opId: op.id, txn: txnSpec(op.txn), idempotencyKey: request.idempotencyKey }
      : op.kind === 'get'
        ? { kind: 'read', opId: op.id, key: op.key }
        : { kind: 'write', opId: op.id, type: op.kind as 'put' | 'delete', key: op.key, value: op.value, cas: op.cas, idempotencyKey: request.idempotencyKey }
    const attempt = request.attempt
    request.waitingSince = cluster.now
    // The node gives up a little before the client does, so an answer usually arrives.
    const deadline = cluster.now + Math.floor((this.#timeoutTicks * 3) / 4)
    cluster.send(node, simRequest, deadline, (reply) => this.#onReply(request, attempt, reply, cluster.now))
  }
}

const base64 = (text: string) => Buffer.from(text).toString('base64')

/** The txn as the API takes it: a value compare, or createRevision 0 for "absent". */
function txnSpec(txn: SimTxn): TxnSpec {
  const op = (simOp: SimTxnOp): TxnOp => (simOp.type === 'put' ? { type: 'put', key: simOp.key, value: base64(simOp.value), lease: null } : simOp)
  const { key, value } = txn.compare
  return {
    compare: [value === null ? { key, target: 'createRevision', op: '=', value: 0 } : { key, target: 'value', op: '=', value: base64(value) }],
    success: txn.success.map(op),
    failure: txn.failure.map(op),
  }
}

/** What the client saw of a txn's answer; a replayed retry's reads are unknown. */
function simTxnResult(result: TxnResult): OpResult {
  const results = result.results.map((op) => {
    switch (op.type) {
      case 'put':
        return { type: 'put' as const, version: op.revision as number }
      case 'delete':
        return { type: 'delete' as const, deleted: op.deleted }
      case 'get':
        return { type: 'get' as const, value: op.item === null ? null : Buffer.from(op.item.value).toString(), version: (op.item?.version ?? 0) as number }
      case 'list':
      case 'not_kept':
        return { type: 'unknown' as const }
    }
  })
  return { type: 'txn', succeeded: result.succeeded, revision: result.revision, results }
}

/** A key's value and version as a client sees them; an absent key reads as null at version 0. */
export function readState(stateMachine: StateMachine, key: string): { value: string | null; version: number } {
  const item = stateMachine.get(key)
  return item === null ? { value: null, version: 0 } : { value: Buffer.from(item.value).toString(), version: item.version as number }
}
