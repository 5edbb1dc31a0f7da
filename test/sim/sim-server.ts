/**
 * One node's HTTP server, as the simulator models it: client requests come in, and the node
 * proposes or reads locally, or forwards to the leader, by the production ForwardPolicy. A
 * forwarded request is answered over the lossy SimRpc; a crash of the target resets the
 * connection (the outcome is unknown to the forwarder). The server is volatile: a crash of its
 * node ends every request it was handling, with no answer.
 */
import { assert, revision, type NodeId, type Replica } from '../../src/core/index.js'
import { type RequestId, type WriteCommand } from '../../src/kv/command.js'
import { ForwardPolicy, type AttemptOutcome, type NextStep } from '../../src/server/forward-policy.js'
import type { ApplyResult, StateMachine, TxnResult } from '../../src/kv/state-machine.js'
import { txnWrites } from '../../src/kv/txn-rules.js'
import type { TxnSpec } from '../../src/kv/command.js'
import type { KeepaliveOutcome, LeaseProposal } from '../../src/node/lease-keeper.js'
import { readState } from './sim-clients.js'

export type SimRequest =
  /** `lease`: the put attaches the key to that lease. */
  | Readonly<{ kind: 'write'; opId: number; type: 'put' | 'delete'; key: string; value: string | null; cas: number | null; idempotencyKey: string | null; lease?: string }>
  | Readonly<{ kind: 'read'; opId: number; key: string }>
  /** A txn with writes is proposed; one without is served after a read barrier, as the route does. */
  | Readonly<{ kind: 'txn'; opId: number; txn: TxnSpec; idempotencyKey: string | null }>
  | Readonly<{ kind: 'lease-grant'; opId: number; id: string; ttlSeconds: number }>
  | Readonly<{ kind: 'lease-revoke'; opId: number; id: string }>
  /** Served on the leader after a read barrier, as node.keepalive does: it restarts the countdown. */
  | Readonly<{ kind: 'keepalive'; opId: number; id: string }>

type ProposedRequest = SimRequest & { kind: 'write' | 'txn' | 'lease-grant' | 'lease-revoke' }

/** Served by a read barrier: a read, a keepalive, or a txn that writes nothing. */
function isRead(request: SimRequest): boolean {
  return request.kind === 'read' || request.kind === 'keepalive' || (request.kind === 'txn' && !txnWrites(request.txn))
}

export type SimReply =
  | Readonly<{ type: 'applied'; result: ApplyResult }>
  | Readonly<{ type: 'read'; value: string | null; version: number }>
  | Readonly<{ type: 'txn-read'; result: TxnResult }>
  /** The lease's TTL, its countdown restarted; null when the lease is gone. */
  | Readonly<{ type: 'keepalive'; ttlSeconds: number | null }>
  /** Only to a forwarder: this node did not take the request. */
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  | Readonly<{ type: 'overloaded' }>
  /** Nothing took effect (no leader in time). */
  | Readonly<{ type: 'unavailable' }>
  /** It may have taken effect. */
  | Readonly<{ type: 'unknown' }>

export type ForwardRpc =
  | Readonly<{ type: 'request'; rpcId: string; request: SimRequest; requestId: RequestId | null; deadline: number }>
  | Readonly<{ type: 'reply'; rpcId: string; reply: SimReply }>

export type SimServerPorts = Readonly<{
  now: () => number
  replica: () => Replica<WriteCommand>
  stateMachine: () => StateMachine
  /** Whether `node` accepts connections now: a forward to a node that is down is refused. */
  listening: (node: NodeId) => boolean
  sendRpc: (to: NodeId, rpc: ForwardRpc) => void
  /** Which client request a proposal carries (for the exactly-once checker), and whether it came forwarded. */
  proposed: (proposal: string, opId: number, forwarded: boolean) => void
  trace: (line: string) => void
  /** The leader's keepalive after its read barrier, which took `barrierTicks` (the node's LeaseKeeper). */
  keepalive: (id: string, barrierTicks: number) => KeepaliveOutcome
  /** Ticks a `wait` step lasts. */
  retryDelay: number
  /**
   * The blind-retry sabotage: every forward goes out under a new request id, so a retry after
   * an unknown outcome is not recognised as the same request.
   */
  blindRetry: boolean
}>

type Phase =
  | Readonly<{ type: 'local-write'; proposal: string }>
  | Readonly<{ type: 'local-read'; readId: number; startedAt: number }>
  | Readonly<{ type: 'forward'; to: NodeId; rpcId: string }>
  | Readonly<{ type: 'wait'; until: number }>

type Handling = {
  readonly request: SimRequest
  readonly policy: ForwardPolicy
  readonly requestId: RequestId
  readonly forwarded: boolean
  readonly deadline: number
  readonly reply: (reply: SimReply) => void
  phase: Phase | null
}

