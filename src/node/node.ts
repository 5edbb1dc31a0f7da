/**
 * PaxosNode: the driver. It owns the Replica and its event loop, joins the ports it is handed
 * (storage, state machine, peer links; built by src/node/compose.ts) to the core, and implements
 * what the routes ask for (NodeService). It builds no storage, state machine or server.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { assert, assertNever } from '../core/assert.js'
import { formatBallot } from '../core/ballot.js'
import type { FrameInputs } from '../observability/live-recorder.js'
import { kvCommands, type RequestId, type TxnSpec, type WriteCommand } from '../kv/command.js'
import type { CoreEvent } from '../core/events.js'
import { leaseId, revision, slot, type LeaseId, type NodeId, type Revision, type Slot } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { Envelope, LogEntry } from '../core/messages.js'
import { seededRandom } from '../core/random.js'
import { Replica } from '../core/replica.js'
import { governsFrom, sameMembers as sameMemberList, type ConfigMember } from '../core/configuration.js'
import { bootstrapConfiguration, planMemberChange } from './member-change.js'
import type { NodeConfig } from '../config/config.js'
import type { Logger } from '../observability/logger.js'
import { advanceCounter, createMetrics, type Metrics } from '../observability/metrics.js'
import { DataDirError, type NodeStorage } from '../storage/data-dir.js'
import type { KvStateMachine } from '../kv/kv-state-machine.js'
import { SnapshotFormatError, SnapshotTooOldError } from '../kv/snapshot-codec.js'
import type { KeyRange, ScanBounds } from '../kv/key-range.js'
import type { KvItem, KvPage, TxnResult } from '../kv/state-machine.js'
import { compactLog } from '../storage/log-compaction.js'
import { SnapshotStoreError } from '../storage/snapshot-store.js'
import type { HoldingTransport } from '../transport/holding-transport.js'
import type { Transport, TransportCounters } from '../transport/transport.js'
import { fetchSnapshot, type SnapshotSource } from '../transport/snapshot-transfer.js'
import { SystemClock } from './clock.js'
import { EventLoop } from './event-loop.js'
import type { IdentityAnswer } from '../transport/peer-identity.js'
import type { AdmitOutcome, DeliverOutcome, LeaseCall, LeaseView, LiveSubscription, MemberCall, MemberChange, MembersBody, NodeService, ReadBarrierOutcome, StatusBody, StepThroughPort, WatchHandle, WatchHistory, WriteOutcome, WriteRequest } from '../server/node-service.js'
import { LeaseKeeper, type LeaseProposal } from './lease-keeper.js'
import { LeaseTimers, takeoverTicksFor } from './lease-timers.js'
import { WatchHub } from './watch-hub.js'
import { Pending } from './pending.js'
import { writeCommand } from './write-command.js'
import { writeOutcome } from './write-outcome.js'
import { Receipts } from './receipts.js'
import { LiveFeed } from './live-feed.js'
import { Snapshotter, type SnapshotWritten } from './snapshotter.js'

/** The peer links the node sends through, with what it reports of them (StreamTransport). */
export type PeerLinks = Transport<WriteCommand> & Readonly<{ reachable(peer: NodeId): boolean; setPeer(peer: NodeId, url: string): void; counters: TransportCounters }>

/** What the composition root hands the node: every concrete part is built there. */
export type NodePorts = Readonly<{
  clock: SystemClock
  stateMachine: KvStateMachine
  storage: NodeStorage<WriteCommand>
  links: PeerLinks
  /** In front of the links in --debug-step mode (it holds messages), else null. */
  step: HoldingTransport<WriteCommand> | null
  /** Where this node serves the etcd API, as its peers and clients reach it; null when it does not. */
  etcdUrl: string | null
  /** A bug: log it and crash. Acknowledged state is on disk; a restart resumes from there. */
  fatal: (error: unknown) => never
}>

/**
 * A transferred chunk longer than this is refused. The codec closes chunks at
 * limits.snapshotChunkBytesMax (one entry always fits); the margin only keeps a bound on damage.
 */
const snapshotTransferChunkBytesMax = limits.snapshotChunkBytesMax + limits.valueBytesMax + 64 * 1024
/** How long a removed member's messages are still admitted (its last heartbeats as a leader removed). */
const removedGraceMs = 10_000
/** A snapshot fetch whose peer sends nothing for this long is abandoned (and asked again later). */
const snapshotFetchIdleMs = 30_000

