/**
 * The proposer role: a candidate running Phase 1 over the whole log suffix (read in pages of
 * bounded size), then the stable
 * leader streaming Phase 2 for successive slots (batched and pipelined), confirming read-index
 * rounds, and re-sending what was not answered.
 * @module
 */
import { assert } from './assert.js'
import { ballotsEqual, ballotZero, type Ballot } from './ballot.js'
import { configEntries, noopValue, type AppCommand, type CommandPort, type Value } from './command.js'
import { configDelaySlots, Configuration, sameMembers, type ConfigEntry, type Configurations } from './configuration.js'
import type { CoreEventSink } from './events.js'
import { slot, slotZero, type NodeId, type Slot } from './ids.js'
import type { Learner } from './learner.js'
import { limits, messageOverheadBytes, type ByteLimits } from './limits.js'
import type { Log } from './log.js'
import type { MessageSizes } from './message-size.js'
import type { AcceptedMessage, HeartbeatAckMessage, PromiseMessage } from './messages.js'
import type { Outputs } from './outputs.js'
import { VoteTally } from './quorum.js'
import type { ReadId } from './ready.js'
import { RecoveryMerge } from './recovery.js'
import { cutBatch, nextBatch } from './batch.js'
import { ChosenRuns } from './chosen-runs.js'
import { RetryPacer } from './pacer.js'
import { Timeout } from './timeout.js'

export type ProposerRole = 'idle' | 'candidate' | 'leader'

type Inflight<C extends AppCommand> = { readonly value: Value<C>; readonly bytes: number; readonly tally: VoteTally }
/** Phase 1 from one acceptor: its report arrives in pages, `nextSlot` is where the next page starts. */
type PromiseReport = { nextSlot: Slot; complete: boolean }
type PendingRead = Readonly<{ id: ReadId; readIndex: Slot; round: number }>

export type QueueResult = 'queued' | 'not_leader' | 'overloaded'

export class Proposer<C extends AppCommand> {
  readonly #self: NodeId
  readonly #configs: Configurations
  readonly #syncConfigs: () => void
  readonly #log: Log<C>
  readonly #learner: Learner<C>
  readonly #outputs: Outputs<C>
  readonly #onEvent: CoreEventSink
  readonly #bytes: ByteLimits
  readonly #commands: CommandPort<C>
  readonly #sizes: MessageSizes<C>
  #role: ProposerRole = 'idle'
  /** The ballot of the current campaign or leadership; ballotZero when idle. */
  #ballot: Ballot = ballotZero
  #fromSlot: Slot = slotZero
  #reports = new Map<NodeId, PromiseReport>()
  #recovery = new RecoveryMerge<C>(slotZero)
  /**
   * Candidate: the configurations whose voters must each give a quorum of complete reports.
   * Those in force for any slot from fromSlot on, and every configuration a report carries: a
   * slot after it may have been chosen by that configuration's voters.
   */
  #required: Configuration[] = []
  /** Leader: recovered values not yet proposed (proposing waits for slot t − α to be chosen). */
  #recovering = new Map<Slot, Value<C>>()
  /** Candidate: the highest compaction point a report named; every slot through it is chosen. */
  #reportedCompactedThrough: Slot = slotZero
  /** Invariant (leader): every slot below nextSlot is chosen or in flight. */
  #nextSlot: Slot = slotZero
  #recoveredThrough: Slot = slotZero
  #inflight = new Map<Slot, Inflight<C>>()
  /** Estimated bytes of the values in #inflight. */
  #inflightBytes = 0
  #queue: C[] = []
  /** A configuration entry waiting for its slot; null when none is. */
  #configQueued: ConfigEntry | null = null
  /** Estimated bytes of the commands in #queue. */
  #queuedBytes = 0
  #commitSent: Slot = slotZero
  #readRound = 0
  #readRoundWanted = false
  #ackedRounds = new Map<NodeId, number>()
  #confirmedRound = 0
  #reads: PendingRead[] = []
  #now = 0
  #lastHeard = new Map<NodeId, number>()
  /** Leader: the commit index each member last reported in a heartbeat ack (caught up or not). */
  #peerCommit = new Map<NodeId, Slot>()
  /** Leader: the highest slot each member acknowledged accepting in our ballot. */
  #acceptedThrough = new Map<NodeId, Slot>()
  /** Leader: the last slot sent to each member; members that acknowledged since the last retry. */
  #sentThrough = new Map<NodeId, Slot>()
  #ackedSinceRetry = new Set<NodeId>()
  readonly #heartbeatTimeout = new Timeout({ name: 'heartbeat', afterTicks: limits.heartbeatTicks })
  readonly #retryTimeout = new Timeout({ name: 'retry', afterTicks: limits.retryTicks })
  /** Prepares (candidate) or accepts (leader) asked again of members that have not answered. */
  readonly #pacer = new RetryPacer(limits.retryTicks, 4 * limits.electionTimeoutTicks)

