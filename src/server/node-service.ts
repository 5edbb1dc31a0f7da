/**
 * What the HTTP routes ask of a running node: the server owns this port, and the node
 * (src/node/node.ts) implements it. Routes validate input, call these, and map the outcome
 * through one error table; they never touch the core directly.
 * @module
 */
import type { Ballot } from '../core/ballot.js'
import type { MemberRole } from '../core/configuration.js'
import type { RequestId, TxnSpec, WriteCommand } from '../kv/command.js'
import type { LeaseId, NodeId, Revision, Slot } from '../core/ids.js'
import type { Envelope } from '../core/messages.js'
import type { ReplicaStatus } from '../core/replica-port.js'
import type { KeyRange, ScanBounds } from '../kv/key-range.js'
import type { KvItem, KvPage, TxnResult } from '../kv/state-machine.js'
import type { Amount, HeldView, HoldRule } from '../transport/holding-transport.js'
import type { IdentityAnswer } from '../transport/peer-identity.js'
import type { SnapshotSource } from '../transport/snapshot-transfer.js'
import type { Subscription } from '../observability/fan-out.js'
import type { ChangeHistory } from '../kv/change-history.js'

export type WatchHistory = Pick<ChangeHistory, 'read' | 'servedFrom' | 'rangeFloor' | 'changedAfter'>

export type WakeReason = 'applied' | 'timeout' | 'closed'

/** One watch stream's hold on the node: woken after every apply, closed when streams must end. */
export interface WatchHandle {
  readonly closed: boolean
  /**
   * Resolves at the next apply ('applied', at once if one happened since the last call), after
   * `timeoutMs` ('timeout'), or when the node ends its watches ('closed').
   */
  next(timeoutMs: number): Promise<WakeReason>
  /** Wakes a waiting `next` now, as an apply would: its owner has work of its own to do. */
  wake(): void
  close(): void
}

/** A live-page subscriber: the hello event, then one serialized frame at a time. */
export type LiveSubscription = Readonly<{ hello: string; frames: Subscription<string> }>

type DedupeFields = Readonly<{
  idempotencyKey: string | null
  /**
   * The id the first node gave this request, once a copy of it may exist elsewhere (it was
   * forwarded): with it, every copy applies once. Null for a request only ever tried here.
   */
  requestId: RequestId | null
}>

type WriteFields = DedupeFields & Readonly<{ key: string; cas: Revision | null }>

export type WriteRequest =
  | (Readonly<{ type: 'put'; value: Uint8Array; lease?: LeaseId | undefined }> & WriteFields)
  | (Readonly<{ type: 'lease-grant'; id: LeaseId; ttlSeconds: number }> & DedupeFields)
  | (Readonly<{ type: 'lease-revoke'; id: LeaseId }> & DedupeFields)
  /** etcd's compact at `revision` (at most the current one: the caller checks). */
  | (Readonly<{ type: 'compact'; revision: Revision }> & DedupeFields)
  | (Readonly<{ type: 'delete' }> & WriteFields)
  /** A txn with writes in some branch (one without is served by `readTxn`, no log write). */
  | (Readonly<{ type: 'txn'; txn: TxnSpec }> & DedupeFields)

/**
 * A write's consensus receipt: the slot it was chosen in, and, as the leader saw it, the
 * ballot, the quorum whose accepted counted, proposal-to-chosen time and the leader's own WAL
 * sync of the slot. A null field is one the serving leader did not see (a slot chosen under an
 * earlier leader, or a quorum that formed before the leader's own sync finished).
 */
export type Receipt = Readonly<{
  slot: Slot
  ballot: Ballot | null
  leader: NodeId | null
  quorum: readonly NodeId[] | null
  commitMs: number | null
  fsyncMs: number | null
}>