export class PaxosNode implements NodeService {
  readonly id: NodeId
  readonly #config: NodeConfig
  readonly #logger: Logger
  readonly #metrics: Metrics = createMetrics()
  readonly #clock: SystemClock
  readonly #storage: NodeStorage<WriteCommand>
  readonly #stateMachine: KvStateMachine
  readonly #snapshotter: Snapshotter
  readonly #replica: Replica<WriteCommand>
  readonly #links: PeerLinks
  /** In front of the links in --debug-step mode, else null. */
  readonly #step: HoldingTransport<WriteCommand> | null
  readonly #pending = new Pending()
  /** This node's own --cluster URLs: how it reaches those members (perhaps through a proxy). */
  readonly #localUrls: ReadonlyMap<NodeId, string>
  /** The URLs the configurations give (how the member was added). */
  readonly #configUrls = new Map<NodeId, string>()
  /** The members it admits peer messages from (read by the peer routes), this node included. */
  readonly #memberIds = new Set<NodeId>()
  /**
   * Members removed, still admitted for `removedGraceMs` after the change is in force: a leader
   * that removed itself keeps leading until the new voters hold every slot, then steps down.
   */
  readonly #removedAt = new Map<NodeId, number>()
  /** The last leader this node knew of: when another one leads, watch streams end. */
  #followedLeader: NodeId | null = null
  readonly #configWaiters = new Set<Readonly<{ members: readonly ConfigMember[]; resolve: (chosen: boolean) => void }>>()
  readonly #watches = new WatchHub(limits.watchersMax)
  /** The leader's lease countdowns, driven by #leaseTicker every tick; empty on a follower. */
  readonly #leases: LeaseKeeper
  #leaseTicker: NodeJS.Timeout | null = null
  readonly #receipts: Receipts
  readonly #live: LiveFeed
  /** Entries persisted in the current turn, whose WAL sync the receipts time. */
  #turnEntries: readonly LogEntry<WriteCommand>[] = []
  readonly #loop: EventLoop
  /** Unique per process start, so proposal ids never repeat across restarts. */
  readonly #incarnation = randomBytes(6).toString('hex')
  /** Peers whose first data-directory incarnation is being recorded: their messages wait for that sync. */
  readonly #admitting = new Map<NodeId, Promise<void>>()
  #proposals = 0
  #snapshotsSent = 0
  #snapshotsInstalled = 0
  /** The snapshot fetch under way (one at a time), to abort at stop; null when none is. */
  #fetching: AbortController | null = null
  #stopping = false
  #requests = 0
  #reads = 0
  readonly #etcdUrl: string | null
  readonly #fatal: (error: unknown) => never
  readonly #requestSeries = new Map<string, Readonly<{ count: { inc: () => void }; latency: { observe: (value: number) => void } }>>()
  /** Transport totals already added to the sent/dropped counters. */
  readonly #reported = { sent: { value: 0 }, dropped: { value: 0 }, oversized: { value: 0 } }

