/**
 * A NodeService for route tests: the real KV state machine over the memory store, with the
 * consensus part scripted (leader or not, overloaded, timeouts). The real node is exercised by
 * the integration tests; here the routes are tested without sockets.
 */
import { leaseId, nodeId, type Envelope, type LeaseId, type NodeId } from '../../src/core/index.js'
import { type TxnSpec, type WriteCommand } from '../../src/kv/command.js'
import type { AdmitOutcome, DeliverOutcome, LeaseCall, LeaseView, LiveSubscription, MemberCall, MemberChange, NodeService, ReadBarrierOutcome, Receipt, StatusBody, WriteOutcome, WriteRequest } from '../../src/server/node-service.js'
import { KvStateMachine, type KvStateMachineOptions } from '../../src/kv/kv-state-machine.js'
import type { KeyRange, ScanBounds } from '../../src/kv/key-range.js'
import type { KvItem } from '../../src/kv/state-machine.js'
import { slot, type ConfigMember } from '../../src/core/index.js'
import { planMemberChange } from '../../src/node/member-change.js'
import { writeCommand } from '../../src/node/write-command.js'
import { WatchHub } from '../../src/node/watch-hub.js'
import { writeOutcome } from '../../src/node/write-outcome.js'
import { LiveFeed } from '../../src/node/live-feed.js'
import type { HoldingTransport } from '../../src/transport/holding-transport.js'
import type { IdentityAnswer } from '../../src/transport/peer-identity.js'
import type { SnapshotSource } from '../../src/transport/snapshot-transfer.js'

export class FakeNode implements NodeService {
  readonly id: NodeId = nodeId(1)
  readonly stateMachine: KvStateMachine
  readonly delivered: Envelope<WriteCommand>[] = []
  readonly writes: WriteRequest[] = []
  mode: 'leader' | 'follower' | 'no_leader' | 'overloaded' = 'leader'
  leaderUrl: string | null = null
  inboxFull = false
  /** The incarnation each peer is known by; a peer not here is recorded on first contact. */
  readonly incarnations = new Map<NodeId, string>()
  /** What the scripted consensus reports for every write (the slot is the applied one). */
  receipt: Omit<Receipt, 'slot'> = { ballot: { round: 3, node: nodeId(1) }, leader: nodeId(1), quorum: [nodeId(1), nodeId(2)], commitMs: 1.25, fsyncMs: 0.5 }
  #proposals = 0

  constructor(options: KvStateMachineOptions = {}) {
    this.stateMachine = new KvStateMachine(options)
  }

  nowMs(): number {
    return performance.now()
  }

  /** Tests may move it, as another node's clock would differ. */
  wallMs(): number {
    return Date.now() + this.wallOffsetMs
  }

  wallOffsetMs = 0

  peerUrl(): string | null {
    return this.leaderUrl
  }

  newRequestId(): string {
    return `fake-r${this.#proposals + this.writes.length}`
  }

  async write(request: WriteRequest, deadlineMs: number): Promise<WriteOutcome> {
    this.writes.push(request)
    if (deadlineMs <= this.nowMs()) return { type: 'timeout' } // as the node: never proposed past it
    if (this.mode === 'follower') return { type: 'not_leader', leader: nodeId(2) }
    if (this.mode === 'no_leader') return { type: 'not_leader', leader: null }
    if (this.mode === 'overloaded') return { type: 'overloaded', reason: 'writes_in_flight' }
    this.#proposals += 1
    const command = writeCommand(request, `p${this.#proposals}`, 0, undefined)
    const at = slot(this.stateMachine.appliedIndex() + 1)
    const [applied] = this.stateMachine.apply([{ slot: at, value: [command] }])
    this.watches.applied()
    return writeOutcome(applied!.result, () => ({ ...this.receipt, slot: at }))
  }

  async readBarrier(): Promise<ReadBarrierOutcome> {
    if (this.mode === 'follower') return { type: 'not_leader', leader: nodeId(2) }
    if (this.mode === 'no_leader') return { type: 'not_leader', leader: null }
    return { type: 'ok' }
  }

  get(key: string): KvItem | null {
    return this.stateMachine.get(key)
  }

  range(prefix: string, limit: number, after: string | null) {
    return this.stateMachine.range(prefix, limit, after)
  }

  revision() {
    return this.stateMachine.revision()
  }

  readonly watches = new WatchHub(4)
  #leases = 0
  /** Keepalives the routes passed on, in order. */
  readonly keepalives: string[] = []