export type WriteOutcome =
  | Readonly<{ type: 'ok'; version: Revision; deleted: boolean | null; receipt: Receipt }>
  /** A txn went through the log: either branch ran (see TxnResult). */
  | Readonly<{ type: 'txn'; result: TxnResult; receipt: Receipt }>
  | Readonly<{ type: 'cas_mismatch'; version: Revision }>
  /** The Idempotency-Key was first used for a different request; nothing changed. */
  | Readonly<{ type: 'idempotency_key_reused' }>
  /** This node is not the leader; `leader` is its best guess. Nothing was proposed. */
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  /** Nothing was applied: too many writes in flight, the dedupe records are full, or a lease bound. */
  | Readonly<{ type: 'overloaded'; reason: 'writes_in_flight' | 'records_full' | 'lease_limit' }>
  /** The put would take live data past the quota; nothing changed. */
  | Readonly<{ type: 'quota_exceeded' }>
  /** The write names a lease that does not exist (or a revoke one already gone); nothing changed. */
  | Readonly<{ type: 'lease_not_found' }>
  | Readonly<{ type: 'lease_granted'; id: LeaseId; ttlSeconds: number }>
  | Readonly<{ type: 'lease_revoked'; version: Revision; deleted: number; receipt: Receipt }>
  /** Proposed but not applied within the timeout: the outcome is indeterminate. */
  | Readonly<{ type: 'timeout' }>

/** A lease as the leader sees it: its countdown, and the keys attached to it. */
export type LeaseView = Readonly<{ id: LeaseId; ttlSeconds: number; remainingSeconds: number; keys: readonly string[] }>

/** A lease call answered by the leader (after a read barrier), or why not. */
export type LeaseCall<T> =
  | Readonly<{ type: 'ok'; value: T }>
  | Readonly<{ type: 'not_found' }>
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  | Readonly<{ type: 'overloaded' }>
  | Readonly<{ type: 'timeout' }>

/** A member as GET /v1/members shows it (api.md); `caughtUp` as the leader sees it. */
export type MemberView = Readonly<{ id: NodeId; url: string; role: MemberRole; caughtUp: boolean }>

export type MembersBody = Readonly<{ members: readonly MemberView[]; configSlot: Slot }>

/** One membership change (one at a time). */
export type MemberChange =
  | Readonly<{ type: 'add'; id: NodeId; url: string; learner: boolean }>
  | Readonly<{ type: 'promote'; id: NodeId }>
  | Readonly<{ type: 'remove'; id: NodeId }>

/** What a membership call came to, on the leader. */
export type MemberCall =
  | Readonly<{ type: 'ok'; value: MembersBody }>
  | Readonly<{ type: 'refused'; code: 'not_found' | 'member_exists' | 'not_caught_up' | 'change_in_progress' | 'bad_request'; message: string }>
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  | Readonly<{ type: 'timeout' }>

export type Consistency = 'linearizable' | 'stale'

export type ReadBarrierOutcome =
  | Readonly<{ type: 'ok' }>
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  | Readonly<{ type: 'overloaded' }>
  | Readonly<{ type: 'timeout' }>

/** `lagSlots`: on the leader, proposed slots the peer has not acknowledged; null elsewhere. */
export type PeerStatus = Readonly<{ id: NodeId; url: string; reachable: boolean; lagSlots: number | null }>

/**
 * Snapshots on this node: the newest durable one's slot (null before the first), the slot the
 * log is truncated through behind it, and the snapshots sent to and installed from peers.
 */
export type SnapshotStatus = Readonly<{ newestIndex: Slot | null; logCompactedThrough: Slot; sent: number; installed: number }>

/** `etcdUrl`: where this node serves the etcd API (serve --etcd-port), null when it does not. */
export type StatusBody = ReplicaStatus & Readonly<{ revision: Revision; peers: readonly PeerStatus[]; snapshot: SnapshotStatus; etcdUrl: string | null }>

export type DeliverOutcome = 'queued' | 'overloaded'

/** A peer's incarnation against the one this node knows: `changed` means it lost its data directory. */
export type AdmitOutcome = Readonly<{ type: 'admitted' }> | Readonly<{ type: 'changed'; known: string }>

