/**
 * A replica composes the roles: acceptor, learner and proposer. It routes inputs (ticks, peer
 * messages, client commands) to them, owns the election timeout and role changes, and hands
 * everything they want done to the driver as a Ready.
 * @module
 */
import { Acceptor } from './acceptor.js'
import { assert, assertNever } from './assert.js'
import { compareBallots, maxBallot, nextBallot, type Ballot } from './ballot.js'
import { configEntries, entryValueBytes, isCoreEntry, type AppCommand, type CommandPort, type ProposeResult } from './command.js'
import { Configurations, governsFrom, memberListProblem, type ChosenConfig, type ConfigMember } from './configuration.js'
import type { CoreEventSink } from './events.js'
import { slot, slotZero, type NodeId, type Slot } from './ids.js'
import { Learner } from './learner.js'
import { byteLimits, checkByteLimits, limits } from './limits.js'
import { Log } from './log.js'
import { MessageSizes } from './message-size.js'
import { SnapshotSchedule, type AppliedWork } from './snapshot-schedule.js'
import type { AcceptMessage, ChosenEntry, Envelope, HeartbeatMessage, PrepareMessage, PreVoteMessage, PreVoteReplyMessage, PromiseMessage, RejectMessage } from './messages.js'
import { Outputs } from './outputs.js'
import { grantsPreVote, PreVoteRound } from './pre-vote.js'
import { Proposer } from './proposer.js'
import type { Random } from './random.js'
import { lastCommittedSlot, type ReadId, type Ready } from './ready.js'
import type { ConfigChangeResult, MembershipView, ReadResult, ReplicaOptions, ReplicaPort, ReplicaStatus, Role } from './replica-port.js'
import { Timeout } from './timeout.js'

export class Replica<C extends AppCommand> implements ReplicaPort<C> {
  readonly #self: NodeId
  readonly #configs: Configurations
  /** Chosen slots through here were looked at for configuration entries. */
  #configScanned: Slot
  /** The configurations of the snapshot being installed this turn (the driver restored them). */
  #restoredConfigs: readonly ChosenConfig[] | null = null
  readonly #random: Random
  readonly #onEvent: CoreEventSink
  readonly #outputs: Outputs<C>
  readonly #log: Log<C>
  readonly #acceptor: Acceptor<C>
  readonly #learner: Learner<C>
  readonly #snapshots: SnapshotSchedule
  readonly #commands: CommandPort<C>
  readonly #proposer: Proposer<C>
  readonly #electionTimeout = new Timeout({ name: 'election', afterTicks: limits.electionTimeoutTicks })
  /** Who we believe leads; null while unknown. */
  #leader: NodeId | null = null
  /** The highest ballot seen in any message: a new campaign must exceed it. */
  #highestSeen: Ballot
  #failedCampaigns = 0
  /** Ticks since start: when we last heard a leader is measured in them. */
  #ticks = 0
  /** The tick we last heard a leader we accept; null: none since start. */
  #leaderHeardAt: number | null = null
  readonly #preVote: PreVoteRound
  /** The Ready handed out and not yet advanced. */
  #handedOut: Ready<C> | null = null

