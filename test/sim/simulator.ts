/**
 * The deterministic simulator: real Replicas driven through the production processReady, a
 * seeded network, crashes that keep only the disk, and seeded clients. A safety phase with
 * faults, then a liveness phase: crash and restart everyone, heal, and demand convergence.
 */
import { ballotZero, forkRandom, type Ballot, type LeaseId, formatBallot, isCoreEntry, leaseId, limits, nodeId, randomBelow, randomChance, seededRandom, type ChosenEntry, type CoreEvent, type Envelope, type NodeId, type Random } from '../../src/core/index.js'
import { type WriteCommand } from '../../src/kv/command.js'
import type { AppliedWrite } from '../../src/kv/state-machine.js'
import { AssertionError } from '../../src/core/assert.js'
import { LeaseKeeper, type KeepaliveOutcome } from '../../src/node/lease-keeper.js'
import { LeaseTimers, takeoverTicksFor } from '../../src/node/lease-timers.js'
import { processReady, type ReadyPorts } from '../../src/node/process-ready.js'
import { EarlyLeaseTimers } from './broken-lease-timers.js'
import { ForgetfulLeaseKeeper } from './broken-lease-keeper.js'
import { EpochBlindStateMachine } from './broken-lease-epoch.js'
import { LeaseLivenessChecker } from './checkers/lease-liveness.js'
import { LeaseSafetyChecker } from './checkers/lease-safety.js'
import { SimLeaseHolder } from './sim-leases.js'
import { checkDurability, checkDurableLogs } from './checkers/durability.js'
import { ExactlyOnceChecker } from './checkers/exactly-once.js'
import { checkLinearizability } from './checkers/linearizability.js'
import { checkLiveness } from './checkers/liveness.js'
import { checkNoDisruption, type PhaseEvent } from './checkers/disruption.js'
import { AgreementChecker } from './checkers/agreement.js'
import { OrderedApplyChecker } from './checkers/ordered-apply.js'
import { BallotChecker } from './checkers/ballots.js'
import { PromiseChecker } from './checkers/promises.js'
import { SnapshotRestoreChecker } from './checkers/snapshot-restore.js'
import { checkStaleReads } from './checkers/stale-reads.js'
import { MessageSizeChecker } from './checkers/message-sizes.js'
import { unboundedReports } from './unbounded-reports.js'
import { brokenSends, voteBelowPromise } from './broken-peers.js'
import { History } from './history.js'
import { isBrokenPeers, thinkTicksMax, type SimOptions } from './options.js'
import { readState, SimClient, type ClientCluster } from './sim-clients.js'
import { SimNetwork } from './sim-network.js'
import { choosePartition } from './sim-partitions.js'
import { productionStateMachine, SimNode, type StateMachineFactory } from './sim-node.js'
import { SimRpc } from './sim-rpc.js'
import { SimServer, type ForwardRpc, type SimReply, type SimRequest } from './sim-server.js'
import { Trace } from './trace.js'
import { SimWatcher, type WatchedCluster } from './sim-watchers.js'
import { checkWatchStreams } from './checkers/watch-streams.js'
import { SimReconfig, type ReconfigCluster } from './sim-reconfig.js'

/** How often the durable-log invariant is checked between crashes. */
const diskCheckTicks = 10
/** The disruption phase: settle, cut one follower off, heal (in election timeouts). */
const disruptionTimeouts = { settle: 2, cutOff: 4, healed: 6 }
/** A server's wait before it tries again to find the leader (production: 25 ms). */
const forwardRetryTicks = 2
/**
 * Leases: a tick of the lease clock is a second, so a TTL in seconds is that many ticks (a
 * little over one to three election timeouts); two holders take a few leases each.
 */
const leaseTickMs = 1000
const leaseTtlSeconds = [20, 45] as const
const leaseHolders = 2
const leasesPerHolder = 6
/**
 * The ticks a revoke may take from its proposal to its apply on the healed network, whose
 * delays are at most 2 ticks each way: two commit round trips (one to make room in a full
 * pipeline, one for the revoke) and the turn in which the leader applies it.
 */
const revokeApplySlackTicks = 2 * (2 + 2) + 2

/**
 * An assertion is the core's (or the state machine's) own invariant failing: a bug, never bad
 * input. Anything else thrown is a crash of the core or of the simulator; both fail the seed, so
 * that the run still ends with its summary and the replay command.
 */
function describeThrown(error: unknown, tick: number): string {
  if (error instanceof AssertionError) return `assertion at tick ${tick}: ${error.message}`
  const stack = error instanceof Error ? (error.stack ?? error.message).split('\n').slice(0, 6).join('\n    ') : String(error)
  return `unexpected error at tick ${tick}: ${stack}`
}

/** Thrown from a port to model a process killed in the middle of a turn. */
class KilledMidTurn extends Error {}

export type SimResult = Readonly<{ seed: number; failures: string[]; traceHash: string; traceTail: string[]; stats: string }>