  constructor(options: {
    self: NodeId
    configs: Configurations
    /** Brings `configs` up to the commit index (the replica scans newly chosen slots). */
    syncConfigs: () => void
    log: Log<C>
    learner: Learner<C>
    outputs: Outputs<C>
    onEvent: CoreEventSink
    bytes: ByteLimits
    commands: CommandPort<C>
    sizes: MessageSizes<C>
  }) {
    this.#self = options.self
    this.#configs = options.configs
    this.#syncConfigs = options.syncConfigs
    this.#log = options.log
    this.#learner = options.learner
    this.#outputs = options.outputs
    this.#onEvent = options.onEvent
    this.#bytes = options.bytes
    this.#commands = options.commands
    this.#sizes = options.sizes
  }

  get role(): ProposerRole {
    return this.#role
  }

  get ballot(): Ballot {
    return this.#ballot
  }

  campaign(ballot: Ballot): void {
    this.stepDown()
    this.#role = 'candidate'
    this.#ballot = ballot
    this.#fromSlot = slot(this.#learner.commitIndex + 1)
    this.#recovery = new RecoveryMerge<C>(this.#fromSlot)
    this.#reportedCompactedThrough = slotZero
    this.#required = this.#configs.from(this.#fromSlot)
    for (const member of this.#candidateTargets()) {
      this.#outputs.send(member, { type: 'prepare', ballot, fromSlot: this.#fromSlot })
      this.#pacer.reset(member, this.#now)
    }
    this.#retryTimeout.reset()
    this.#onEvent({ type: 'became-candidate', ballot })
  }

