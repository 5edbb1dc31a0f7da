/**
 * The proposer role: a candidate running Phase 1 over the whole log suffix, then the stable
 * leader streaming Phase 2 for successive slots (batched and pipelined), confirming read-index
 * rounds, and re-sending what was not answered.
 * @module
 */
import { assert } from './assert.js'
import { ballotsEqual, ballotZero, type Ballot } from './ballot.js'
import { noopValue, type Value, type WriteCommand } from './command.js'
import type { CoreSabotage } from './replica-port.js'
import type { CoreEventSink } from './events.js'
import { slot, slotZero, type NodeId, type Slot } from './ids.js'
import type { Learner } from './learner.js'
import { limits } from './limits.js'
import type { Log } from './log.js'
import type { AcceptedMessage, HeartbeatAckMessage, PromiseMessage } from './messages.js'
import type { Outputs } from './outputs.js'
import { majority, VoteTally } from './quorum.js'
import type { ReadId } from './ready.js'
import { recoverSlots } from './recovery.js'
import { cutBatch } from './batch.js'
import { ChosenRuns } from './chosen-runs.js'
import { Timeout } from './timeout.js'

export type ProposerRole = 'idle' | 'candidate' | 'leader'

type Inflight = { readonly value: Value; readonly tally: VoteTally }
type PendingRead = Readonly<{ id: ReadId; readIndex: Slot; round: number }>

export type QueueResult = 'queued' | 'not_leader' | 'overloaded'

export class Proposer {
  readonly #self: NodeId
  readonly #members: readonly NodeId[]
  readonly #peers: readonly NodeId[]
  readonly #log: Log
  readonly #learner: Learner
  readonly #outputs: Outputs
  readonly #onEvent: CoreEventSink
  readonly #quorum: number
  readonly #chosenQuorum: number
  readonly #ignoreReportedValue: boolean
  #role: ProposerRole = 'idle'
  /** The ballot of the current campaign or leadership; ballotZero when idle. */
  #ballot: Ballot = ballotZero
  #fromSlot: Slot = slotZero
  #promises = new Map<NodeId, PromiseMessage>()
  /** Invariant (leader): every slot below nextSlot is chosen or in flight. */
  #nextSlot: Slot = slotZero
  #recoveredThrough: Slot = slotZero
  #inflight = new Map<Slot, Inflight>()
  #queue: WriteCommand[] = []
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
  readonly #heartbeatTimeout = new Timeout({ name: 'heartbeat', afterTicks: limits.heartbeatTicks })
  readonly #retryTimeout = new Timeout({ name: 'retry', afterTicks: limits.retryTicks })

  constructor(options: {
    self: NodeId
    members: readonly NodeId[]
    log: Log
    learner: Learner
    outputs: Outputs
    onEvent: CoreEventSink
    sabotage: ReadonlySet<CoreSabotage>
  }) {
    this.#self = options.self
    this.#members = options.members
    this.#peers = options.members.filter((member) => member !== options.self)
    this.#log = options.log
    this.#learner = options.learner
    this.#outputs = options.outputs
    this.#onEvent = options.onEvent
    this.#quorum = majority(options.members.length)
    this.#chosenQuorum = options.sabotage.has('minority-commit') ? Math.max(1, this.#quorum - 1) : this.#quorum
    this.#ignoreReportedValue = options.sabotage.has('ignore-reported-value')
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
    this.#outputs.broadcast({ type: 'prepare', ballot, fromSlot: this.#fromSlot })
    this.#retryTimeout.reset()
    this.#onEvent({ type: 'became-candidate', ballot })
  }