  constructor(config: NodeConfig, logger: Logger, ports: NodePorts) {
    this.id = config.id
    this.#config = config
    this.#logger = logger
    this.#clock = ports.clock
    this.#stateMachine = ports.stateMachine
    this.#storage = ports.storage
    this.#links = ports.links
    this.#step = ports.step
    this.#etcdUrl = ports.etcdUrl
    this.#fatal = ports.fatal
    this.#leases = new LeaseKeeper(new LeaseTimers({ tickMs: config.tickMs, retryTicks: limits.electionTimeoutTicks, takeoverTicks: takeoverTicksFor(config.tickMs) }), this.#stateMachine)
    this.#receipts = new Receipts(config.id)
    this.#live = new LiveFeed({ self: config.id, members: () => this.memberList().map((member) => member.id), inputs: () => this.#liveInputs() })
    this.#localUrls = new Map(config.members.map((member) => [member.id, member.url]))
    this.#restoreNewestSnapshot()
    // Slots up to the snapshot stay on disk (the replica reads them through the archive when
    // asked) until the log is truncated behind it; the chosen ones after it are applied again by
    // the normal apply path.
    const appliedIndex = this.#stateMachine.appliedIndex()
    // A crash may have come between a snapshot's rename and the truncation behind it.
    compactLog(this.#storage.acceptorStorage.log, appliedIndex, config.logRetainSlots)
    this.#snapshotter = new Snapshotter({
      stateMachine: this.#stateMachine,
      store: this.#storage.snapshots,
      retain: limits.snapshotsRetained,
      whenSynced: (release) => this.#storage.whenSynced(release),
      nowMs: () => this.#clock.nowMs(),
      onWritten: (written) => this.#onSnapshotWritten(written),
      onFailed: (error) => this.#logger.error({ err: error }, 'snapshot write failed; the log still holds every slot, retrying later'),
    }, appliedIndex)
    this.#replica = new Replica({
      self: config.id,
      members: config.members.map((member) => member.id),
      // The replicated configurations win; until the first is in force, the bootstrap one.
      configurations: this.#stateMachine.configurations(),
      bootstrap: bootstrapConfiguration(config),
      durable: this.#storage.acceptorStorage.loadFrom(slot(appliedIndex + 1)),
      votesFrom: slot(this.#storage.identity.votesFrom),
      appliedIndex,
      random: seededRandom(randomBytes(4).readUInt32LE(0)),
      archive: this.#storage.acceptorStorage.log,
      compactedThrough: this.#storage.acceptorStorage.log.compactedThrough(),
      snapshotEverySlots: config.snapshotEverySlots,
      snapshotEveryCommands: config.snapshotEveryWrites,
      snapshotEveryBytes: config.snapshotEveryBytes,
      onEvent: (event) => this.#onEvent(event),
      commands: kvCommands,
    })
    this.#metrics.logCompactedThrough.set(this.#storage.acceptorStorage.log.compactedThrough())
    this.#syncMembers()
    this.#loop = new EventLoop({
      replica: this.#replica,
      clock: this.#clock,
      tickMs: config.tickMs,
      onFatal: (error) => this.#fatal(error),
      ports: {
        self: config.id,
        atomically: (work) => {
          const started = this.#clock.nowMs()
          this.#turnEntries = []
          this.#storage.atomically(work)
          this.#metrics.transactions.inc()
          this.#metrics.transactionSeconds.observe((this.#clock.nowMs() - started) / 1000)
        },
        whenSynced: (release) => {
          const entries = this.#turnEntries
          this.#storage.whenSynced(() => {
            this.#receipts.synced(entries, this.#clock.nowMs())
            release()
          })
        },
        persist: (batch) => {
          this.#storage.acceptorStorage.persist(batch)
          this.#turnEntries = batch.entries
          this.#receipts.persisted(batch.entries, this.#clock.nowMs())
          this.#live.recorder.persisted(batch.entries)
        },
        apply: (entries) => {
          for (const entry of entries) this.#metrics.batchCommands.observe(entry.value.length)
          this.#live.recorder.applied(entries)
          const appliedWrites = this.#stateMachine.apply(entries)
          // The leader's countdowns follow the applied grants and revokes (a follower keeps none).
          if (this.#replica.status().role === 'leader') this.#leases.applied(entries, appliedWrites)
          for (const applied of appliedWrites) {
            this.#metrics.commandsApplied.inc()
            this.#pending.settleWrite(applied.proposal, { type: 'applied', slot: applied.slot, result: applied.result })
          }
          this.#watches.applied()
        },
        send: (envelopes) => {
          this.#live.recorder.sent(envelopes)
          ;(this.#step ?? this.#links).send(envelopes)
        },
        reads: (outcomes) => {
          for (const outcome of outcomes) this.#pending.settleRead(outcome.id, outcome.type)
        },
        dropped: (proposals) => {
          for (const proposal of proposals) this.#pending.settleWrite(proposal, { type: 'dropped' })
        },
        fetchSnapshot: (from, through) => this.#fetchSnapshot(from, through),
        installSnapshot: (index) => {
          this.#installSnapshot(index)
          return this.#stateMachine.configurations()
        },
        takeSnapshot: (index) => {
          assert(this.#stateMachine.appliedIndex() === index, `a snapshot at ${index} asked for at applied index ${this.#stateMachine.appliedIndex()}`)
          this.#snapshotter.take()
        },
        loopback: (envelopes) => this.#loop.loopback(envelopes),
      },
    })
  }

  /**
   * Starts the protocol: replays the chosen log after the snapshot, then the event loop, the live
   * feed and the lease clock. The composition root opens the ports for clients and peers after it.
   */
  start(): void {
    const replayFrom = this.#stateMachine.appliedIndex()
    this.#loop.applyHeld()
    if (this.#stateMachine.appliedIndex() > replayFrom) this.#logger.info({ from: replayFrom + 1, through: this.#stateMachine.appliedIndex() }, 'replayed the chosen log after the snapshot')
    this.#loop.start()
    this.#live.start()
    this.#leaseTicker = setInterval(() => this.#leaseTick(), this.#config.tickMs)
    this.#leaseTicker.unref()
  }

  /** Stops the protocol and everything the node runs; its ports are the composition root's to close. */
  stop(): void {
    this.#stopping = true
    this.#fetching?.abort()
    this.#loop.stop()
    if (this.#leaseTicker !== null) clearInterval(this.#leaseTicker)
    this.#watches.closeAll()
    this.#snapshotter.stop()
    this.#live.stop()
  }

  /** The storage finished a WAL sync (its hook, wired by the composition root). */
  walSynced(durationMs: number): void {
    this.#metrics.walSyncSeconds.observe(durationMs / 1000)
    this.#live.recorder.walSynced(durationMs)
  }

  /** Where this node reaches `id`: its own --cluster URL for it if it has one, else the configuration's. */
  peerUrl(id: NodeId): string | null {
    return this.#localUrls.get(id) ?? this.#configUrls.get(id) ?? null
  }

  /** The newest configuration's members as this node reaches them (no leader needed). */
  memberList(): Readonly<{ id: NodeId; url: string; learner: boolean }>[] {
    return this.#replica.membership().members.map((member) => ({ id: member.id, url: this.peerUrl(member.id) ?? member.url, learner: member.role === 'learner' }))
  }

  memberIds(): ReadonlySet<NodeId> {
    return this.#memberIds
  }

  members(): MemberCall {
    if (this.#replica.status().role !== 'leader') return { type: 'not_leader', leader: this.#replica.status().leader }
    return { type: 'ok', value: this.#membersBody() }
  }

  async changeMembers(change: MemberChange, deadlineMs: number): Promise<MemberCall> {
    if (this.#replica.status().role !== 'leader') return { type: 'not_leader', leader: this.#replica.status().leader }
    const planned = planMemberChange(this.#replica.membership().members, change, (id) => this.#replica.caughtUp(id))
    if (planned.type === 'refused') return planned
    if (planned.type === 'unchanged') return { type: 'ok', value: this.#membersBody() }
    const proposed = this.#replica.proposeConfig(planned.members)
    switch (proposed.type) {
      case 'not_leader':
        return proposed
      case 'change_in_progress':
        return { type: 'refused', code: 'change_in_progress', message: 'another membership change is not yet in force; retry once it is' }
      case 'invalid':
        return { type: 'refused', code: 'bad_request', message: proposed.reason }
      case 'proposed':
        break
    }
    this.#loop.schedule()
    const chosen = await this.#configChosen(planned.members, deadlineMs - this.#clock.nowMs())
    if (!chosen) return { type: 'timeout' }
    // The answer means a member removed may be discarded: the new voters hold what the old chose.
    // A leader that removed itself steps down once the change is in force, and can then only
    // wait for that (`member list` shows when the others have caught up).
    const removedSelf = change.type === 'remove' && change.id === this.id
    if (!(await this.#membershipSettled(deadlineMs, removedSelf))) return { type: 'timeout' }
    this.#logger.info({ change }, 'membership changed')
    return { type: 'ok', value: this.#membersBody() }
  }

  async #membershipSettled(deadlineMs: number, removedSelf: boolean): Promise<boolean> {
    while (!(removedSelf ? this.#replica.membership().inForce : this.#replica.membershipSettled())) {
      if (this.#clock.nowMs() >= deadlineMs || this.#replica.status().role !== 'leader') return false
      await new Promise((resolve) => setTimeout(resolve, this.#config.tickMs))
    }
    return true
  }

  #membersBody(): MembersBody {
    const view = this.#replica.membership()
    const members = view.members.map((member) => ({ id: member.id, url: member.url, role: member.role, caughtUp: this.#replica.caughtUp(member.id) }))
    return { members, configSlot: view.configSlot }
  }

  /** Resolves true once a configuration with exactly `members` is chosen, false at the timeout. */
  #configChosen(members: readonly ConfigMember[], timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = { members, resolve: (chosen: boolean) => {
        clearTimeout(timer)
        this.#configWaiters.delete(waiter)
        resolve(chosen)
      } }
      const timer = setTimeout(() => waiter.resolve(false), Math.max(0, timeoutMs))
      this.#configWaiters.add(waiter)
    })
  }

  /**
   * The links, the peers admitted and the URLs follow the configurations in force or to come;
   * a member removed is forgotten, so one added later under its id starts over (a new disk).
   */
  #membersChanged(): boolean {
    const current = this.#replica.memberIdsFromCommit()
    return this.#removedAt.size > 0 || current.length !== this.#memberIds.size || current.some((id) => !this.#memberIds.has(id))
  }

  #syncMembers(): void {
    const view = this.#replica.membership()
    for (const member of view.members) this.#configUrls.set(member.id, member.url)
    const current = new Set(this.#replica.memberIdsFromCommit())
    for (const id of current) {
      const url = this.peerUrl(id)
      if (url !== null) this.#links.setPeer(id, url)
    }
    const now = this.#clock.nowMs()
    for (const id of this.#memberIds) if (!current.has(id) && !this.#removedAt.has(id)) this.#removedAt.set(id, now)
    for (const [id, removedAt] of this.#removedAt) {
      // Added again (a new disk, as `member add` after `remove`): a new member, a new incarnation.
      const readded = current.has(id)
      if (!readded && now - removedAt < removedGraceMs) continue
      this.#removedAt.delete(id)
      if (!readded) this.#memberIds.delete(id)
      if (id !== this.id && this.#storage.peerIncarnations.known(id) !== null) this.#storage.atomically(() => this.#storage.peerIncarnations.forget(id))
    }
    for (const id of current) this.#memberIds.add(id)
  }

  async write(request: WriteRequest, deadlineMs: number): Promise<WriteOutcome> {
    if (this.#pending.writesFull) return { type: 'overloaded', reason: 'writes_in_flight' }
    if (deadlineMs <= this.#clock.nowMs()) return { type: 'timeout' }
    const command = this.#command(request)
    const proposedAtMs = this.#clock.nowMs()
    const proposed = this.#replica.propose(command)
    if (proposed.type === 'overloaded') return { type: 'overloaded', reason: 'writes_in_flight' }
    if (proposed.type !== 'proposed') return proposed
    const settled = this.#pending.waitWrite(command.proposal, deadlineMs - this.#clock.nowMs())
    this.#loop.schedule()
    const settlement = await settled
    if (settlement.type === 'timeout') return { type: 'timeout' }
    // Dropped: it never got a slot, so trying again (here or at the new leader) is safe.
    if (settlement.type === 'dropped') return { type: 'not_leader', leader: this.#replica.status().leader }
    return writeOutcome(settlement.result, () => {
      const receipt = this.#receipts.receipt(settlement.slot, proposedAtMs)
      this.#live.recorder.writeApplied(receipt.commitMs)
      return receipt
    })
  }

  /** One write's command. Wall time rides along for the dedupe records' expiry (see kv.ts). */
  #command(request: WriteRequest): WriteCommand {
    return writeCommand(request, this.#nextProposal(), this.#clock.wallMs(), this.#config.quotaBytes)
  }

  /** Unique in the cluster: this node, this process start, a counter. */
  #nextProposal(): string {
    this.#proposals += 1
    return `${this.id}-${this.#incarnation}-${this.#proposals}`
  }

  /** Unique in the cluster: this node, this process start, a counter. */
  newRequestId(): RequestId {
    this.#requests += 1
    return `${this.id}-${this.#incarnation}-r${this.#requests}`
  }

  async readBarrier(deadlineMs: number): Promise<ReadBarrierOutcome> {
    if (this.#pending.readsFull) return { type: 'overloaded' }
    this.#reads += 1
    const id = this.#reads
    const started = this.#replica.read(id)
    if (started.type !== 'reading') return started
    const settled = this.#pending.waitRead(id, deadlineMs - this.#clock.nowMs())
    this.#loop.schedule()
    const settlement = await settled
    if (settlement === 'ready') return { type: 'ok' }
    if (settlement === 'timeout') return { type: 'timeout' }
    return { type: 'not_leader', leader: this.#replica.status().leader }
  }

  nowMs(): number {
    return this.#clock.nowMs()
  }

  wallMs(): number {
    return this.#clock.wallMs()
  }

  get(key: string): KvItem | null {
    return this.#stateMachine.get(key)
  }

  range(prefix: string, limit: number, after: string | null): KvPage {
    return this.#stateMachine.range(prefix, limit, after)
  }

  revision(): Revision {
    return this.#stateMachine.revision()
  }

  newLeaseId(): LeaseId {
    // 62 random bits, never 0: digits that fit int64 for etcd clients.
    return leaseId(String((randomBytes(8).readBigUInt64BE(0) >> 2n) | 1n))
  }

  async keepalive(id: LeaseId, deadlineMs: number): Promise<LeaseCall<Readonly<{ ttlSeconds: number }>>> {
    const startedMs = this.#clock.nowMs()
    const barrier = await this.readBarrier(deadlineMs)
    if (barrier.type !== 'ok') return barrier
    const outcome = this.#leases.keepalive(id, this.#clock.nowMs() - startedMs)
    switch (outcome.type) {
      case 'renewed':
        return { type: 'ok', value: { ttlSeconds: outcome.ttlSeconds } }
      case 'gone':
        return { type: 'not_found' }
      case 'late':
        return { type: 'timeout' } // the leader could not confirm its leadership in time to renew
      case 'taking-over':
        return { type: 'timeout' } // a new leader whose epoch marker is not applied yet: as late
    }
  }

  async leaseViews(id: LeaseId | null, deadlineMs: number): Promise<LeaseCall<readonly LeaseView[]>> {
    const barrier = await this.readBarrier(deadlineMs)
    if (barrier.type !== 'ok') return barrier
    const view = (lease: LeaseId, ttlSeconds: number, keys: readonly string[]): LeaseView =>
      ({ id: lease, ttlSeconds, remainingSeconds: this.#leases.remainingSeconds(lease) ?? ttlSeconds, keys })
    if (id === null) return { type: 'ok', value: [...this.#stateMachine.leases()].map(([lease, ttlSeconds]) => view(lease, ttlSeconds, [])) }
    const lease = this.#stateMachine.lease(id)
    if (lease === null) return { type: 'not_found' }
    return { type: 'ok', value: [view(id, lease.ttlSeconds, this.#stateMachine.leaseKeys(id))] }
  }

  /** One tick of the lease clock: on the leader, an expired lease's revoke is proposed. */
  #leaseTick(): void {
    // A change is chosen, then in force α slots later: only then does the old list stop counting.
    if (this.#membersChanged()) this.#syncMembers()
    // A leader change ends watch streams (api.md) also on a follower that never campaigned.
    const leader = this.#replica.status().leader
    if (leader !== null && leader !== this.#followedLeader) {
      if (this.#followedLeader !== null) this.#watches.closeAll()
      this.#followedLeader = leader
    }
    if (this.#replica.status().role !== 'leader') return
    for (const proposal of this.#leases.tick()) this.#proposeForLeases(proposal)
  }

  /**
   * The leader's own lease commands (its epoch marker, an expiry's revoke), for no client: no
   * one waits for them. Their outcome shows in the state, and the keeper proposes again what did
   * not take effect (after its retry interval).
   */
  #proposeForLeases(proposal: LeaseProposal): void {
    if (proposal.type === 'lease-revoke') this.#logger.info({ lease: proposal.id }, 'lease expired: revoking it')
    else this.#logger.debug({ ballot: proposal.ballot }, 'proposing the lease epoch marker')
    const command: WriteCommand = { ...proposal, proposal: this.#nextProposal(), idempotency: null }
    if (this.#replica.propose(command).type === 'proposed') this.#loop.schedule()
  }

  watchHistory(): WatchHistory {
    return this.#stateMachine.history
  }

  openWatch(): WatchHandle | null {
    return this.#watches.open()
  }

  scan(range: KeyRange, bounds: ScanBounds): KvPage {
    return this.#stateMachine.scan(range, bounds)
  }

  count(range: KeyRange): number {
    return this.#stateMachine.count(range)
  }

  usedBytes(): number {
    return this.#stateMachine.usedBytes()
  }

  readTxn(txn: TxnSpec): TxnResult {
    return this.#stateMachine.readTxn(txn)
  }

  status(): StatusBody {
    const lag = this.#replica.peerLag()
    const peers = [...this.#memberIds]
      .filter((id) => id !== this.id)
      .map((id) => ({ id, url: this.peerUrl(id) ?? '', reachable: this.#links.reachable(id), lagSlots: lag.get(id) ?? null }))
    const snapshot = { newestIndex: this.#storage.snapshots.latest()?.index ?? null, logCompactedThrough: this.#storage.acceptorStorage.log.compactedThrough(), sent: this.#snapshotsSent, installed: this.#snapshotsInstalled }
    return { ...this.#replica.status(), revision: revision(this.#stateMachine.revision()), peers, snapshot, etcdUrl: this.#etcdUrl }
  }

  newestSnapshot(): SnapshotSource | null {
    const latest = this.#storage.snapshots.latest()
    if (latest === null) return null
    return {
      index: latest.index,
      revision: latest.revision,
      chunks: () => this.#storage.snapshots.read(latest),
      onDone: (sent) => {
        if (!sent) return
        this.#snapshotsSent += 1
        this.#metrics.snapshotsSent.inc()
        this.#logger.info({ index: latest.index, bytes: latest.sizeBytes }, 'sent a snapshot to a lagging peer')
      },
    }
  }

  async admitPeer(peer: NodeId, incarnation: string): Promise<AdmitOutcome> {
    await this.#admitting.get(peer)
    const peers = this.#storage.peerIncarnations
    const known = peers.known(peer)
    if (known !== null) return known === incarnation ? { type: 'admitted' } : { type: 'changed', known }
    // First contact: on disk before any of its messages is believed (fresh-start-decision.ts).
    this.#storage.atomically(() => peers.record(peer, incarnation))
    const synced = new Promise<void>((resolve) => this.#storage.whenSynced(resolve))
    this.#admitting.set(peer, synced)
    await synced
    this.#admitting.delete(peer)
    this.#logger.info({ peer, incarnation }, `node ${peer} reached this node for the first time: its incarnation ${incarnation} is recorded`)
    return { type: 'admitted' }
  }

  identity(asker: NodeId): IdentityAnswer {
    return { node: this.id, clusterId: this.#config.clusterId, candidateClusterId: null, knowsAsker: this.#storage.peerIncarnations.known(asker) }
  }

  deliver(envelopes: readonly Envelope<WriteCommand>[]): DeliverOutcome {
    const outcome = this.#loop.deliver(envelopes)
    if (outcome === 'queued') this.#live.recorder.received(envelopes)
    return outcome
  }

  stepThrough(): StepThroughPort | null {
    return this.#step
  }

  liveEvents(): LiveSubscription | null {
    return this.#live.subscribe()
  }

  async metrics(): Promise<string> {
    const status = this.#replica.status()
    this.#metrics.commitIndex.set(status.commitIndex)
    this.#metrics.appliedIndex.set(status.appliedIndex)
    this.#metrics.applyLag.set(status.commitIndex - status.appliedIndex)
    this.#metrics.liveDataBytes.set(this.#stateMachine.usedBytes())
    this.#metrics.inboxDepth.set(this.#loop.inboxDepth)
    this.#metrics.ballotRound.set(status.ballot.round)
    advanceCounter(this.#metrics.peerMessagesSent, this.#reported.sent, this.#links.counters.sent)
    advanceCounter(this.#metrics.peerMessagesDropped, this.#reported.dropped, this.#links.counters.dropped)
    advanceCounter(this.#metrics.peerMessagesOversized, this.#reported.oversized, this.#links.counters.oversized)
    const lag = this.#replica.peerLag()
    for (const id of this.#memberIds) {
      if (id === this.id) continue
      this.#metrics.peerReachable.set({ peer: String(id) }, this.#links.reachable(id) ? 1 : 0)
      this.#metrics.peerLag.set({ peer: String(id) }, lag.get(id) ?? 0)
    }
    return this.#metrics.registry.metrics()
  }

  #liveInputs(): FrameInputs {
    const status = this.status()
    return {
      atMs: this.#clock.nowMs(),
      node: {
        id: status.id, role: status.role, leader: status.leader, promised: formatBallot(status.ballot), commitIndex: status.commitIndex,
        appliedIndex: status.appliedIndex, revision: status.revision, inboxDepth: this.#loop.inboxDepth,
      },
      peers: status.peers.map((peer) => ({ id: peer.id, reachable: peer.reachable, lagSlots: peer.lagSlots })),
      held: this.#step?.view().held ?? null,
    }
  }

  /** Labelled series looked up once per label set: hashing labels on every request shows in profiles. */
  observeRequest(route: string, method: string, status: number, durationMs: number): void {
    const key = `${route} ${method} ${status}`
    let series = this.#requestSeries.get(key)
    if (series === undefined) {
      series = { count: this.#metrics.httpRequests.labels(route, method, String(status)), latency: this.#metrics.httpLatency.labels(route, method) }
      this.#requestSeries.set(key, series)
    }
    series.count.inc()
    series.latency.observe(durationMs / 1000)
  }

  #onEvent(event: CoreEvent): void {
    this.#live.recorder.coreEvent(event, this.#clock.nowMs())
    switch (event.type) {
      case 'slots-chosen':
        this.#metrics.slotsChosen.inc(event.lastSlot - event.firstSlot + 1)
        this.#receipts.chosen(event, this.#clock.nowMs())
        return
      case 'pre-vote-started':
        this.#metrics.preVotes.inc()
        this.#logger.debug({ ballot: event.ballot }, 'asking for pre-votes')
        return
      case 'became-candidate':
        this.#metrics.elections.inc()
        this.#logger.info({ ballot: event.ballot }, 'campaigning')
        return
      case 'became-leader':
        // A leader change ends watch streams (api.md): clients resume from their last revision.
        this.#watches.closeAll()
        // Every lease starts over at its full TTL: a leader change never ends one early. The
        // keeper serves once its epoch marker at this ballot is applied.
        this.#leases.becameLeader(event.ballot)
        this.#metrics.leaderChanges.inc()
        this.#logger.info({ ballot: event.ballot, recoveredThrough: event.recoveredThrough }, 'became leader')
        return
      case 'became-follower':
        this.#watches.closeAll()
        this.#leases.steppedDown()
        this.#logger.info({ ballot: event.ballot, reason: event.reason }, 'stepped down')
        return
      case 'catch-up-requested':
        return
      case 'config-chosen':
        // Inside the core's turn: the links and the disk are touched after it.
        queueMicrotask(() => {
          if (this.#stopping) return
          this.#syncMembers()
          for (const waiter of [...this.#configWaiters]) if (sameMemberList(waiter.members, event.members)) waiter.resolve(true)
        })
        this.#logger.info({ slot: event.slot, members: event.members }, `configuration chosen in slot ${event.slot}: in force from slot ${governsFrom(event.slot)}`)
        return
    }
  }

  /** The newest usable snapshot replaces the empty state machine; else exit 2 (DataDirError). */
  #restoreNewestSnapshot(): void {
    try {
      this.#restoreNewestUsable()
    } catch (error) {
      if (error instanceof SnapshotStoreError || error instanceof SnapshotFormatError) throw new DataDirError('corrupt', `snapshot: ${error.message}`)
      throw error
    }
  }

  /**
   * Tries the snapshots newest first. One that is damaged, or of a format too old to restore, is
   * passed over for the one before it only while the log still holds every slot after that one
   * (replaying them rebuilds the same state), and with no snapshot left, only while the log holds
   * every slot from 1. Past a truncated log nothing can stand in for it: that refuses to start,
   * naming why. Damaged files are set aside (`.damaged`) only once another snapshot restored.
   */
  #restoreNewestUsable(): void {
    const store = this.#storage.snapshots
    const compactedThrough = this.#storage.acceptorStorage.log.compactedThrough()
    const damaged: Slot[] = []
    let passedOver: Error | null = null
    for (const index of store.indexes()) {
      if (index < compactedThrough) break // replaying from it would need truncated slots
      const started = this.#clock.nowMs()
      try {
        this.#stateMachine.restore(store.read({ index }))
      } catch (error) {
        if (!(error instanceof SnapshotFormatError) && !(error instanceof SnapshotStoreError && error.code === 'corrupt')) throw error
        passedOver ??= error
        if (!(error instanceof SnapshotTooOldError)) damaged.push(index)
        this.#logger.warn({ index, reason: error.message }, 'a snapshot cannot be restored: trying the one before it')
        continue
      }
      for (const bad of damaged) store.setAside(bad)
      const fields = { index, revision: this.#stateMachine.revision(), keys: this.#stateMachine.keyCount, ms: Math.round(this.#clock.nowMs() - started) }
      this.#logger.info(fields, passedOver === null ? 'restored the newest snapshot' : 'restored an older snapshot; the log after it replays the rest')
      return
    }
    if (compactedThrough > 0) {
      const why = passedOver === null ? 'no snapshot covers it' : `${passedOver.message}, and no older snapshot can stand in for it`
      throw new DataDirError('corrupt', `snapshot: the log is truncated through slot ${compactedThrough}: ${why}`)
    }
    if (passedOver === null) return
    for (const bad of damaged) store.setAside(bad)
    this.#logger.warn({ reason: passedOver.message }, 'no snapshot can be restored: rebuilding the state from the whole log instead')
  }

  #onSnapshotWritten(written: SnapshotWritten): void {
    this.#metrics.snapshotsWritten.inc()
    this.#metrics.snapshotBytes.set(written.meta.sizeBytes)
    this.#metrics.snapshotSliceSeconds.observe(written.longestSliceMs / 1000)
    this.#logger.info({ index: written.meta.index, bytes: written.meta.sizeBytes, chunks: written.chunks, ms: Math.round(written.durationMs), longestSliceMs: Math.round(written.longestSliceMs * 10) / 10 }, 'snapshot written')
    this.#truncateLogBehind(written.meta.index)
  }

  /**
   * The snapshot through `durableIndex` is fsynced and renamed into place: the log may go
   * behind it, keeping --log-retain-slots. Runs between turns (never inside one), and the
   * truncation is one SQLite transaction: a crash leaves the old log or the truncated one, and
   * losing the truncation costs only disk. The promise is untouched.
   */
  #truncateLogBehind(durableIndex: Slot): void {
    const log = this.#storage.acceptorStorage.log
    const before = log.compactedThrough()
    // Never past what this replica applied (a snapshot is never ahead of it; assert the pair).
    const applied = this.#replica.status().appliedIndex
    assert(durableIndex <= applied, `a durable snapshot at ${durableIndex} is ahead of the applied index ${applied}`)
    const through = compactLog(log, durableIndex, this.#config.logRetainSlots)
    if (through === before) return
    this.#replica.compacted(through)
    this.#metrics.logCompactedThrough.set(through)
    this.#logger.debug({ through, snapshot: durableIndex }, 'truncated the log behind the snapshot')
  }

  /**
   * The learner lacks slots `from` has compacted: pull its newest snapshot into the local store
   * (temporary file, fsync, rename), then tell the replica, whose next Ready installs it. One
   * fetch at a time; a failed one is asked for again by the learner after a while.
   */
  #fetchSnapshot(from: NodeId, through: Slot): void {
    const url = this.peerUrl(from)
    if (this.#fetching !== null || this.#stopping || url === null) return
    const fetching = new AbortController()
    this.#fetching = fetching
    const started = this.#clock.nowMs()
    this.#logger.info({ from, through }, 'this node lacks slots the peer has compacted: fetching its snapshot')
    void fetchSnapshot({
      url,
      secret: this.#config.secret,
      clusterId: this.#config.clusterId,
      newerThan: this.#stateMachine.appliedIndex(),
      store: this.#storage.snapshots,
      chunkBytesMax: snapshotTransferChunkBytesMax,
      idleTimeoutMs: snapshotFetchIdleMs,
      signal: fetching.signal,
    }).then((outcome) => {
      this.#fetching = null
      if (this.#stopping) return
      switch (outcome.type) {
        case 'stored':
          this.#logger.info({ from, index: outcome.index, bytes: outcome.bytes, ms: Math.round(this.#clock.nowMs() - started) }, 'fetched a snapshot')
          this.#snapshotter.coveredBy(outcome.index)
          this.#replica.snapshotReady(outcome.index)
          this.#loop.schedule()
          return
        case 'not_newer':
          return this.#logger.info({ from, index: outcome.index }, 'the peer has no newer snapshot than this node')
        case 'failed':
          this.#metrics.snapshotFetchesFailed.inc()
          return this.#logger.warn({ from, reason: outcome.reason }, 'a snapshot fetch broke off; asking again later')
        default:
          return assertNever(outcome)
      }
    })
  }

  /**
   * Inside the install turn's transaction: the fetched snapshot (the newest in the store)
   * replaces the state machine in one swap, and the log is truncated through it. A crash before
   * the transaction commits restarts from that same snapshot (the newest) and the old log.
   */
  #installSnapshot(index: Slot): void {
    const latest = this.#storage.snapshots.latest()
    assert(latest !== null && latest.index === index, `install of ${index}, but the newest snapshot is at ${latest?.index ?? 'none'}`)
    this.#stateMachine.restore(this.#storage.snapshots.read(latest))
    assert(this.#stateMachine.appliedIndex() === index, `the snapshot at ${index} restored applied index ${this.#stateMachine.appliedIndex()}`)
    this.#storage.acceptorStorage.log.truncatePrefix(index)
    this.#storage.snapshots.prune(limits.snapshotsRetained)
    if (this.#replica.status().role === 'leader') this.#leases.installed()
    this.#snapshotsInstalled += 1
    this.#metrics.snapshotsInstalled.inc()
    this.#metrics.logCompactedThrough.set(index)
    this.#logger.info({ index, revision: latest.revision, keys: this.#stateMachine.keyCount }, 'installed a snapshot from a peer')
  }

  /** Takes a snapshot now, whatever the interval (benchmarks, tests). */
  takeSnapshot(): void {
    this.#snapshotter.take()
  }
}