  /**
   * One page of an acceptor's report. Only the page that starts where the last one ended
   * counts, so duplicated, reordered and retried pages change nothing. Returns whether the
   * campaign moved forward (the replica then holds off its next election).
   */
  onPromise(from: NodeId, promise: PromiseMessage<C>): boolean {
    if (this.#role !== 'candidate' || !ballotsEqual(promise.ballot, this.#ballot)) return false
    const report = this.#reports.get(from)
    if (report?.complete === true || promise.fromSlot !== (report?.nextSlot ?? this.#fromSlot)) return false
    assert(promise.throughSlot >= promise.fromSlot - 1 && (!promise.more || promise.throughSlot >= promise.fromSlot), 'a promise page must move forward')
    this.#recovery.add(promise.accepted)
    for (const entry of promise.accepted) for (const config of configEntries(entry.value)) this.#discover(entry.slot, config.members)
    if (promise.compactedThrough !== undefined) {
      // Chosen there, values in that acceptor's snapshot: never propose in them; fetch it.
      if (promise.compactedThrough > this.#reportedCompactedThrough) this.#reportedCompactedThrough = promise.compactedThrough
      this.#learner.onCompacted(from, { type: 'compacted', through: promise.compactedThrough })
    }
    const nextSlot = slot(promise.throughSlot + 1)
    this.#reports.set(from, { nextSlot, complete: !promise.more })
    this.#lastHeard.set(from, this.#now)
    this.#pacer.reset(from, this.#now)
    if (promise.more) {
      this.#outputs.send(from, { type: 'prepare', ballot: this.#ballot, fromSlot: nextSlot })
      return true
    }
    // Our own promise must be among them. It reaches us only once it is on our disk, so after
    // a crash we can never campaign in this ballot again: two incarnations of one node leading
    // in the same ballot could each get a different value accepted in one slot.
    if (this.#phase1Complete()) this.#becomeLeader()
    return true
  }

  /** Every required configuration has a quorum of complete reports, ours among them. */
  #phase1Complete(): boolean {
    if (this.#reports.get(this.#self)?.complete !== true) return false
    const complete = [...this.#reports].filter(([, report]) => report.complete).map(([member]) => member)
    return this.#required.every((config) => config.hasQuorum(complete))
  }

  /**
   * A report carries a configuration in slot `at`: it may have been chosen, and slots from
   * at + α on may have been chosen by its voters, so their reports are needed too.
   */
  #discover(at: Slot, members: Configuration['members']): void {
    if (this.#required.some((config) => config.chosenIn === at && sameMembers(config.members, members))) return
    const config = new Configuration({ slot: at, members })
    const asked = new Set(this.#candidateTargets())
    this.#required.push(config)
    for (const member of config.members) {
      if (asked.has(member.id)) continue
      this.#outputs.send(member.id, { type: 'prepare', ballot: this.#ballot, fromSlot: this.#fromSlot })
      this.#pacer.reset(member.id, this.#now)
    }
  }

  #candidateTargets(): NodeId[] {
    const ids = new Set<NodeId>()
    for (const config of this.#required) for (const member of config.members) ids.add(member.id)
    return [...ids].sort((a, b) => a - b)
  }

  /** Leader: who gets accepts and heartbeats: every member of the configurations still to come. */
  #targets(): readonly NodeId[] {
    return this.#configs.membersFrom(slot(this.#learner.commitIndex + 1))
  }

  /**
   * Lamport's rule: slot t is proposed only once slot t − α is chosen, so the configuration that
   * governs t is known. A leader proposes only in slots whose configuration counts it a voter.
   */
  #mayPropose(at: Slot): boolean {
    this.#syncConfigs()
    return at <= this.#learner.commitIndex + configDelaySlots && this.#configs.at(at).isVoter(this.#self)
  }

  propose(command: C): QueueResult {
    if (this.#role !== 'leader') return 'not_leader'
    const bytes = this.#commands.bytes(command)
    if (this.#queue.length >= limits.queuedCommandsMax || this.#queuedBytes + bytes > this.#bytes.queuedBytesMax) return 'overloaded'
    this.#queue.push(command)
    this.#queuedBytes += bytes
    return 'queued'
  }

  read(id: ReadId): QueueResult {
    if (this.#role !== 'leader') return 'not_leader'
    if (this.#reads.length >= limits.pendingReadsMax) return 'overloaded'
    // Everything acknowledged before this read is at or below readIndex: our commits, and
    // whatever an earlier leader may have had chosen (all of it is in the recovered range).
    const readIndex = slot(Math.max(this.#learner.commitIndex, this.#recoveredThrough))
    this.#reads.push({ id, readIndex, round: this.#readRound + 1 })
    this.#readRoundWanted = true
    return 'queued'
  }

  onAccepted(from: NodeId, accepted: AcceptedMessage): void {
    if (this.#role !== 'leader' || !ballotsEqual(accepted.ballot, this.#ballot)) return
    this.#lastHeard.set(from, this.#now)
    this.#ackedSinceRetry.add(from)
    this.#pacer.reset(from, this.#now)
    if (accepted.lastSlot > (this.#acceptedThrough.get(from) ?? 0)) this.#acceptedThrough.set(from, accepted.lastSlot)
    const lastSlot = Math.min(accepted.lastSlot, this.#nextSlot - 1)
    const chosen = new ChosenRuns(this.#ballot, this.#onEvent)
    for (let at = accepted.firstSlot; at <= lastSlot; at = slot(at + 1)) {
      const inflight = this.#inflight.get(at)
      if (inflight === undefined) continue
      inflight.tally.add(from)
      if (!inflight.tally.won) continue
      this.#learner.choose(at, inflight.value, this.#ballot)
      this.#forget(at, inflight)
      chosen.add(at, inflight.tally.voters())
    }
    chosen.flush()
  }

  onHeartbeatAck(from: NodeId, ack: HeartbeatAckMessage): void {
    if (this.#role !== 'leader' || !ballotsEqual(ack.ballot, this.#ballot)) return
    this.#lastHeard.set(from, this.#now)
    if (ack.commitIndex !== undefined) this.#peerCommit.set(from, ack.commitIndex)
    if (ack.readRound <= (this.#ackedRounds.get(from) ?? 0)) return
    this.#ackedRounds.set(from, ack.readRound)
    this.#confirmedRound = this.#quorumRound()
  }

  /** Returns why the leader must step down (it lost touch with a quorum, or was removed), or null. */
  tick(): string | null {
    this.#now += 1
    if (this.#role === 'idle') return null
    this.#retryTimeout.tick()
    if (this.#retryTimeout.fired()) {
      this.#retry()
      this.#retryTimeout.reset()
    }
    if (this.#role !== 'leader') return null
    this.#heartbeatTimeout.tick()
    // Followers learn new commits from the next accept, or at the latest on the next tick: one
    // notice then covers every commit since, instead of a message (and a follower turn) per write.
    if (this.#heartbeatTimeout.fired() || this.#learner.commitIndex > this.#commitSent) this.#sendHeartbeat()
    // Removed: every slot it proposed is chosen, and the configuration in force after them no
    // longer counts it. Another voter takes over on its election timeout.
    if (!this.#configs.at(slot(this.#learner.commitIndex + 1)).isVoter(this.#self) && this.#inflight.size === 0) return 'removed from the configuration'
    if (this.#now % limits.checkQuorumTicks === 0 && !this.#hearsQuorum()) return 'lost contact with a quorum'
    return null
  }

  /**
   * Turns queued commands into accepts for new slots, within the pipeline window (slots and
   * bytes), in messages cut by bytes.
   */
  flush(): void {
    if (this.#role !== 'leader') return
    const recoveredFrom = this.#nextSlot
    this.#proposeRecovered()
    if (this.#nextSlot > recoveredFrom) this.#sendAccepts(this.#targets(), recoveredFrom, this.#bytes.pipelineBytesMax)
    let firstSlot = this.#nextSlot
    let values: Value<C>[] = []
    let messageBytes = messageOverheadBytes
    const config = this.#configQueued
    if (config !== null && this.#recovering.size === 0 && this.#inflight.size < limits.pipelineSlotsMax && this.#mayPropose(this.#nextSlot)) {
      this.#configQueued = null
      const value: Value<C> = [config]
      this.#propose(this.#nextSlot, value)
      this.#nextSlot = slot(this.#nextSlot + 1)
      values.push(value)
      messageBytes += this.#sizes.valueBytes(value) + 1
    }
    while (this.#recovering.size === 0 && this.#queue.length > 0 && this.#inflight.size < limits.pipelineSlotsMax && this.#mayPropose(this.#nextSlot)) {
      const batch = nextBatch(this.#commands, this.#queue, this.#bytes.batchBytesMax)
      // An empty pipeline always takes a batch: the cross-checks make a maximal one fit.
      if (this.#inflight.size > 0 && this.#inflightBytes + batch.bytes > this.#bytes.pipelineBytesMax) break
      if (values.length > 0 && messageBytes + batch.bytes + 1 > this.#bytes.messageBytesMax) {
        this.#broadcastAccept(firstSlot, values)
        firstSlot = this.#nextSlot
        values = []
        messageBytes = messageOverheadBytes
      }
      const value = cutBatch(this.#commands, this.#queue, this.#bytes.batchBytesMax)
      this.#queuedBytes -= value.reduce((bytes, command) => bytes + this.#commands.bytes(command), 0)
      this.#propose(this.#nextSlot, value)
      this.#nextSlot = slot(this.#nextSlot + 1)
      values.push(value)
      messageBytes += batch.bytes + 1
    }
    // A configuration takes effect α slots after the one it was chosen in: an idle leader fills
    // them with noops, so that a change is in force within one round trip, not after α writes.
    const padThrough = this.#configs.newest.governsFrom - 1
    const noopBytes = this.#sizes.valueBytes(noopValue) + 1
    while (this.#recovering.size === 0 && this.#queue.length === 0 && this.#nextSlot <= padThrough && this.#inflight.size < limits.pipelineSlotsMax && this.#mayPropose(this.#nextSlot)) {
      if (values.length > 0 && messageBytes + noopBytes > this.#bytes.messageBytesMax) {
        this.#broadcastAccept(firstSlot, values)
        firstSlot = this.#nextSlot
        values = []
        messageBytes = messageOverheadBytes
      }
      this.#propose(this.#nextSlot, noopValue)
      this.#nextSlot = slot(this.#nextSlot + 1)
      values.push(noopValue)
      messageBytes += noopBytes
    }
    if (values.length > 0) this.#broadcastAccept(firstSlot, values)
    if (this.#readRoundWanted) this.#sendHeartbeat()
  }

  /** Leader only: how many proposed slots each peer has not acknowledged yet (empty otherwise). */
  peerLag(): ReadonlyMap<NodeId, number> {
    const lag = new Map<NodeId, number>()
    if (this.#role !== 'leader') return lag
    const proposedThrough = this.#nextSlot - 1
    for (const peer of this.#targets()) if (peer !== this.#self) lag.set(peer, Math.max(0, proposedThrough - Math.max(this.#acceptedThrough.get(peer) ?? 0, this.#fromSlot - 1)))
    return lag
  }

  /** Reads confirmed by a quorum round whose index is applied through `appliedThrough`. */
  releaseReads(appliedThrough: Slot): void {
    let released = 0
    for (const read of this.#reads) {
      if (read.round > this.#confirmedRound || read.readIndex > appliedThrough) break
      this.#outputs.read({ id: read.id, type: 'ready' })
      released += 1
    }
    if (released > 0) this.#reads.splice(0, released)
  }

  /**
   * A snapshot through `index` was installed: slots through it are chosen and applied. Those
   * still in flight here were chosen elsewhere (a later ballot's leader, or ours before a quorum
   * answered us): forget them; their clients see a timeout, never a wrong result.
   */
  compacted(index: Slot): void {
    for (const [at, inflight] of [...this.#inflight]) if (at <= index) this.#forget(at, inflight)
    for (const at of [...this.#recovering.keys()]) if (at <= index) this.#recovering.delete(at)
    if (this.#role === 'leader' && this.#nextSlot <= index) this.#nextSlot = slot(index + 1)
    if (this.#fromSlot <= index && this.#role === 'leader') this.#fromSlot = slot(index + 1)
  }

  /** Gives up the campaign or leadership. Queued commands never got a slot: safe to retry. */
  stepDown(): void {
    for (const command of this.#queue) this.#outputs.drop(this.#commands.proposal(command))
    for (const read of this.#reads) this.#outputs.read({ id: read.id, type: 'not_leader' })
    this.#queue = []
    this.#queuedBytes = 0
    this.#reads = []
    this.#recovering.clear()
    this.#configQueued = null
    this.#required = []
    this.#peerCommit.clear()
    this.#inflight.clear()
    this.#inflightBytes = 0
    this.#reports.clear()
    this.#pacer.clear()
    this.#ackedRounds.clear()
    this.#lastHeard.clear()
    this.#acceptedThrough.clear()
    this.#sentThrough.clear()
    this.#ackedSinceRetry.clear()
    this.#readRoundWanted = false
    this.#role = 'idle'
    this.#ballot = ballotZero
    this.#heartbeatTimeout.stop()
    this.#retryTimeout.stop()
  }

  #becomeLeader(): void {
    const recovery = this.#recovery
    this.#recovery = new RecoveryMerge<C>(slotZero)
    this.#pacer.clear()
    // Slots some acceptor compacted are chosen: the leader starts after them (its learner
    // fetches the snapshot that holds their values).
    const chosenThrough = Math.max(this.#reportedCompactedThrough, this.#log.compactedThrough)
    if (chosenThrough >= this.#fromSlot) this.#fromSlot = slot(chosenThrough + 1)
    const recoveredThrough = slot(Math.max(recovery.highestSlot, this.#fromSlot - 1))
    this.#role = 'leader'
    this.#required = []
    this.#recoveredThrough = recoveredThrough
    this.#nextSlot = this.#fromSlot
    this.#readRound = 0
    this.#confirmedRound = 0
    this.#commitSent = this.#learner.commitIndex
    for (let at = this.#fromSlot; at <= recoveredThrough; at = slot(at + 1)) {
      const reported = recovery.slots.get(at)
      if (reported?.chosen === true) this.#learner.choose(at, reported.value, ballotZero)
      this.#recovering.set(at, reported?.value ?? noopValue)
    }
    this.#proposeRecovered()
    this.#sendAccepts(this.#targets(), this.#fromSlot, this.#bytes.pipelineBytesMax)
    this.#heartbeatTimeout.reset()
    this.#retryTimeout.reset()
    this.#onEvent({ type: 'became-leader', ballot: this.#ballot, recoveredThrough })
  }

  /**
   * Proposes the recovered slots in order, as far as Lamport's rule allows (each later one once
   * the slot α before it is chosen); then new commands may follow.
   */
  #proposeRecovered(): void {
    while (this.#recovering.size > 0 && this.#nextSlot <= this.#learner.commitIndex + configDelaySlots) {
      const at = this.#nextSlot
      const known = this.#log.get(at)
      const value = known?.chosen === true ? known.value : (this.#recovering.get(at) ?? noopValue)
      this.#recovering.delete(at)
      if (!this.#log.isCompacted(at)) this.#propose(at, value)
      this.#nextSlot = slot(at + 1)
    }
    if (this.#recovering.size === 0 && this.#nextSlot <= this.#learner.commitIndex) this.#nextSlot = slot(this.#learner.commitIndex + 1)
  }

  #propose(at: Slot, value: Value<C>): void {
    assert(at <= this.#learner.commitIndex + configDelaySlots, `slot ${at} proposed before slot ${at - configDelaySlots} is chosen`)
    this.#syncConfigs()
    const bytes = this.#sizes.valueBytes(value)
    const config = this.#configs.at(at)
    this.#inflight.set(at, { value, bytes, tally: new VoteTally(config.quorum, config.voters) })
    this.#inflightBytes += bytes
  }

  #forget(at: Slot, inflight: Inflight<C>): void {
    this.#inflight.delete(at)
    this.#inflightBytes -= inflight.bytes
  }

  #broadcastAccept(firstSlot: Slot, values: Value<C>[]): void {
    const targets = this.#targets()
    for (const member of targets) this.#sentThrough.set(member, slot(firstSlot + values.length - 1))
    this.#commitSent = this.#learner.commitIndex
    const message = { type: 'accept', ballot: this.#ballot, firstSlot, values, commitIndex: this.#commitSent } as const
    for (const member of targets) this.#outputs.send(member, message)
  }

  /**
   * Accepts for the slots from `fromSlot` up to the newest, in messages cut by slots and bytes,
   * about `bytesMax` per call (at least one message): later retries send the rest.
   */
  #sendAccepts(to: readonly NodeId[], requestedFromSlot: Slot, bytesMax: number): void {
    // A member that needs compacted slots gets them from a snapshot (its catch-up asks for one).
    const fromSlot = this.#log.isCompacted(requestedFromSlot) ? slot(this.#log.compactedThrough + 1) : requestedFromSlot
    const slotsMax = limits.pipelineSlotsMax
    const lastSlot = Math.min(this.#nextSlot - 1, fromSlot + 4 * slotsMax - 1)
    let sentBytes = 0
    for (let first = fromSlot; first <= lastSlot && (sentBytes === 0 || sentBytes + this.#bytes.messageBytesMax <= bytesMax);) {
      const values: Value<C>[] = []
      let bytes = messageOverheadBytes
      for (let at = first; at <= lastSlot && values.length < slotsMax; at = slot(at + 1)) {
        const value = this.#valueAt(at)
        const size = this.#sizes.valueBytes(value) + 1
        if (values.length > 0 && bytes + size > this.#bytes.messageBytesMax) break
        values.push(value)
        bytes += size
      }
      const message = { type: 'accept', ballot: this.#ballot, firstSlot: first, values, commitIndex: this.#learner.commitIndex } as const
      for (const member of to) this.#outputs.send(member, message)
      sentBytes += bytes
      first = slot(first + values.length)
      for (const member of to) this.#sentThrough.set(member, slot(first - 1))
    }
    this.#commitSent = this.#learner.commitIndex
  }

  #valueAt(at: Slot): Value<C> {
    const inflight = this.#inflight.get(at)
    if (inflight !== undefined) return inflight.value
    const entry = this.#log.get(at)
    assert(entry !== undefined && entry.chosen, `leader lacks the value of slot ${at}`)
    return entry.value
  }

  /**
   * A member that acknowledged nothing since the last retry gets the accepts it has not voted
   * for again, one message's worth (it may be slow rather than missing them: re-sending a
   * pipeline every retry would bury it). One that is keeping up gets the next slots it was
   * never sent (a long recovered range goes out a pipeline's worth at a time).
   */
  #retry(): void {
    if (this.#role === 'candidate') return this.#retryPrepares()
    for (const member of this.#targets()) {
      const sentThrough = this.#sentThrough.get(member) ?? slot(this.#fromSlot - 1)
      if (!this.#ackedSinceRetry.has(member)) {
        const missing = this.#lowestUnvoted(member)
        if (missing !== null && this.#pacer.due(member, this.#now)) this.#sendAccepts([member], missing, this.#bytes.messageBytesMax)
      } else if (sentThrough < this.#nextSlot - 1) {
        this.#sendAccepts([member], slot(sentThrough + 1), this.#bytes.pipelineBytesMax)
      }
    }
    this.#ackedSinceRetry.clear()
  }

  /**
   * Asks again, paced, whoever has not answered the prepare or the last page request. Members
   * whose report is complete are asked for nothing new (an empty page): that keeps them from
   * campaigning while the candidate still reads other reports.
   */
  #retryPrepares(): void {
    for (const member of this.#candidateTargets()) {
      const report = this.#reports.get(member)
      const complete = report?.complete === true
      if (complete ? member === this.#self : !this.#pacer.due(member, this.#now)) continue
      this.#outputs.send(member, { type: 'prepare', ballot: this.#ballot, fromSlot: report?.nextSlot ?? this.#fromSlot })
    }
  }

  #lowestUnvoted(member: NodeId): Slot | null {
    let lowest: Slot | null = null
    for (const [at, inflight] of this.#inflight) {
      if (!inflight.tally.has(member) && (lowest === null || at < lowest)) lowest = at
    }
    return lowest
  }

  #sendHeartbeat(): void {
    if (this.#readRoundWanted) {
      this.#readRound += 1
      this.#readRoundWanted = false
      this.#confirmedRound = this.#quorumRound()
    }
    this.#commitSent = this.#learner.commitIndex
    const message = { type: 'heartbeat', ballot: this.#ballot, commitIndex: this.#commitSent, readRound: this.#readRound } as const
    for (const member of this.#targets()) if (member !== this.#self) this.#outputs.send(member, message)
    this.#heartbeatTimeout.reset()
  }

  /**
   * The newest read round acknowledged by a quorum of every configuration still to govern a
   * slot (a new leader needs all of them in its Phase 1); this node acknowledges its own rounds.
   */
  #quorumRound(): number {
    let confirmed = Infinity
    for (const config of this.#configs.from(slot(this.#learner.commitIndex + 1))) {
      const rounds = [...config.voters].map((voter) => (voter === this.#self ? this.#readRound : (this.#ackedRounds.get(voter) ?? 0)))
      rounds.sort((a, b) => b - a)
      confirmed = Math.min(confirmed, rounds[config.quorum - 1] ?? 0)
    }
    return confirmed === Infinity ? 0 : confirmed
  }

  #hearsQuorum(): boolean {
    // A set: this node's own acceptor answers its accepts too (it is in #lastHeard), and one
    // member counted twice made a cut-off leader of three that kept proposing hear a quorum.
    const heard = new Set([this.#self, ...[...this.#lastHeard].filter(([, at]) => this.#now - at <= limits.checkQuorumTicks).map(([peer]) => peer)])
    return this.#configs.from(slot(this.#learner.commitIndex + 1)).every((config) => config.hasQuorum(heard))
  }

  /**
   * Leader only: whether `member` has the log about as far as this leader (its last heartbeat
   * ack reported a commit index within α of ours, recently). False elsewhere.
   */
  caughtUp(member: NodeId): boolean {
    if (member === this.#self) return true
    if (this.#role !== 'leader') return false
    const heardAt = this.#lastHeard.get(member)
    const commit = this.#peerCommit.get(member)
    if (heardAt === undefined || commit === undefined || this.#now - heardAt > limits.checkQuorumTicks) return false
    return commit + configDelaySlots >= this.#learner.commitIndex
  }

  /**
   * Leader only: whether a quorum of the newest configuration's voters holds every chosen slot
   * through `through` (as their heartbeat acks report, this leader counting itself). Slots before
   * a change were chosen by the old voters; a member removed, and its disk discarded, is safe to
   * lose only once the new voters hold them too (Raft gets this from log matching).
   */
  newVotersHold(through: Slot): boolean {
    if (this.#role !== 'leader') return false
    const newest = this.#configs.newest
    const holders = [...newest.voters].filter((voter) => (voter === this.#self ? this.#learner.commitIndex : (this.#peerCommit.get(voter) ?? 0)) >= through)
    return newest.hasQuorum(holders)
  }

  /** Leader only: whether a configuration entry is proposed and not yet chosen. */
  configInFlight(): boolean {
    for (const inflight of this.#inflight.values()) if (configEntries(inflight.value).length > 0) return true
    return this.#configQueued !== null
  }

  /**
   * Leader only: queue a new member list; it gets a slot of its own in the next flush. One at a
   * time: the node answers change_in_progress while one is queued or in flight.
   */
  proposeConfig(entry: ConfigEntry): QueueResult {
    if (this.#role !== 'leader') return 'not_leader'
    if (this.configInFlight()) return 'overloaded'
    this.#configQueued = entry
    return 'queued'
  }
}