  newLeaseId(): LeaseId {
    this.#leases += 1
    return leaseId(String(1000 + this.#leases))
  }

  async keepalive(id: LeaseId): Promise<LeaseCall<{ ttlSeconds: number }>> {
    if (this.mode === 'follower') return { type: 'not_leader', leader: nodeId(2) }
    const lease = this.stateMachine.lease(id)
    if (lease === null) return { type: 'not_found' }
    this.keepalives.push(id)
    return { type: 'ok', value: { ttlSeconds: lease.ttlSeconds } }
  }

  /** No clock runs here: every lease has its full TTL left. */
  async leaseViews(id: LeaseId | null): Promise<LeaseCall<readonly LeaseView[]>> {
    if (this.mode === 'follower') return { type: 'not_leader', leader: nodeId(2) }
    if (id === null) return { type: 'ok', value: [...this.stateMachine.leases()].map(([lease, ttlSeconds]) => ({ id: lease, ttlSeconds, remainingSeconds: ttlSeconds, keys: [] })) }
    const lease = this.stateMachine.lease(id)
    if (lease === null) return { type: 'not_found' }
    return { type: 'ok', value: [{ id, ttlSeconds: lease.ttlSeconds, remainingSeconds: lease.ttlSeconds, keys: this.stateMachine.leaseKeys(id) }] }
  }

  watchHistory() {
    return this.stateMachine.history
  }

  openWatch() {
    return this.watches.open()
  }

  scan(range: KeyRange, bounds: ScanBounds) {
    return this.stateMachine.scan(range, bounds)
  }

  count(range: KeyRange): number {
    return this.stateMachine.count(range)
  }

  usedBytes(): number {
    return this.stateMachine.usedBytes()
  }

  readTxn(txn: TxnSpec) {
    return this.stateMachine.readTxn(txn)
  }

  /** The member list a scripted leader changes at once (as if chosen immediately). */
  memberList: ConfigMember[] = [1, 2, 3].map((id) => ({ id: nodeId(id), url: `http://127.0.0.1:${7000 + id}`, role: 'voter' as const }))
  configSlot = slot(0)
  /** Members that count as caught up (promote needs it). */
  readonly caughtUpMembers = new Set<NodeId>([nodeId(1), nodeId(2), nodeId(3)])
  readonly memberChanges: MemberChange[] = []

  members(): MemberCall {
    if (this.mode === 'follower' || this.mode === 'no_leader') return { type: 'not_leader', leader: null }
    return { type: 'ok', value: { members: this.memberList.map((member) => ({ ...member, caughtUp: this.caughtUpMembers.has(member.id) })), configSlot: this.configSlot } }
  }

  async changeMembers(change: MemberChange, deadlineMs: number): Promise<MemberCall> {
    this.memberChanges.push(change)
    if (this.mode === 'follower' || this.mode === 'no_leader') return { type: 'not_leader', leader: null }
    if (deadlineMs <= this.nowMs()) return { type: 'timeout' }
    const planned = planMemberChange(this.memberList, change, (id) => this.caughtUpMembers.has(id))
    if (planned.type === 'refused') return planned
    if (planned.type === 'members') {
      this.memberList = [...planned.members]
      this.configSlot = slot(this.configSlot + 1)
    }
    return this.members()
  }

  memberIds(): ReadonlySet<NodeId> {
    return new Set(this.memberList.map((member) => member.id))
  }

  status(): StatusBody {
    return { id: this.id, role: 'leader', leader: this.id, ballot: { round: 1, node: this.id }, commitIndex: slot(0), appliedIndex: slot(0), revision: this.stateMachine.revision(), peers: [], snapshot: { newestIndex: null, logCompactedThrough: slot(0), sent: 0, installed: 0 }, etcdUrl: null }
  }

  /** What GET /peer/snapshot offers; tests set it. */
  snapshot: SnapshotSource | null = null

  newestSnapshot(): SnapshotSource | null {
    return this.snapshot
  }

  async admitPeer(peer: NodeId, incarnation: string): Promise<AdmitOutcome> {
    const known = this.incarnations.get(peer)
    if (known === undefined) this.incarnations.set(peer, incarnation)
    return known === undefined || known === incarnation ? { type: 'admitted' } : { type: 'changed', known }
  }

  identity(asker: NodeId): IdentityAnswer {
    return { node: this.id, clusterId: 'c1', candidateClusterId: null, knowsAsker: this.incarnations.get(asker) ?? null }
  }

  deliver(envelopes: readonly Envelope<WriteCommand>[]): DeliverOutcome {
    if (this.inboxFull) return 'overloaded'
    this.delivered.push(...envelopes)
    return 'queued'
  }

  /** A real feed over scripted inputs; tests publish frames by hand (it is never started). */
  readonly live = new LiveFeed({
    self: this.id,
    members: () => [nodeId(1), nodeId(2)],
    inputs: () => ({
      atMs: 0,
      node: { id: 1, role: 'leader', leader: 1, promised: '1.1', commitIndex: 0, appliedIndex: 0, revision: this.stateMachine.revision(), inboxDepth: 0 },
      peers: [],
      held: null,
    }),
  })

  /** Set before createApp to test the step-through routes (as serve --debug-step would). */
  step: HoldingTransport<WriteCommand> | null = null

  stepThrough(): HoldingTransport<WriteCommand> | null {
    return this.step
  }

  liveEvents(): LiveSubscription | null {
    return this.live.subscribe()
  }

  async metrics(): Promise<string> {
    return '# HELP paxos_kv_test 1\n'
  }
}