export class Simulator implements ClientCluster, WatchedCluster {
  readonly #options: SimOptions
  readonly #random: { faults: Random; network: Random; nodes: Random; clocks: Random }
  /** Per node, the percent of ticks its clock misses (drift). */
  readonly #clockSkipPercent: Map<NodeId, number>
  readonly #ids: NodeId[]
  readonly #nodes: Map<NodeId, SimNode>
  readonly #network: SimNetwork
  /** Forwarded client requests between the nodes' servers. */
  readonly #rpc: SimRpc<ForwardRpc>
  /** Each up node's server (its HTTP side); gone with the node when it crashes. */
  readonly #servers = new Map<NodeId, SimServer>()
  /** proposal → the client request (op id) it carries, for the exactly-once checker. */
  readonly #opOfProposal = new Map<string, number>()
  readonly #clients: SimClient[]
  readonly #watchers: SimWatcher[]
  readonly #leaseHolders: SimLeaseHolder[]
  /** Each up node's lease countdowns (volatile: a restart starts with none, as the node does). */
  readonly #leaseKeepers = new Map<NodeId, LeaseKeeper>()
  readonly #leaseSafety = new LeaseSafetyChecker((ttlSeconds) => Math.ceil((ttlSeconds * 1000) / leaseTickMs))
  readonly #leaseLiveness = new LeaseLivenessChecker({ ticksOf: (ttlSeconds) => Math.ceil((ttlSeconds * 1000) / leaseTickMs), marginTicks: limits.electionTimeoutTicks, applySlackTicks: revokeApplySlackTicks })
  /** An expiry's revoke proposal → the lease, and the leader and tick that decided it. */
  readonly #expiries = new Map<string, Readonly<{ lease: string; node: NodeId; ballot: Ballot; decidedAt: number }>>()
  /** The expiry proposals the state machine ignored as stale (a newer leader's epoch was applied first). */
  readonly #staleExpiries = new Set<string>()
  readonly history = new History()
  readonly trace = new Trace()
  readonly #agreement = new AgreementChecker()
  readonly #orderedApply = new OrderedApplyChecker()
  readonly #exactlyOnce = new ExactlyOnceChecker((proposal) => this.#opOfProposal.get(proposal))
  readonly #promises = new PromiseChecker()
  readonly #reconfig: SimReconfig
  readonly #ballots = new BallotChecker()
  readonly #snapshotRestore: SnapshotRestoreChecker
  readonly #messageSizes: MessageSizeChecker
  readonly #failures: string[] = []
  /** Snapshot transfers under way, by receiving node. */
  readonly #transfers = new Map<NodeId, { from: NodeId; at: number; incarnations: readonly [number, number] }>()
  installs = 0
  #disksFailed = false
  /** The trace line that reports the first violation, once there is one. */
  #failedAtLine: number | null = null
  /** Nodes to kill at the start of the next tick (see crashAfterPromisePercent). */
  readonly #crashNext = new Set<NodeId>()
  /** Paused nodes: the tick each wakes up, and the envelopes that arrived meanwhile, in order. */
  readonly #paused = new Map<NodeId, { until: number; inbox: Envelope<WriteCommand>[] }>()
  now = 0
  /** Ticks the liveness phase took to finish every request and converge. */
  livenessTicks = 0
  #livenessConverged = false
  /** Core events of the disruption phase, while it runs. */
  #phaseEvents: PhaseEvent[] | null = null