/** Step-through mode (serve --debug-step): this node's held outgoing peer messages. */
export interface StepThroughPort {
  hold(rule: HoldRule): void
  /** Sends the oldest held messages; returns how many. */
  release(amount: Amount): number
  drop(amount: Amount): number
  view(): HeldView
}

export interface NodeService {
  readonly id: NodeId
  /** The URL this node uses to reach `id` (for forwarding to the leader). */
  peerUrl(id: NodeId): string | null
  /** A new id for a client request this node received first, unique in the cluster. */
  newRequestId(): RequestId
  /** `deadlineMs` is on this node's clock (`nowMs`): past it, the answer is `timeout`. */
  write(request: WriteRequest, deadlineMs: number): Promise<WriteOutcome>
  /** Linearizable read barrier (read index): after 'ok', local reads see every earlier write. */
  readBarrier(deadlineMs: number): Promise<ReadBarrierOutcome>
  /** Milliseconds on this node's monotonic clock: what request deadlines are measured in. */
  nowMs(): number
  /**
   * Wall-clock milliseconds: only to carry a forwarded request's deadline to another node, whose
   * clock agrees to within the skew the dedupe records allow (see limits.ts).
   */
  wallMs(): number
  get(key: string): KvItem | null
  /** Keys with `prefix`, strictly after `after` when set, at most `limit`, in key order. */
  range(prefix: string, limit: number, after: string | null): KvPage
  /** The revision of the local state machine: what a read served now sees. */
  revision(): Revision
  /** The change history watches read: the local state machine's. */
  watchHistory(): WatchHistory
  /** A watcher's slot, woken after each apply; null when the node serves as many as it allows. */
  openWatch(): WatchHandle | null
  /** A fresh lease id: digits that fit int64, unique with overwhelming odds (62 random bits). */
  newLeaseId(): LeaseId
  /** On the leader: restarts the lease's countdown at its full TTL (no log write). */
  keepalive(id: LeaseId, deadlineMs: number): Promise<LeaseCall<Readonly<{ ttlSeconds: number }>>>
  /** On the leader: one lease (null id: every lease, without their keys). */
  leaseViews(id: LeaseId | null, deadlineMs: number): Promise<LeaseCall<readonly LeaseView[]>>
  /** Evaluates a txn without writes on the local state (after a read barrier for a linearizable one). */
  readTxn(txn: TxnSpec): TxnResult
  /** The local replica's keys of `range` in key order, as many as `bounds` allow. */
  scan(range: KeyRange, bounds: ScanBounds): KvPage
  count(range: KeyRange): number
  /** Estimated bytes of live data, as the quota counts them. */
  usedBytes(): number
  status(): StatusBody
  /**
   * Resolves `admitted` once `incarnation` is the one recorded for `peer`, recording (and
   * syncing) it first if the peer never reached this node; `changed` if another is recorded.
   */
  admitPeer(peer: NodeId, incarnation: string): Promise<AdmitOutcome>
  /** What this node tells a peer (or a node about to start) that asks who it is. */
  identity(asker: NodeId): IdentityAnswer
  /** Authenticated, decoded peer envelopes into the bounded inbox. */
  deliver(envelopes: readonly Envelope<WriteCommand>[]): DeliverOutcome
  /** The newest durable snapshot, for a peer that lacks compacted slots; null when none. */
  newestSnapshot(): SnapshotSource | null
  metrics(): Promise<string>
  /** The live feed (hello, then a frame every few hundred ms); null when too many subscribed. */
  liveEvents(): LiveSubscription | null
  /** Null unless the node was started with --debug-step. */
  stepThrough(): StepThroughPort | null
  /** On the leader: the members of the newest configuration, and which are caught up. */
  members(): MemberCall
  /** On the leader: proposes one change; `ok` once the new configuration is chosen. */
  changeMembers(change: MemberChange, deadlineMs: number): Promise<MemberCall>
  /** Every member of the configurations in force or to come (peers it admits), this node included. */
  memberIds(): ReadonlySet<NodeId>
}