export class SimServer {
  readonly #self: NodeId
  readonly #incarnation: number
  readonly #ports: SimServerPorts
  readonly #handlings = new Set<Handling>()
  #counter = 0

  constructor(self: NodeId, incarnation: number, ports: SimServerPorts) {
    this.#self = self
    this.#incarnation = incarnation
    this.#ports = ports
  }

  /** A request from a client, or forwarded from a peer (with the id its first node gave it). */
  receive(request: SimRequest, deadline: number, reply: (reply: SimReply) => void, forwarded: Readonly<{ requestId: RequestId | null }> | null): void {
    const requestId = forwarded?.requestId ?? this.#newId('r')
    // Reads have no effect to repeat, and every forwarded write carries its request id.
    const policy = new ForwardPolicy({ self: this.#self, forwarded: forwarded !== null, retrySafe: true, deadline, retryDelay: this.#ports.retryDelay })
    const handling: Handling = { request, policy, requestId, forwarded: forwarded !== null, deadline, reply, phase: null }
    this.#handlings.add(handling)
    this.#run(handling, policy.first())
  }

  onRpc(from: NodeId, rpc: ForwardRpc): void {
    if (rpc.type === 'request') {
      this.receive(rpc.request, rpc.deadline, (reply) => this.#ports.sendRpc(from, { type: 'reply', rpcId: rpc.rpcId, reply }), { requestId: rpc.requestId })
      return
    }
    const handling = this.#find((phase) => phase.type === 'forward' && phase.rpcId === rpc.rpcId)
    if (handling === undefined) return // answered already (timed out, or reset)
    if (rpc.reply.type === 'not_leader') return this.#after(handling, { type: 'not_leader', leader: rpc.reply.leader })
    this.#finish(handling, rpc.reply)
  }

  /** `node` crashed: connections to it are reset, so forwards to it end with an unknown outcome. */
  onPeerCrashed(node: NodeId): void {
    for (const handling of [...this.#handlings]) {
      if (handling.phase?.type === 'forward' && handling.phase.to === node) this.#unknown(handling, 'connection reset')
    }
  }

  onApplied(proposal: string, result: ApplyResult): void {
    const handling = this.#find((phase) => phase.type === 'local-write' && phase.proposal === proposal)
    if (handling === undefined) return
    // As the node maps it: refused for want of record space, nothing applied.
    this.#finish(handling, result.type === 'records_full' ? { type: 'overloaded' } : { type: 'applied', result })
  }

  /** The proposal never got a slot: as if this node had not taken it. */
  onDropped(proposal: string): void {
    const handling = this.#find((phase) => phase.type === 'local-write' && phase.proposal === proposal)
    if (handling !== undefined) this.#after(handling, { type: 'not_leader', leader: this.#ports.replica().status().leader })
  }

  onRead(readId: number, outcome: 'ready' | 'not_leader'): void {
    const handling = this.#find((phase) => phase.type === 'local-read' && phase.readId === readId)
    if (handling?.phase?.type !== 'local-read') return
    if (outcome === 'not_leader') return this.#after(handling, { type: 'not_leader', leader: this.#ports.replica().status().leader })
    const request = handling.request
    if (request.kind === 'txn') return this.#finish(handling, { type: 'txn-read', result: this.#ports.stateMachine().readTxn(request.txn) })
    if (request.kind === 'keepalive') return this.#finish(handling, this.#keepalive(request.id, this.#ports.now() - handling.phase.startedAt))
    assert(request.kind === 'read', 'a read barrier for a write')
    this.#finish(handling, { type: 'read', ...readState(this.#ports.stateMachine(), request.key) })
  }

  /** As node.keepalive answers: a renewal, a lease gone, or a barrier too slow to renew after (the client tries again). */
  #keepalive(id: string, barrierTicks: number): SimReply {
    const outcome = this.#ports.keepalive(id, barrierTicks)
    switch (outcome.type) {
      case 'renewed':
        return { type: 'keepalive', ttlSeconds: outcome.ttlSeconds }
      case 'gone':
        return { type: 'keepalive', ttlSeconds: null }
      case 'late':
      case 'taking-over':
        return { type: 'unavailable' }
    }
  }

  /** Waits that are over, and deadlines: a proposal or forward still unanswered then is unknown. */
  tick(): void {
    const now = this.#ports.now()
    for (const handling of [...this.#handlings]) {
      const phase = handling.phase
      if (phase === null) continue
      if (phase.type === 'wait') {
        if (phase.until <= now) this.#run(handling, handling.policy.resume(now))
        continue
      }
      if (now < handling.deadline) continue
      if (phase.type === 'forward') this.#unknown(handling, 'no answer by the deadline')
      else this.#finish(handling, isRead(handling.request) ? { type: 'unavailable' } : { type: 'unknown' })
    }
  }

  #find(matches: (phase: Phase) => boolean): Handling | undefined {
    for (const handling of this.#handlings) if (handling.phase !== null && matches(handling.phase)) return handling
    return undefined
  }

  #unknown(handling: Handling, why: string): void {
    const phase = handling.phase
    if (phase?.type === 'forward') this.#ports.trace(`node ${this.#self}: forward of op #${handling.request.opId} to node ${phase.to} has an unknown outcome (${why})`)
    this.#after(handling, { type: 'unknown' })
  }

  #after(handling: Handling, outcome: AttemptOutcome): void {
    this.#run(handling, handling.policy.after(outcome, this.#ports.now()))
  }

  #run(handling: Handling, step: NextStep): void {
    const now = this.#ports.now()
    handling.phase = null
    switch (step.type) {
      case 'local':
        return isRead(handling.request) ? this.#read(handling) : this.#propose(handling, handling.request as ProposedRequest)
      case 'forward': {
        if (!this.#ports.listening(step.to)) return this.#after(handling, { type: 'refused' })
        const rpcId = this.#newId('f')
        const requestId = this.#ports.blindRetry ? this.#newId('r') : handling.requestId
        handling.phase = { type: 'forward', to: step.to, rpcId }
        this.#ports.sendRpc(step.to, { type: 'request', rpcId, request: handling.request, requestId: isRead(handling.request) ? null : requestId, deadline: handling.deadline })
        return
      }
      case 'wait':
        handling.phase = { type: 'wait', until: now + this.#ports.retryDelay }
        return
      case 'not_leader':
        return this.#finish(handling, { type: 'not_leader', leader: step.leader })
      case 'give_up':
        return this.#finish(handling, { type: step.outcome })
    }
  }

  /**
   * The leader proposes its lease epoch marker, or the revoke of a lease that expired, for no
   * client (as the node does); returns its proposal.
   */
  proposeForLeases(proposal: LeaseProposal): string {
    const id = this.#newId(proposal.type === 'lease-epoch' ? 'e' : 'x')
    this.#ports.replica().propose({ ...proposal, proposal: id, idempotency: null })
    return id
  }

  #propose(handling: Handling, request: ProposedRequest): void {
    // As node.write does: past its deadline a write is never proposed (a forward that waited
    // in a paused node's queue must not become a copy its record no longer covers).
    if (this.#ports.now() >= handling.deadline) return this.#finish(handling, { type: 'unknown' })
    const proposal = this.#newId('p')
    // As the node does: a copy that may meet another copy in the log carries the request id.
    const idempotencyKey = request.kind === 'write' || request.kind === 'txn' ? request.idempotencyKey : null
    const dedupe = idempotencyKey === null && (handling.forwarded || handling.policy.forwardedOnce)
    const now = this.#ports.now()
    const base = {
      proposal,
      idempotency: idempotencyKey === null ? null : { key: idempotencyKey, atMs: now },
      ...(dedupe ? { request: { id: handling.requestId, atMs: now } } : {}),
    }
    let command: WriteCommand
    if (request.kind === 'txn') command = { type: 'txn', ...request.txn, ...base }
    else if (request.kind === 'lease-grant') command = { type: 'lease-grant', id: request.id, ttlSeconds: request.ttlSeconds, ...base }
    else if (request.kind === 'lease-revoke') command = { type: 'lease-revoke', id: request.id, ...base }
    else {
      const keyed = { ...base, key: request.key, cas: request.cas === null ? null : revision(request.cas) }
      const lease = request.lease === undefined ? {} : { lease: request.lease }
      command = request.type === 'put' ? { type: 'put', value: Buffer.from(request.value!).toString('base64'), ...lease, ...keyed } : { type: 'delete', ...keyed }
    }
    const result = this.#ports.replica().propose(command)
    if (result.type === 'not_leader') return this.#after(handling, result)
    if (result.type === 'overloaded') return this.#finish(handling, { type: 'overloaded' })
    this.#ports.proposed(proposal, request.opId, handling.forwarded)
    handling.phase = { type: 'local-write', proposal }
  }

  #read(handling: Handling): void {
    this.#counter += 1
    const readId = this.#self * 1_000_000_000 + this.#incarnation * 1_000_000 + this.#counter
    const result = this.#ports.replica().read(readId)
    if (result.type === 'not_leader') return this.#after(handling, result)
    if (result.type === 'overloaded') return this.#finish(handling, { type: 'overloaded' })
    handling.phase = { type: 'local-read', readId, startedAt: this.#ports.now() }
  }

  #finish(handling: Handling, reply: SimReply): void {
    if (!this.#handlings.delete(handling)) return
    handling.phase = null
    handling.reply(reply)
  }

  #newId(kind: string): string {
    this.#counter += 1
    return `n${this.#self}.${this.#incarnation}-${kind}${this.#counter}`
  }
}