  constructor(options: ReplicaOptions<C>) {
    assert(new Set(options.members).size === options.members.length, 'members must be distinct')
    assert(options.members.length <= limits.nodesMax, 'too many members')
    this.#self = options.self
    // The state machine's configurations (as of the applied index) win over the bootstrap one,
    // which governs until the first of them does.
    const bootstrap: ChosenConfig = options.bootstrap ?? { slot: slotZero, members: options.members.map((id): ConfigMember => ({ id, url: `node:${id}`, role: 'voter' })) }
    const chosen = options.configurations ?? []
    const inForce = chosen.length > 0 && governsFrom(chosen[0]!.slot) <= options.appliedIndex + 1
    const known = inForce ? chosen : [bootstrap, ...chosen.filter((config) => config.slot !== bootstrap.slot)]
    this.#configs = options.trackConfigurations?.(known) ?? new Configurations(known)
    this.#configScanned = options.appliedIndex
    this.#random = options.random
    this.#onEvent = options.onEvent ?? (() => {})
    const bytes = options.byteLimits ?? byteLimits
    checkByteLimits(bytes)
    const compactedThrough = options.compactedThrough ?? slotZero
    assert(compactedThrough <= options.appliedIndex, `the log is compacted through ${compactedThrough}, beyond the applied index ${options.appliedIndex}`)
    // With an archive, the applied slots stay there: the driver loads only the entries above.
    const log = new Log(options.durable.entries, options.archive ?? null, options.archive === undefined ? slotZero : options.appliedIndex, compactedThrough)
    this.#log = log
    this.#outputs = new Outputs(options.self, () => this.#configs.membersFrom(slot(this.#learner.commitIndex + 1)))
    const sizes = new MessageSizes(options.commands)
    this.#acceptor = new Acceptor({
      log,
      outputs: this.#outputs,
      promised: options.durable.promised,
      sizes,
      messageBytesMax: bytes.messageBytesMax,
      votesFrom: options.votesFrom ?? slotZero,
    })
    this.#learner = new Learner({ log, outputs: this.#outputs, appliedIndex: options.appliedIndex, sizes, messageBytesMax: bytes.messageBytesMax })
    // The state the replica starts from is a snapshot's (or empty): the next is due after it.
    this.#snapshots = new SnapshotSchedule({
      slots: options.snapshotEverySlots ?? null,
      commands: options.snapshotEveryCommands ?? null,
      bytes: options.snapshotEveryBytes ?? null,
    }, options.appliedIndex)
    this.#commands = options.commands
    this.#proposer = new Proposer({
      self: options.self,
      configs: this.#configs,
      syncConfigs: () => this.#scanConfigs(),
      log,
      learner: this.#learner,
      outputs: this.#outputs,
      onEvent: this.#onEvent,
      bytes,
      commands: options.commands,
      sizes,
    })
    this.#preVote = new PreVoteRound()
    this.#highestSeen = options.durable.promised
    this.#electionTimeout.resetWithJitter(this.#random)
    this.#scanConfigs()
  }

  tick(): void {
    this.#ticks += 1
    this.#learner.tick()
    this.#scanConfigs()
    const stepDown = this.#proposer.tick()
    if (stepDown !== null) this.#stepDown(this.#proposer.ballot, stepDown)
    if (this.#proposer.role === 'leader') return
    this.#electionTimeout.tick()
    if (!this.#electionTimeout.fired()) return
    // A campaign still unfinished when the timeout fires (reports of large values on a busy
    // machine take a while) makes the next one wait longer: a new ballot discards every page
    // read so far, and campaigning at a fixed pace would never let one finish.
    if (this.#proposer.role === 'candidate') this.#failedCampaigns += 1
    this.#startPreVote()
  }

  /**
   * Start an election now instead of waiting for the timeout (tests, operator-driven transfer).
   * It skips the pre-vote: the caller wants this node to lead even while another one does.
   */
  campaign(): void {
    if (this.#isVoter()) this.#campaign()
  }

  step(envelope: Envelope<C>): void {
    assert(envelope.to === this.#self, 'envelope for another node')
    const { from, message } = envelope
    // A removed member (or one added by a change this replica has not learned yet) may not
    // start elections here; everything else it says is counted only where it has a vote.
    if ((message.type === 'prepare' || message.type === 'pre-vote') && !this.#isMemberFromCommit(from)) return
    switch (message.type) {
      case 'prepare':
        return this.#onPrepare(from, message)
      case 'promise':
        return this.#onPromise(from, message)
      case 'accept':
        return this.#onAccept(from, message)
      case 'accepted':
        return this.#proposer.onAccepted(from, message)
      case 'reject':
        return this.#onReject(message)
      case 'heartbeat':
        return this.#onHeartbeat(from, message)
      case 'heartbeat-ack':
        return this.#proposer.onHeartbeatAck(from, message)
      case 'catch-up':
        return this.#learner.onCatchUp(from, message)
      case 'chosen':
        return this.#learner.onChosen(from, message)
      case 'compacted':
        return this.#learner.onCompacted(from, message)
      case 'pre-vote':
        return this.#onPreVote(from, message)
      case 'pre-vote-reply':
        return this.#onPreVoteReply(from, message)
      default:
        return assertNever(message)
    }
  }

  propose(command: C): ProposeResult {
    const result = this.#proposer.propose(command)
    if (result === 'queued') return { type: 'proposed' }
    if (result === 'overloaded') return { type: 'overloaded' }
    return { type: 'not_leader', leader: this.#leader }
  }

  read(id: ReadId): ReadResult {
    const result = this.#proposer.read(id)
    if (result === 'queued') return { type: 'reading' }
    if (result === 'overloaded') return { type: 'overloaded' }
    return { type: 'not_leader', leader: this.#leader }
  }

  /**
   * Leader only: propose a new member list (it replaces the whole configuration, in force α slots
   * after the slot it is chosen in). One change at a time.
   */
  proposeConfig(members: readonly ConfigMember[]): ConfigChangeResult {
    const problem = memberListProblem(members)
    if (problem !== null) return { type: 'invalid', reason: problem }
    if (this.#proposer.role !== 'leader') return { type: 'not_leader', leader: this.#leader }
    if (this.#proposer.configInFlight() || !this.membership().inForce) return { type: 'change_in_progress' }
    const result = this.#proposer.proposeConfig({ type: 'config', members })
    if (result === 'queued') return { type: 'proposed' }
    if (result === 'overloaded') return { type: 'change_in_progress' }
    return { type: 'not_leader', leader: this.#leader }
  }

  /** The newest configuration this replica knows is chosen, and whether it governs already. */
  membership(): MembershipView {
    const newest = this.#configs.newest
    return { configSlot: newest.chosenIn, members: newest.members, inForce: newest.governsFrom <= this.#learner.commitIndex + 1 }
  }

  /** Every member of the configurations in force after the commit index or chosen to come. */
  memberIdsFromCommit(): readonly NodeId[] {
    return this.#configs.membersFrom(slot(this.#learner.commitIndex + 1))
  }

  /**
   * Leader only: whether the newest configuration is in force and a quorum of its voters holds
   * every slot before it (so a member it removed may be discarded). False elsewhere.
   */
  membershipSettled(): boolean {
    const view = this.membership()
    return view.inForce && this.#proposer.newVotersHold(slot(Math.max(0, governsFrom(view.configSlot) - 1)))
  }

  /** Leader only: whether `member` has the log about as far as the leader; false elsewhere. */
  caughtUp(member: NodeId): boolean {
    return this.#proposer.caughtUp(member)
  }

  /** The driver restored a snapshot's state this turn (an install): its configurations. */
  configurationsRestored(configs: readonly ChosenConfig[]): void {
    this.#restoredConfigs = configs
  }

  ready(): Ready<C> | null {
    assert(this.#handedOut === null, 'ready() called again before advance()')
    this.#scanConfigs()
    this.#proposer.flush()
    const snapshot = this.#learner.snapshotAction()
    // An install replaces the state first: nothing below it is applied from the log this turn.
    const committed = snapshot?.type === 'install' ? [] : this.#learner.committed(limits.applySlotsMax)
    const appliedThrough = committed[committed.length - 1]?.slot ?? this.#learner.appliedIndex
    this.#proposer.releaseReads(appliedThrough)
    // A fetch or an install goes first; a due snapshot is then taken in a later turn.
    const due = this.#snapshots.applying(appliedThrough, this.#work(committed))
    const action = snapshot ?? (due ? { type: 'take' as const, index: appliedThrough } : null)
    if (this.#outputs.empty && committed.length === 0 && action === null) return null
    const ready: Ready<C> = { ...this.#outputs.take(), committed, snapshot: action }
    this.#handedOut = ready
    return ready
  }

  advance(ready: Ready<C>): void {
    assert(ready === this.#handedOut, 'advance() of a Ready that was not handed out')
    this.#handedOut = null
    if (ready.snapshot?.type === 'install') this.#installed(ready.snapshot.index)
    if (ready.snapshot?.type === 'take') this.#snapshots.taken(ready.snapshot.index)
    const last = lastCommittedSlot(ready)
    if (last === null) return
    this.#learner.advanceApplied(last)
    this.#log.trim(last, limits.logRetainSlots)
  }

  /**
   * The driver truncated the log store through `through`, behind a snapshot that is already
   * durable (src/storage/log-compaction.ts): the log forgets those slots too.
   */
  compacted(through: Slot): void {
    assert(through <= this.#learner.appliedIndex, `compaction through ${through} passes the applied index ${this.#learner.appliedIndex}`)
    this.#log.compact(through)
  }

  /** A snapshot a `fetch` asked for is durable in the local store; the next Ready installs it. */
  snapshotReady(index: Slot): void {
    this.#learner.snapshotReady(index)
  }

  status(): ReplicaStatus {
    const role: Role = this.#proposer.role === 'idle' ? 'follower' : this.#proposer.role
    return {
      id: this.#self,
      role,
      leader: role === 'leader' ? this.#self : this.#leader,
      ballot: this.#acceptor.promised,
      commitIndex: this.#learner.commitIndex,
      appliedIndex: this.#learner.appliedIndex,
    }
  }

  /** Leader only: slots each peer has yet to acknowledge; empty on followers. */
  peerLag(): ReadonlyMap<NodeId, number> {
    return this.#proposer.peerLag()
  }

  /** What applying `committed` costs the state machine, as the snapshot schedule counts it. */
  #work(committed: readonly ChosenEntry<C>[]): AppliedWork {
    let commands = 0
    let bytes = 0
    for (const entry of committed) {
      for (const command of entry.value) {
        if (isCoreEntry(command)) continue
        commands += 1
        bytes += entryValueBytes(this.#commands, command)
      }
    }
    return { commands, bytes }
  }

  #installed(index: Slot): void {
    if (this.#restoredConfigs !== null && this.#restoredConfigs.length > 0) this.#configs.reset(this.#restoredConfigs)
    this.#restoredConfigs = null
    this.#configScanned = index
    this.#snapshots.taken(index)
    this.#log.compact(index)
    this.#learner.installed(index)
    this.#proposer.compacted(index)
    this.#onEvent({ type: 'snapshot-installed', index })
  }

  /**
   * Looks at newly chosen slots for configuration entries: each becomes known here in the order
   * chosen, so every replica derives the same configuration for every slot.
   */
  #scanConfigs(): void {
    const commit = this.#learner.commitIndex
    if (this.#configScanned >= commit) return
    for (let at = slot(this.#configScanned + 1); at <= commit; at = slot(at + 1)) {
      const entry = this.#log.get(at)
      assert(entry !== undefined && entry.chosen, `slot ${at} is committed but not in the log`)
      for (const config of configEntries(entry.value)) {
        if (this.#configs.add({ slot: at, members: config.members })) this.#onEvent({ type: 'config-chosen', slot: at, members: config.members })
      }
    }
    this.#configScanned = commit
    this.#configs.prune(commit)
  }

  #isVoter(): boolean {
    const next = slot(this.#learner.commitIndex + 1)
    return this.#configs.complete(next) && this.#configs.at(next).isVoter(this.#self)
  }

  #isMemberFromCommit(id: NodeId): boolean {
    return this.#configs.membersFrom(slot(this.#learner.commitIndex + 1)).includes(id)
  }

  /** The election timeout fired: ask the members before raising any ballot. */
  #startPreVote(): void {
    const ballot = this.#nextBallot()
    this.#electionTimeout.resetWithJitter(this.#random) // no quorum of yes by then: ask again
    // A learner, or a member removed, never campaigns.
    if (!this.#isVoter()) return
    if (this.#preVote.start(ballot, this.#self, this.#configs.at(slot(this.#learner.commitIndex + 1)))) return this.#campaign()
    this.#outputs.sendToPeers({ type: 'pre-vote', ballot, commitIndex: this.#learner.commitIndex })
    this.#onEvent({ type: 'pre-vote-started', ballot })
  }

  #onPreVote(from: NodeId, request: PreVoteMessage): void {
    // Not `#see`: a pre-vote's ballot is a question, and must not depose anyone.
    const granted = grantsPreVote({
      isLeader: this.#proposer.role === 'leader',
      ticksSinceLeader: this.#leaderHeardAt === null ? null : this.#ticks - this.#leaderHeardAt,
      electionTimeoutTicks: limits.electionTimeoutTicks,
      commitIndex: this.#learner.commitIndex,
    }, request)
    this.#outputs.send(from, { type: 'pre-vote-reply', ballot: request.ballot, granted, promised: this.#acceptor.promised })
  }

  #onPreVoteReply(from: NodeId, reply: PreVoteReplyMessage): void {
    // A real promise: the campaign that follows must exceed it.
    this.#see(reply.promised)
    if (this.#proposer.role === 'leader') return this.#preVote.cancel()
    if (this.#preVote.onReply(from, reply)) this.#campaign()
  }

  #nextBallot(): Ballot {
    return nextBallot(maxBallot(this.#highestSeen, this.#acceptor.promised), this.#self)
  }

  #campaign(): void {
    const ballot = this.#nextBallot()
    this.#preVote.cancel()
    this.#highestSeen = ballot
    this.#leader = null
    this.#waitBeforeCampaign()
    this.#proposer.campaign(ballot)
  }

  #onPrepare(from: NodeId, prepare: PrepareMessage): void {
    this.#see(prepare.ballot)
    if (this.#acceptor.onPrepare(from, prepare) === 'rejected' || from === this.#self) return
    // We promised another candidate: our leader (if any) can no longer get our vote.
    this.#leader = null
    this.#waitBeforeCampaign()
  }

  /** A candidate reading reports page by page is making progress: no new election meanwhile. */
  #onPromise(from: NodeId, promise: PromiseMessage<C>): void {
    if (!this.#proposer.onPromise(from, promise)) return
    if (this.#proposer.role === 'candidate') this.#electionTimeout.resetWithJitter(this.#random)
    else this.#failedCampaigns = 0
  }

  #onAccept(from: NodeId, accept: AcceptMessage<C>): void {
    this.#see(accept.ballot)
    if (this.#acceptor.onAccept(from, accept) === 'rejected') return
    this.#heardFromLeader(from)
    this.#learner.onLeaderCommit(from, accept.ballot, accept.commitIndex)
  }

  #onHeartbeat(from: NodeId, heartbeat: HeartbeatMessage): void {
    this.#see(heartbeat.ballot)
    if (this.#acceptor.onHeartbeat(from, heartbeat, this.#learner.commitIndex) === 'rejected') return
    this.#heardFromLeader(from)
    this.#learner.onLeaderCommit(from, heartbeat.ballot, heartbeat.commitIndex)
  }

  #onReject(reject: RejectMessage): void {
    // Only a reject of our current ballot matters; older ones are late duplicates.
    const current = this.#proposer.role !== 'idle' && compareBallots(reject.ballot, this.#proposer.ballot) === 0
    this.#see(reject.promised) // steps down: a reject always carries a higher promise
    if (!current) return
    this.#failedCampaigns += 1
    // Dueling proposers: wait a randomized, growing while before trying again.
    this.#electionTimeout.backoff(this.#random, this.#failedCampaigns)
  }

  /** Any message with a higher ballot than our campaign or leadership deposes us. */
  #see(ballot: Ballot): void {
    if (compareBallots(ballot, this.#highestSeen) > 0) this.#highestSeen = ballot
    if (this.#proposer.role !== 'idle' && compareBallots(ballot, this.#proposer.ballot) > 0) {
      // A candidate overtaken by another one failed too: dueling candidates back off.
      if (this.#proposer.role === 'candidate') this.#failedCampaigns += 1
      this.#stepDown(ballot, 'saw a higher ballot')
    }
  }

  #heardFromLeader(from: NodeId): void {
    if (from === this.#self) return
    this.#leader = from
    this.#leaderHeardAt = this.#ticks
    this.#preVote.cancel()
    this.#failedCampaigns = 0
    this.#electionTimeout.resetWithJitter(this.#random)
  }

  #stepDown(ballot: Ballot, reason: string): void {
    if (this.#proposer.role === 'idle') return
    this.#proposer.stepDown()
    this.#leader = null
    this.#waitBeforeCampaign()
    this.#onEvent({ type: 'became-follower', ballot, leader: this.#leader, reason })
  }

  /** The election timeout, longer and more spread out after campaigns that failed in a row. */
  #waitBeforeCampaign(): void {
    if (this.#failedCampaigns > 0) this.#electionTimeout.backoff(this.#random, this.#failedCampaigns)
    else this.#electionTimeout.resetWithJitter(this.#random)
  }
}