  constructor(options: SimOptions) {
    this.#options = options
    this.#messageSizes = new MessageSizeChecker(options.byteLimits)
    const root = seededRandom(options.seed ^ 0x5eed)
    this.#random = { faults: forkRandom(root), network: forkRandom(root), nodes: forkRandom(root), clocks: forkRandom(root) }
    const clientsRandom = forkRandom(root)
    this.#ids = Array.from({ length: options.nodes }, (_, index) => nodeId(index + 1))
    // Request-id records live a little over one client timeout (atMs is the tick), so the
    // simulator checks that no copy of a forwarded write is proposed after its record expired.
    // Idempotency-Key records keep the production retention: clients retry a keyed write for as
    // long as it takes.
    const records = { request: { recordsMax: limits.requestRecordsMax, retentionMs: 2 * options.requestTimeoutTicks } }
    // The reference keeps every change of the run; the nodes keep a few, so streams meet 410.
    const makeStateMachine: StateMachineFactory = options.sabotage === 'lease-ignore-epoch' ? (given) => new EpochBlindStateMachine(given) : productionStateMachine
    this.#snapshotRestore = new SnapshotRestoreChecker({ ...records, snapshotChunkBytesMax: options.snapshotChunkBytesMax, history: { revisionsMax: 1_000_000, bytesMax: 1 << 30 } }, makeStateMachine)
    const nodeOptions = { ...records, history: { revisionsMax: options.historyRevisions, bytesMax: 1 << 30 } }
    const snapshot = { everySlots: options.snapshotEverySlots, everyCommands: options.snapshotEveryCommands, everyBytes: options.snapshotEveryBytes, chunkBytesMax: options.snapshotChunkBytesMax }
    this.#nodes = new Map(this.#ids.map((id) => [id, new SimNode(id, snapshot, nodeOptions, makeStateMachine)]))
    this.#watchers = ['', 'k0'].map((prefix) => new SimWatcher(forkRandom(clientsRandom), prefix))
    this.#clockSkipPercent = new Map(this.#ids.map((id) => [id, randomBelow(this.#random.clocks, options.clockSkipPercentMax + 1)]))
    this.#network = new SimNetwork(this.#random.network, options)
    const keys = Array.from({ length: options.keys }, (_, index) => `k${index}`)
    this.#clients = Array.from({ length: options.clients }, (_, index) => new SimClient({
      id: index + 1, random: forkRandom(clientsRandom), history: this.history, keys,
      requests: options.requestsPerClient, timeoutTicks: options.requestTimeoutTicks, thinkTicksMax: thinkTicksMax(options), valueBytes: options.valueBytes,
    }))
    this.#rpc = new SimRpc(forkRandom(root), options, (from, to) => this.#network.connected(from, to))
    const leasesRandom = forkRandom(root)
    this.#leaseHolders = Array.from({ length: leaseHolders }, (_, index) => new SimLeaseHolder({
      id: index + 1, random: forkRandom(leasesRandom), checker: this.#leaseSafety, timeoutTicks: options.requestTimeoutTicks, ttlSeconds: leaseTtlSeconds, leases: leasesPerHolder,
    }))
    this.#reconfig = new SimReconfig(forkRandom(root), options.reconfigPerMille)
    for (const id of this.#ids) this.#start(id)
  }

  /** The simulator as the membership driver sees it: the leader's view, and replaced disks. */
  readonly #reconfigCluster: ReconfigCluster = {
    ids: () => this.#ids,
    leader: () => {
      const id = this.#ids.find((candidate) => this.#nodes.get(candidate)!.replica?.status().role === 'leader')
      if (id === undefined) return null
      const replica = this.#nodes.get(id)!.replica!
      return { id, view: replica.membership(), settled: replica.membershipSettled(), caughtUp: (member) => replica.caughtUp(member), propose: (members) => replica.proposeConfig(members).type === 'proposed' }
    },
    replaceDisk: (id, config) => {
      if (this.#nodes.get(id)!.up) this.#crash(id)
      this.#nodes.get(id)!.replaceDisk(config)
      this.#promises.replaced(id)
      this.trace.add(this.now, `node ${id}: its disk is replaced; it joins with the configuration of slot ${config.slot}`)
      this.#start(id)
    },
    trace: (line) => this.trace.add(this.now, line),
  }

  run(): SimResult {
    try {
      for (; this.now < this.#options.safetyTicks; this.now += 1) {
        this.#injectFaults()
        this.#tick()
        if (this.now % diskCheckTicks === 0) this.#checkDisks(`at tick ${this.now}`)
        this.#noteFirstFailure()
      }
      this.#liveness()
      this.#disruption()
    } catch (error) {
      this.#failures.push(describeThrown(error, this.now))
    }
    this.#noteFirstFailure()
    this.#failures.push(...this.#agreement.violations, ...this.#orderedApply.violations, ...this.#exactlyOnce.violations, ...this.#promises.violations, ...this.#ballots.violations, ...this.#snapshotRestore.violations, ...this.#messageSizes.violations, ...this.#leaseSafety.violations, ...this.#leaseLiveness.violations)
    this.#failures.push(...checkLinearizability(this.history.forChecking()), ...checkStaleReads(this.history.ops))
    this.#failures.push(...checkWatchStreams(this.#watchers.flatMap((watcher) => watcher.streams), this.#snapshotRestore.history))
    const traceTail = this.#failedAtLine === null ? this.trace.tail(40) : this.trace.upTo(this.#failedAtLine, 40)
    const completed = this.history.ops.filter((op) => op.result !== null).length
    const snapshots = [...this.#nodes.values()].reduce((sum, node) => sum + node.snapshotsWritten, 0)
    const stats = `${this.#options.nodes} nodes, ${this.now} ticks, ${this.history.ops.length} ops (${completed} completed, ${this.history.ops.filter((op) => op.kind === 'txn' && op.result !== null).length} txns), ${this.#agreement.slots} slots, ${snapshots} snapshots, ${this.#snapshotRestore.restores} restores, ${this.installs} installs, ${this.#watchers.reduce((sum, watcher) => sum + watcher.streams.reduce((events, stream) => events + stream.events.length, 0), 0)} watch events in ${this.#watchers.reduce((sum, watcher) => sum + watcher.streams.length, 0)} streams, ${this.#leaseHolders.reduce((sum, holder) => sum + holder.keepalivesAnswered, 0)} keepalives, ${this.#leaseSafety.expiries} lease expiries (${this.#staleExpiries.size} stale, ignored), ${this.#reconfig.changes} membership changes (${this.#reconfig.replacedDisks} disks replaced), liveness in ${this.livenessTicks} ticks, largest message ${this.#messageSizes.largestBytes} of ${this.#options.byteLimits.messageBytesMax} bytes`
    // The outcome joins the hash: two runs of a seed must agree on it, not only on the events.
    this.trace.add(this.now, `end: ${stats}, ${this.#failures.length} failures`)
    return { seed: this.#options.seed, failures: this.#failures, traceHash: this.trace.hash, traceTail, stats }
  }

  /** Nodes a client can reach: up and not paused. */
  changeHistory(node: NodeId): ReturnType<WatchedCluster['changeHistory']> {
    return this.#nodes.get(node)!.stateMachine.history
  }

  revision(node: NodeId): number {
    return this.#nodes.get(node)!.stateMachine.revision()
  }

  upNodes(): NodeId[] {
    return this.#ids.filter((id) => this.#nodes.get(id)!.up && !this.#paused.has(id))
  }

  send(node: NodeId, request: SimRequest, deadline: number, reply: (reply: SimReply) => void): void {
    this.#servers.get(node)?.receive(request, deadline, reply, null)
  }

  staleRead(node: NodeId, key: string): ReturnType<ClientCluster['staleRead']> {
    return readState(this.#nodes.get(node)!.stateMachine, key)
  }

  #liveness(): void {
    // Durability: every node crashes at once and restarts from its disk alone.
    this.#crashAll('the final whole-cluster crash')
    for (const id of this.#ids) this.#start(id)
    this.#network.heal()
    this.#network.faultsOn = false
    this.#rpc.faultsOn = false
    this.trace.add(this.now, 'liveness: healed, all nodes restarted')
    for (const client of this.#clients) client.enterLiveness()
    for (const holder of this.#leaseHolders) holder.stop()
    this.#leaseLiveness.healed()
    const healedAt = this.now
    const deadline = this.now + this.#options.livenessTicksMax
    let converged = false
    for (; this.now < deadline; this.now += 1) {
      this.#tick()
      this.#noteFirstFailure()
      // Every node a voter again first: a removed one would never converge.
      converged = this.#reconfig.restore(this.#reconfigCluster, this.now) && this.#converged()
      if (converged && this.#clients.every((client) => client.idle) && this.#leasesLeft().size === 0) break
    }
    this.livenessTicks = this.now - healedAt
    this.#leaseLiveness.finished(this.#leasesLeft(), this.livenessTicks)
    // The tick the loop broke in is done: the next phase starts at the next one (the lease
    // checker measures time in `now`, and two ticks at one `now` made a TTL look a tick short).
    this.now += 1
    this.#livenessConverged = converged
    const perNode = (value: (node: SimNode) => number) => new Map(this.#ids.map((id) => [id as number, value(this.#nodes.get(id)!)]))
    this.#failures.push(...checkLiveness({
      pendingOps: this.#clients.map((client) => client.pendingOp).filter((op) => op !== null),
      unissued: new Map(this.#clients.map((client) => [client.id, client.unissued])),
      appliedIndexes: perNode((node) => node.stateMachine.appliedIndex()),
      converged,
      budget: this.#options.livenessTicksMax,
    }))
    this.#failures.push(...checkDurability(this.history.ops, perNode((node) => node.stateMachine.revision())))
  }

  /**
   * After convergence, with no faults: one follower is cut off for several election timeouts
   * while the leader takes writes, then the network heals. See checkers/disruption.ts.
   */
  #disruption(): void {
    if (!this.#livenessConverged) return
    this.#runTicks(disruptionTimeouts.settle * limits.electionTimeoutTicks)
    const leader = this.#ids.find((id) => this.#nodes.get(id)!.replica!.status().role === 'leader')
    if (leader === undefined) {
      this.#failures.push(`disruption: no leader ${disruptionTimeouts.settle} election timeouts after the cluster converged`)
      return
    }
    const cutOff = this.#ids.filter((id) => id !== leader)[randomBelow(this.#random.faults, this.#ids.length - 1)]!
    this.#phaseEvents = []
    this.#network.cut(this.#ids.filter((id) => id !== cutOff).flatMap((id) => [[id, cutOff], [cutOff, id]] as const), `isolate ${cutOff}`)
    this.trace.add(this.now, `disruption: isolate ${cutOff} under leader ${leader}`)
    const cutOffTicks = disruptionTimeouts.cutOff * limits.electionTimeoutTicks
    for (let tick = 0; tick < cutOffTicks; tick += 10) {
      const command: WriteCommand = { type: 'put', proposal: `disruption-${tick}`, key: 'disruption', value: '', cas: null, idempotency: null }
      this.#nodes.get(leader)!.replica!.propose(command)
      this.#runTicks(10)
    }
    this.#network.heal()
    this.trace.add(this.now, 'disruption: healed')
    this.#runTicks(disruptionTimeouts.healed * limits.electionTimeoutTicks)
    const leaderAtEnd = this.#ids.find((id) => this.#nodes.get(id)!.replica!.status().role === 'leader') ?? null
    const appliedIndexes = new Map(this.#ids.map((id) => [id as number, this.#nodes.get(id)!.stateMachine.appliedIndex()]))
    this.#failures.push(...checkNoDisruption({ leader, cutOff, events: this.#phaseEvents, leaderAtEnd, appliedIndexes }))
    this.#phaseEvents = null
  }

  #runTicks(ticks: number): void {
    for (let tick = 0; tick < ticks; tick += 1, this.now += 1) {
      this.#tick()
      this.#noteFirstFailure()
    }
  }

  /** node → the leases its replica still holds (none, for a node that holds none). */
  #leasesLeft(): Map<number, string[]> {
    const left = new Map<number, string[]>()
    for (const id of this.#ids) {
      const leases = [...this.#nodes.get(id)!.stateMachine.leases()].map(([lease]) => lease as string)
      if (leases.length > 0) left.set(id, leases)
    }
    return left
  }

  #converged(): boolean {
    const statuses = this.#ids.map((id) => this.#nodes.get(id)!.replica!.status())
    if (!statuses.some((status) => status.role === 'leader')) return false
    const applied = statuses[0]!.appliedIndex
    return statuses.every((status) => status.appliedIndex === applied && status.commitIndex === applied)
  }

  #tick(): void {
    this.#wakeUp()
    this.#finishTransfers()
    for (const envelope of this.#network.due(this.now)) {
      const paused = this.#paused.get(envelope.to)
      if (paused === undefined) this.#deliver(envelope)
      else paused.inbox.push(envelope)
    }
    for (const node of this.#nodes.values()) {
      if (this.#paused.has(node.id)) continue
      if (randomChance(this.#random.clocks, this.#clockSkipPercent.get(node.id)!, 100)) continue
      node.replica?.tick()
      this.#leaseTick(node)
    }
    for (const { from, to, payload } of this.#rpc.due(this.now, (to) => !this.#paused.has(to))) this.#servers.get(to)?.onRpc(from, payload)
    for (const [id, server] of this.#servers) if (!this.#paused.has(id)) server.tick()
    for (const client of this.#clients) client.tick(this)
    for (const holder of this.#leaseHolders) holder.tick(this)
    for (const watcher of this.#watchers) watcher.tick(this)
    for (const node of this.#nodes.values()) if (!this.#paused.has(node.id)) this.#processReady(node)
    this.#leaseLiveness.endOfTick(this.now, (node, lease) => this.#nodes.get(nodeId(node))!.stateMachine.lease(leaseId(lease)) !== null)
  }

  /** Paused nodes whose time is up read their waiting mail, in arrival order. */
  #wakeUp(): void {
    for (const [id, paused] of this.#paused) {
      if (paused.until > this.now) continue
      this.#paused.delete(id)
      this.trace.add(this.now, `node ${id} resumed (${paused.inbox.length} envelopes waiting)`)
      for (const envelope of paused.inbox) this.#deliver(envelope)
    }
  }

  /** One drain of the node's Ready through the production ordering; it may die halfway. */
  #processReady(node: SimNode): void {
    const replica = node.replica
    if (replica === null) return
    try {
      if (node.waitingForSync.length > 0) {
        this.#maybeKill('before the disk synced')
        node.sync()
      }
      node.compact(this.#options.logRetainSlots, false)
      node.writeSnapshotChunk()
      processReady(replica, this.#readyPorts(node))
      if (this.#options.sabotage === 'truncate-unapplied') node.compact(this.#options.logRetainSlots, true)
    } catch (error) {
      if (!(error instanceof KilledMidTurn)) throw error
      this.trace.add(this.now, `node ${node.id} killed ${error.message}`)
      this.#crash(node.id)
    }
  }

  #readyPorts(node: SimNode): ReadyPorts {
    return {
      self: node.id,
      atomically: (work) => {
        this.#maybeKill('before a turn reached the disk')
        node.atomically(work)
      },
      whenSynced: (release) => node.waitingForSync.push(release),
      persist: (batch) => {
        if (batch.promised !== null && this.#network.faultsOn && randomChance(this.#random.faults, this.#options.crashAfterPromisePercent, 100)) this.#crashNext.add(node.id)
        for (const entry of batch.entries) if (entry.chosen) this.#agreement.chosen(node.id, entry.slot, entry.value)
        node.persist(batch)
      },
      apply: (entries) => this.#apply(node, entries),
      send: (all) => {
        this.#maybeKill('after a turn reached the disk, before its messages left')
        this.#transmit(node, all)
      },
      reads: (outcomes) => {
        for (const outcome of outcomes) this.#servers.get(node.id)?.onRead(outcome.id, outcome.type)
      },
      dropped: (proposals) => {
        for (const proposal of proposals) this.#servers.get(node.id)?.onDropped(proposal)
      },
      fetchSnapshot: (from, through) => this.#startTransfer(node, from, through),
      takeSnapshot: () => {
        node.take(node.beforeLastApply)
        node.beforeLastApply = null
      },
      installSnapshot: (index) => {
        node.install(index)
        this.#leasesInstalled(node)
        this.#orderedApply.installed(node.id, index)
        this.#snapshotRestore.restored(node.id, node.stateMachine)
        this.installs += 1
        return node.stateMachine.configurations()
      },
    }
  }

  /**
   * A snapshot transfer from `from` to `node`: it takes some ticks, and completes only if both
   * stay up (the same incarnations) and the link stays open both ways; else the learner asks
   * again later. One at a time per node, as the production fetch.
   */
  #startTransfer(node: SimNode, from: NodeId, through: number): void {
    if (this.#transfers.has(node.id)) return
    const ticks = 1 + randomBelow(this.#random.faults, this.#options.snapshotTransferTicksMax)
    const source = this.#nodes.get(from)!
    this.#transfers.set(node.id, { from, at: this.now + ticks, incarnations: [node.incarnation, source.incarnation] })
    this.trace.add(this.now, `node ${node.id} fetches a snapshot from ${from} (it lacks slots through ${through}), ${ticks} ticks`)
  }

  #finishTransfers(): void {
    for (const [id, transfer] of [...this.#transfers]) {
      if (transfer.at > this.now) continue
      this.#transfers.delete(id)
      const node = this.#nodes.get(id)!
      const source = this.#nodes.get(transfer.from)!
      const intact = node.up && source.up && node.incarnation === transfer.incarnations[0] && source.incarnation === transfer.incarnations[1]
      if (!intact || !this.#network.connected(transfer.from, id) || !this.#network.connected(id, transfer.from)) {
        this.trace.add(this.now, `node ${id}: the snapshot transfer from ${transfer.from} broke off`)
        continue
      }
      const snapshot = source.newestSnapshot()
      if (snapshot === null) continue
      const index = snapshot.meta.index
      this.trace.add(this.now, `node ${id} received a snapshot through ${index} from ${transfer.from}`)
      if (index <= Math.max(node.stateMachine.appliedIndex(), node.snapshots.latest()?.index ?? 0)) continue
      node.receiveSnapshot(snapshot)
      this.#orderedApply.received(id, index)
      node.replica!.snapshotReady(index)
    }
  }

  /** What a node sends, through the sabotage in force (if any) and the checkers, to the network. */
  #transmit(node: SimNode, all: readonly Envelope<WriteCommand>[]): void {
    const sabotage = this.#options.sabotage
    const answered = sabotage === 'skip-pre-vote' ? this.#answerPreVotes(node, all) : all
    const bounded = sabotage === 'unbounded-reports' ? unboundedReports(answered, node.storage) : answered
    const { sent: envelopes, forged } = isBrokenPeers(sabotage) ? brokenSends(sabotage, bounded, this.#ids) : { sent: bounded, forged: [] }
    this.#messageSizes.sent(envelopes, this.now)
    this.#promises.sent(envelopes, this.now)
    this.#ballots.sent(envelopes, node.incarnation, this.now)
    this.#network.send(envelopes, this.now)
    // Votes nobody cast: not any acceptor's message, so no acceptor's checker sees them.
    if (forged.length > 0) this.#network.send(forged, this.now)
  }

  /** Hands an envelope to its addressee (if up); a broken acceptor may vote instead of reading it. */
  #deliver(envelope: Envelope<WriteCommand>): void {
    const node = this.#nodes.get(envelope.to)!
    if (node.replica === null) return
    if (this.#options.sabotage === 'accept-below-promise') {
      const vote = voteBelowPromise(envelope, node.storage.promised)
      if (vote !== null) return this.#transmit(node, [vote])
    }
    node.replica.step(envelope)
  }

  /**
   * The skip-pre-vote sabotage: every pre-vote the node sends is answered yes at once by its
   * addressee, reached or not, so the node campaigns as if there were no pre-vote at all.
   */
  #answerPreVotes(node: SimNode, envelopes: readonly Envelope<WriteCommand>[]): Envelope<WriteCommand>[] {
    const rest: Envelope<WriteCommand>[] = []
    for (const envelope of envelopes) {
      const { from, to, message } = envelope
      if (message.type !== 'pre-vote') {
        rest.push(envelope)
        continue
      }
      node.replica?.step({ from: to, to: from, message: { type: 'pre-vote-reply', ballot: message.ballot, granted: true, promised: ballotZero } })
    }
    return rest
  }

  /** kill -9 can land between any two steps of a turn, not only between ticks. */
  #maybeKill(where: string): void {
    if (this.#network.faultsOn && randomChance(this.#random.faults, this.#options.killInTurnPerTenThousand, 10_000)) throw new KilledMidTurn(where)
  }

  #apply(node: SimNode, entries: readonly ChosenEntry<WriteCommand>[]): void {
    for (const entry of entries) {
      this.#agreement.record(node.id, entry.slot, entry.value)
      this.#orderedApply.applied(node.id, entry.slot)
    }
    node.beforeLastApply = this.#options.sabotage === 'snapshot-stale-index' ? node.stateMachine.snapshot() : null
    const results = node.stateMachine.apply(entries)
    this.#leasesApplied(node, entries, results)
    this.#snapshotRestore.applied(entries)
    this.#exactlyOnce.applied(node.id, entries, results)
    // Only the node that proposed a command answers for it, as in production.
    let write = 0
    for (const [index, applied] of results.entries()) {
      // Results come one per write, in log order: its place among its slot's writes.
      write = index > 0 && results[index - 1]!.slot === applied.slot ? write + 1 : 0
      const at = { slot: applied.slot, write }
      const expiry = this.#expiries.get(applied.proposal)
      if (expiry !== undefined && applied.result.type === 'lease_revoked') this.#leaseSafety.expiryApplied(expiry, expiry.lease, at, this.now)
      if (expiry !== undefined && applied.result.type === 'lease_expiry_stale') this.#staleExpiries.add(applied.proposal)
      if (applied.result.type === 'lease_granted') this.#leaseSafety.granted(applied.result.id, at, applied.result.created)
      this.#servers.get(node.id)?.onApplied(applied.proposal, applied.result)
    }
  }

  #injectFaults(): void {
    const random = this.#random.faults
    const options = this.#options
    this.#reconfig.step(this.#reconfigCluster, this.now)
    for (const id of this.#crashNext) if (this.#nodes.get(id)!.up) this.#crash(id)
    this.#crashNext.clear()
    if (!this.#network.partitioned && randomChance(random, options.partitionPerMille, 1000)) this.#partition(random)
    else if (this.#network.partitioned && randomChance(random, options.healPerMille, 1000)) {
      this.#network.heal()
      this.trace.add(this.now, 'network healed')
    }
    if (randomChance(random, options.crashAllPerMille, 1000)) this.#crashAll(`the whole-cluster crash at tick ${this.now}`)
    for (const id of this.#ids) {
      const node = this.#nodes.get(id)!
      if (node.up && randomChance(random, options.crashPerMille, 1000)) this.#crash(id)
      else if (!node.up && randomChance(random, options.restartPerMille, 1000)) this.#start(id)
      else if (node.up && !this.#paused.has(id) && randomChance(random, options.pausePerMille, 1000)) {
        const ticks = 1 + randomBelow(random, options.pauseTicksMax)
        this.#paused.set(id, { until: this.now + ticks, inbox: [] })
        this.trace.add(this.now, `node ${id} paused for ${ticks} ticks`)
      } else if (node.up && !this.#paused.has(id) && randomChance(random, options.campaignPerMille, 1000)) {
        this.trace.add(this.now, `node ${id} campaigns out of turn`)
        node.replica!.campaign()
      }
    }
  }

  #partition(random: Random): void {
    const leader = this.#ids.find((id) => this.#nodes.get(id)!.replica?.status().role === 'leader')
    const plan = choosePartition(random, this.#ids, leader)
    this.#network.cut(plan.links, plan.description)
    this.trace.add(this.now, `partition ${plan.description}`)
  }

  /** Every node goes down at once; what the disks kept must still hold every chosen value. */
  #crashAll(when: string): void {
    for (const id of this.#ids) if (this.#nodes.get(id)!.up) this.#crash(id)
    this.trace.add(this.now, 'crashed every node')
    this.#checkDisks(`after ${when}`)
  }

  /**
   * Marks the trace where the first violation showed up, so a failing seed prints the events that
   * led to it rather than the end of the run. (History checks run at the end and are not marked.)
   */
  #noteFirstFailure(): void {
    if (this.#failedAtLine !== null) return
    const first = [this.#failures, this.#agreement.violations, this.#orderedApply.violations, this.#exactlyOnce.violations, this.#promises.violations, this.#ballots.violations, this.#snapshotRestore.violations, this.#messageSizes.violations, this.#leaseSafety.violations, this.#leaseLiveness.violations]
      .find((violations) => violations.length > 0)?.[0]
    if (first === undefined) return
    this.trace.add(this.now, `FIRST FAILURE ${first.split('\n')[0]!.slice(0, 200)}`)
    this.#failedAtLine = this.trace.length - 1
  }

  /** The durable-log invariant, checked until it first fails (one report says it all). */
  #checkDisks(when: string): void {
    if (this.#disksFailed) return
    const disks = new Map(this.#ids.map((id) => [id as number, this.#nodes.get(id)!.durableValues()]))
    const violations = checkDurableLogs(this.#agreement.values, disks, when)
    this.#disksFailed = violations.length > 0
    this.#failures.push(...violations)
  }

  #crash(id: NodeId): void {
    const node = this.#nodes.get(id)!
    this.#paused.delete(id) // a stalled process can be killed too; its waiting mail dies with it
    const lost = node.crash(randomChance(this.#random.faults, 1, 2))
    // Its server dies with it: its requests get no answer, its connections are reset.
    this.#servers.delete(id)
    this.#leaseKeepers.delete(id)
    this.#leaseSafety.forgot(id, null)
    this.#leaseLiveness.forgot(id, null)
    this.#rpc.dropTo(id)
    for (const server of this.#servers.values()) server.onPeerCrashed(id)
    this.trace.add(this.now, `node ${id} crashed${lost ? ' and lost its unsynced commits' : ''}`)
  }

  #start(id: NodeId): void {
    const node = this.#nodes.get(id)!
    const restored = node.start({ members: this.#ids, random: this.#random.nodes, sabotage: this.#options.sabotage, byteLimits: this.#options.byteLimits, onEvent: (event) => this.#onEvent(id, event) })
    if (restored) this.#snapshotRestore.restored(id, node.stateMachine)
    this.#servers.set(id, new SimServer(id, node.incarnation, {
      now: () => this.now,
      replica: () => node.replica!,
      stateMachine: () => node.stateMachine,
      listening: (to) => this.#nodes.get(to)!.up,
      sendRpc: (to, rpc) => this.#rpc.send(id, to, rpc, this.now),
      proposed: (proposal, opId, forwarded) => {
        this.#opOfProposal.set(proposal, opId)
        if (forwarded && this.#network.faultsOn && randomChance(this.#random.faults, this.#options.crashAfterForwardPercent, 100)) this.#crashNext.add(id)
      },
      trace: (line) => this.trace.add(this.now, line),
      keepalive: (lease, barrierTicks) => this.#keepalive(id, lease, barrierTicks),
      retryDelay: forwardRetryTicks,
      blindRetry: this.#options.sabotage === 'blind-retry',
    }))
    const timers = { tickMs: leaseTickMs, retryTicks: limits.electionTimeoutTicks, takeoverTicks: takeoverTicksFor(leaseTickMs) }
    const state = { lease: (lease: LeaseId) => node.stateMachine.lease(lease), leases: () => node.stateMachine.leases(), leaseEpoch: () => node.stateMachine.leaseEpoch() }
    const leaseTimers = this.#options.sabotage === 'lease-expire-early' ? new EarlyLeaseTimers(timers) : new LeaseTimers(timers)
    this.#leaseKeepers.set(id, this.#options.sabotage === 'lease-never-expire' ? new ForgetfulLeaseKeeper(leaseTimers, state) : new LeaseKeeper(leaseTimers, state))
    this.#orderedApply.started(id, node.stateMachine.appliedIndex())
    this.trace.add(this.now, `node ${id} started (incarnation ${node.incarnation}, applied ${node.stateMachine.appliedIndex()})`)
  }

  #onEvent(id: NodeId, event: CoreEvent): void {
    this.#phaseEvents?.push({ node: id, tick: this.now, event })
    this.#leaseLeadership(id, event)
    if (event.type === 'slots-chosen' || event.type === 'catch-up-requested') return
    if (event.type === 'snapshot-installed') return this.trace.add(this.now, `node ${id} installed a snapshot through ${event.index}`)
    if (event.type === 'config-chosen') return this.trace.add(this.now, `node ${id} learned the configuration of slot ${event.slot}: ${event.members.map((member) => `${member.id}${member.role === 'learner' ? 'L' : ''}`).join(',')}`)
    const ballot = formatBallot(event.ballot)
    const status = this.#nodes.get(id)!.replica?.status()
    const indexes = status === undefined ? '' : ` commit=${status.commitIndex} applied=${status.appliedIndex}`
    this.trace.add(this.now, `node ${id} ${event.type} b=${ballot}${indexes}${event.type === 'became-follower' ? ` (${event.reason})` : ''}`)
  }

  /** As the node does: leading, the keeper restarts every lease at its full TTL; stepping down, it forgets them. */
  #leaseLeadership(id: NodeId, event: CoreEvent): void {
    const keeper = this.#leaseKeepers.get(id)
    if (keeper === undefined) return
    if (event.type === 'became-follower') {
      keeper.steppedDown()
      this.#leaseSafety.forgot(id, null)
      this.#leaseLiveness.forgot(id, null)
    }
    if (event.type !== 'became-leader') return
    keeper.becameLeader(event.ballot)
    for (const [lease, ttlSeconds] of this.#nodes.get(id)!.stateMachine.leases()) {
      this.#leaseSafety.restarted(id, lease, ttlSeconds, this.now, 'leadership')
      this.#leaseLiveness.restarted(id, lease, ttlSeconds)
    }
  }

  /** The leader's keepalive after its read barrier, which took `barrierTicks`, as node.keepalive: its outcome (a renewal restarts the countdown). */
  #keepalive(id: NodeId, lease: string, barrierTicks: number): KeepaliveOutcome {
    const outcome = this.#leaseKeepers.get(id)!.keepalive(leaseId(lease), barrierTicks * leaseTickMs)
    if (outcome.type !== 'renewed') return outcome
    this.#leaseSafety.restarted(id, lease, outcome.ttlSeconds, this.now, 'keepalive')
    this.#leaseLiveness.restarted(id, lease, outcome.ttlSeconds)
    this.#leaseSafety.acknowledged(id, this.#nodes.get(id)!.replica!.status().ballot, lease, outcome.ttlSeconds, this.now)
    return outcome
  }

  /** One tick of a node's lease clock (it misses the ticks its replica misses): on the leader, expired leases are revoked. */
  #leaseTick(node: SimNode): void {
    const keeper = this.#leaseKeepers.get(node.id)
    this.#leaseLiveness.ticked(node.id, this.now, keeper?.serving() === true)
    if (keeper === undefined || node.replica?.status().role !== 'leader') return
    const server = this.#servers.get(node.id)!
    for (const proposal of keeper.tick()) {
      if (proposal.type === 'lease-epoch') {
        this.trace.add(this.now, `node ${node.id}: proposing its lease epoch marker ${formatBallot(proposal.ballot)}`)
        server.proposeForLeases(proposal)
        continue
      }
      const lease = proposal.id
      this.#leaseSafety.expired(node.id, lease, this.now)
      this.trace.add(this.now, `node ${node.id}: lease ${lease} expired, proposing its revoke`)
      this.#expiries.set(server.proposeForLeases(proposal), { lease, node: node.id, ballot: proposal.expiryBallot, decidedAt: this.now })
    }
  }

  /** After a snapshot install: as the node does, a leader counts down the leases it brought. */
  #leasesInstalled(node: SimNode): void {
    const keeper = this.#leaseKeepers.get(node.id)
    if (keeper === undefined || node.replica?.status().role !== 'leader') return
    keeper.installed()
    for (const [lease, ttlSeconds] of node.stateMachine.leases()) {
      if (this.#leaseSafety.counts(node.id, lease)) continue
      this.#leaseSafety.restarted(node.id, lease, ttlSeconds, this.now, 'install')
      this.#leaseLiveness.restarted(node.id, lease, ttlSeconds)
    }
  }

  /**
   * After an apply: the leader's countdowns follow grants and revokes; every replica's revokes
   * leave nothing. An expiry ignored as stale is no revoke: the lease lives on, counted down.
   */
  #leasesApplied(node: SimNode, entries: readonly ChosenEntry<WriteCommand>[], results: readonly AppliedWrite[]): void {
    const leading = node.replica?.status().role === 'leader'
    const keeper = this.#leaseKeepers.get(node.id)
    if (leading) keeper?.applied(entries, results)
    const commands = entries.flatMap((entry) => entry.value.filter((command) => !isCoreEntry(command)))
    for (const [index, command] of commands.entries()) {
      if (isCoreEntry(command)) continue
      if (command.type === 'lease-revoke' && results[index]!.result.type !== 'lease_expiry_stale') {
        const lease = leaseId(command.id)
        this.#leaseSafety.forgot(node.id, command.id)
        this.#leaseLiveness.forgot(node.id, command.id)
        const regranted = commands.slice(index + 1).some((later) => later.type === 'lease-grant' && later.id === command.id)
        if (!regranted) this.#leaseSafety.revokeApplied(node.id, command.id, node.stateMachine.leaseKeys(lease).length, node.stateMachine.lease(lease) !== null, this.now)
      }
      if (command.type !== 'lease-grant' || !leading || keeper === undefined) continue
      const granted = node.stateMachine.lease(leaseId(command.id))
      if (granted === null || this.#leaseSafety.counts(node.id, command.id)) continue
      this.#leaseSafety.restarted(node.id, command.id, granted.ttlSeconds, this.now, 'grant')
      this.#leaseLiveness.restarted(node.id, command.id, granted.ttlSeconds)
    }
  }
}