  onPromise(from: NodeId, promise: PromiseMessage): void {
    if (this.#role !== 'candidate' || !ballotsEqual(promise.ballot, this.#ballot)) return
    if (promise.fromSlot !== this.#fromSlot) return
    this.#promises.set(from, promise)
    this.#lastHeard.set(from, this.#now)
    // Our own promise must be among them. It reaches us only once it is on our disk, so after
    // a crash we can never campaign in this ballot again: two incarnations of one node leading
    // in the same ballot could each get a different value accepted in one slot.
    if (this.#promises.size >= this.#quorum && this.#promises.has(this.#self)) this.#becomeLeader()
  }

  propose(command: WriteCommand): QueueResult {
    if (this.#role !== 'leader') return 'not_leader'
    if (this.#queue.length >= limits.queuedCommandsMax) return 'overloaded'
    this.#queue.push(command)
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
    if (accepted.lastSlot > (this.#acceptedThrough.get(from) ?? 0)) this.#acceptedThrough.set(from, accepted.lastSlot)
    const lastSlot = Math.min(accepted.lastSlot, this.#nextSlot - 1)
    const chosen = new ChosenRuns(this.#ballot, this.#onEvent)
    for (let at = accepted.firstSlot; at <= lastSlot; at = slot(at + 1)) {
      const inflight = this.#inflight.get(at)
      if (inflight === undefined) continue
      inflight.tally.add(from)
      if (!inflight.tally.won) continue
      this.#learner.choose(at, inflight.value, this.#ballot)
      this.#inflight.delete(at)
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
    return this.#now % limits.electionTimeoutTicks !== 0 || this.#hearsQuorum()
  }

  /** Turns queued commands into accepts for new slots, within the pipeline window. */
  flush(): void {
    if (this.#role !== 'leader') return
    const firstSlot = this.#nextSlot
    const values: Value[] = []
    while (this.#queue.length > 0 && this.#inflight.size < limits.pipelineSlotsMax) {
      const value = cutBatch(this.#queue)
      this.#inflight.set(this.#nextSlot, { value, tally: new VoteTally(this.#chosenQuorum) })
      this.#nextSlot = slot(this.#nextSlot + 1)
      values.push(value)
    }
    if (values.length > 0) {
      this.#commitSent = this.#learner.commitIndex
      this.#outputs.broadcast({ type: 'accept', ballot: this.#ballot, firstSlot, values, commitIndex: this.#commitSent })
    }
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

  /** Gives up the campaign or leadership. Queued commands never got a slot: safe to retry. */
  stepDown(): void {
    for (const command of this.#queue) this.#outputs.drop(command.proposal)
    for (const read of this.#reads) this.#outputs.read({ id: read.id, type: 'not_leader' })
    this.#queue = []
    this.#reads = []
    this.#inflight.clear()
    this.#promises.clear()
    this.#ackedRounds.clear()
    this.#lastHeard.clear()
    this.#acceptedThrough.clear()
    this.#readRoundWanted = false
    this.#role = 'idle'
    this.#ballot = ballotZero
    this.#heartbeatTimeout.stop()
    this.#retryTimeout.stop()
  }

  #becomeLeader(): void {
    const recovery = recoverSlots(this.#ignoreReportedValue ? [] : this.#promises.values(), this.#fromSlot)
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
      this.#inflight.set(at, { value, tally: new VoteTally(this.#chosenQuorum) })
    }
    this.#sendAccepts(this.#members, this.#fromSlot)
    this.#heartbeatTimeout.reset()
    this.#retryTimeout.reset()
    this.#onEvent({ type: 'became-leader', ballot: this.#ballot, recoveredThrough })
  }

  /** Accepts for every slot from `fromSlot` up to the newest, in messages of bounded size. */
  #sendAccepts(to: readonly NodeId[], fromSlot: Slot): void {
    const chunk = limits.pipelineSlotsMax
    const lastSlot = Math.min(this.#nextSlot - 1, fromSlot + 4 * chunk - 1)
    for (let first = fromSlot; first <= lastSlot; first = slot(first + chunk)) {
      const values: Value[] = []
      for (let at = first; at <= Math.min(lastSlot, first + chunk - 1); at = slot(at + 1)) values.push(this.#valueAt(at))
      const message = { type: 'accept', ballot: this.#ballot, firstSlot: first, values, commitIndex: this.#learner.commitIndex } as const
      for (const member of to) this.#outputs.send(member, message)
    }
    this.#commitSent = this.#learner.commitIndex
  }

  #valueAt(at: Slot): Value {
    const inflight = this.#inflight.get(at)
    if (inflight !== undefined) return inflight.value
    const entry = this.#log.get(at)
    assert(entry !== undefined && entry.chosen, `leader lacks the value of slot ${at}`)
    return entry.value
  }

  #retry(): void {
    if (this.#role === 'candidate') {
      const prepare = { type: 'prepare', ballot: this.#ballot, fromSlot: this.#fromSlot } as const
      for (const member of this.#members) if (!this.#promises.has(member)) this.#outputs.send(member, prepare)
      return
    }
    for (const member of this.#members) {
      const missing = this.#lowestUnvoted(member)
      if (missing !== null) this.#sendAccepts([member], missing)
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
      if (this.#now - (this.#lastHeard.get(peer) ?? -Infinity) <= limits.electionTimeoutTicks) heard += 1
    }
    return heard >= this.#quorum
  }
}
