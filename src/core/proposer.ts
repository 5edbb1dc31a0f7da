/**
 * The proposer role: a candidate running Phase 1 over the whole log suffix (read in pages of
 * bounded size), then the stable
 * leader streaming Phase 2 for successive slots (batched and pipelined), confirming read-index
 * rounds, and re-sending what was not answered.
 * @module
 */
import { assert } from './assert.js'
import { ballotsEqual, ballotZero, type Ballot } from './ballot.js'
import { noopValue, type AppCommand, type CommandPort, type Value } from './command.js'
import type { CoreEventSink } from './events.js'
import { slot, slotZero, type NodeId, type Slot } from './ids.js'
import type { Learner } from './learner.js'
import { limits, messageOverheadBytes, type ByteLimits } from './limits.js'
import type { Log } from './log.js'
import type { MessageSizes } from './message-size.js'
import type { AcceptedMessage, HeartbeatAckMessage, PromiseMessage } from './messages.js'
import type { Outputs } from './outputs.js'
import { majority, VoteTally } from './quorum.js'
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
  readonly #members: readonly NodeId[]
  readonly #peers: readonly NodeId[]
  readonly #log: Log<C>
  readonly #learner: Learner<C>
  readonly #outputs: Outputs<C>
  readonly #onEvent: CoreEventSink
  readonly #quorum: number
  readonly #bytes: ByteLimits
  readonly #commands: CommandPort<C>
  readonly #sizes: MessageSizes<C>
  #role: ProposerRole = 'idle'
  /** The ballot of the current campaign or leadership; ballotZero when idle. */
  #ballot: Ballot = ballotZero
  #fromSlot: Slot = slotZero
  #reports = new Map<NodeId, PromiseReport>()
  #recovery = new RecoveryMerge<C>(slotZero)
  /** Candidate: the highest compaction point a report named; every slot through it is chosen. */
  #reportedCompactedThrough: Slot = slotZero
  /** Invariant (leader): every slot below nextSlot is chosen or in flight. */
  #nextSlot: Slot = slotZero
  #recoveredThrough: Slot = slotZero
  #inflight = new Map<Slot, Inflight<C>>()
  /** Estimated bytes of the values in #inflight. */
  #inflightBytes = 0
  #queue: C[] = []
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
    members: readonly NodeId[]
    log: Log<C>
    learner: Learner<C>
    outputs: Outputs<C>
    onEvent: CoreEventSink
    bytes: ByteLimits
    commands: CommandPort<C>
    sizes: MessageSizes<C>
  }) {
    this.#self = options.self
    this.#members = options.members
    this.#peers = options.members.filter((member) => member !== options.self)
    this.#log = options.log
    this.#learner = options.learner
    this.#outputs = options.outputs
    this.#onEvent = options.onEvent
    this.#quorum = majority(options.members.length)
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
    this.#outputs.broadcast({ type: 'prepare', ballot, fromSlot: this.#fromSlot })
    for (const member of this.#members) this.#pacer.reset(member, this.#now)
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
    if (this.#completeReports() >= this.#quorum && this.#reports.get(this.#self)?.complete === true) this.#becomeLeader()
    return true
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
    if (ack.readRound <= (this.#ackedRounds.get(from) ?? 0)) return
    this.#ackedRounds.set(from, ack.readRound)
    this.#confirmedRound = this.#quorumRound()
  }

  /** Returns false when the leader lost touch with a quorum and must step down. */
  tick(): boolean {
    this.#now += 1
    if (this.#role === 'idle') return true
    this.#retryTimeout.tick()
    if (this.#retryTimeout.fired()) {
      this.#retry()
      this.#retryTimeout.reset()
    }
    if (this.#role !== 'leader') return true
    this.#heartbeatTimeout.tick()
    // Followers learn new commits from the next accept, or at the latest on the next tick: one
    // notice then covers every commit since, instead of a message (and a follower turn) per write.
    if (this.#heartbeatTimeout.fired() || this.#learner.commitIndex > this.#commitSent) this.#sendHeartbeat()
    return this.#now % limits.checkQuorumTicks !== 0 || this.#hearsQuorum()
  }

  /**
   * Turns queued commands into accepts for new slots, within the pipeline window (slots and
   * bytes), in messages cut by bytes.
   */
  flush(): void {
    if (this.#role !== 'leader') return
    let firstSlot = this.#nextSlot
    let values: Value<C>[] = []
    let messageBytes = messageOverheadBytes
    while (this.#queue.length > 0 && this.#inflight.size < limits.pipelineSlotsMax) {
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
    if (values.length > 0) this.#broadcastAccept(firstSlot, values)
    if (this.#readRoundWanted) this.#sendHeartbeat()
  }

  /** Leader only: how many proposed slots each peer has not acknowledged yet (empty otherwise). */
  peerLag(): ReadonlyMap<NodeId, number> {
    const lag = new Map<NodeId, number>()
    if (this.#role !== 'leader') return lag
    const proposedThrough = this.#nextSlot - 1
    for (const peer of this.#peers) lag.set(peer, Math.max(0, proposedThrough - Math.max(this.#acceptedThrough.get(peer) ?? 0, this.#fromSlot - 1)))
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
    this.#recoveredThrough = recoveredThrough
    this.#nextSlot = slot(Math.max(recoveredThrough, this.#learner.commitIndex) + 1)
    this.#readRound = 0
    this.#confirmedRound = 0
    this.#commitSent = this.#learner.commitIndex
    for (let at = this.#fromSlot; at <= recoveredThrough; at = slot(at + 1)) {
      const known = this.#log.get(at)
      const reported = recovery.slots.get(at)
      if (reported?.chosen === true) this.#learner.choose(at, reported.value, ballotZero)
      const value = known?.chosen === true ? known.value : (reported?.value ?? noopValue)
      this.#propose(at, value)
    }
    this.#sendAccepts(this.#members, this.#fromSlot, this.#bytes.pipelineBytesMax)
    this.#heartbeatTimeout.reset()
    this.#retryTimeout.reset()
    this.#onEvent({ type: 'became-leader', ballot: this.#ballot, recoveredThrough })
  }

  #propose(at: Slot, value: Value<C>): void {
    const bytes = this.#sizes.valueBytes(value)
    this.#inflight.set(at, { value, bytes, tally: new VoteTally(this.#quorum) })
    this.#inflightBytes += bytes
  }

  #forget(at: Slot, inflight: Inflight<C>): void {
    this.#inflight.delete(at)
    this.#inflightBytes -= inflight.bytes
  }

  #broadcastAccept(firstSlot: Slot, values: Value<C>[]): void {
    for (const member of this.#members) this.#sentThrough.set(member, slot(firstSlot + values.length - 1))
    this.#commitSent = this.#learner.commitIndex
    this.#outputs.broadcast({ type: 'accept', ballot: this.#ballot, firstSlot, values, commitIndex: this.#commitSent })
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
    for (const member of this.#members) {
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
    for (const member of this.#members) {
      const report = this.#reports.get(member)
      const complete = report?.complete === true
      if (complete ? member === this.#self : !this.#pacer.due(member, this.#now)) continue
      this.#outputs.send(member, { type: 'prepare', ballot: this.#ballot, fromSlot: report?.nextSlot ?? this.#fromSlot })
    }
  }

  #completeReports(): number {
    let complete = 0
    for (const report of this.#reports.values()) if (report.complete) complete += 1
    return complete
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
    this.#outputs.sendToPeers({ type: 'heartbeat', ballot: this.#ballot, commitIndex: this.#commitSent, readRound: this.#readRound })
    this.#heartbeatTimeout.reset()
  }

  /** The newest read round acknowledged by a quorum; this node acknowledges its own rounds. */
  #quorumRound(): number {
    const rounds = [this.#readRound, ...this.#peers.map((peer) => this.#ackedRounds.get(peer) ?? 0)]
    rounds.sort((a, b) => b - a)
    return rounds[this.#quorum - 1] ?? 0
  }

  #hearsQuorum(): boolean {
    let heard = 1
    for (const peer of this.#peers) {
      if (this.#now - (this.#lastHeard.get(peer) ?? -Infinity) <= limits.checkQuorumTicks) heard += 1
    }
    return heard >= this.#quorum
  }
}
