/**
 * The learner role: which slots are chosen, the commit index, what to apply next, and catch-up
 * of chosen values this node missed: from a peer's log, or from its snapshot when the peer has
 * compacted the slots away.
 * @module
 */
import { assert } from './assert.js'
import { ballotsEqual, ballotZero, type Ballot } from './ballot.js'
import type { AppCommand, Value } from './command.js'
import { slot, slotZero, type NodeId, type Slot } from './ids.js'
import { limits } from './limits.js'
import { sameValue, type Log } from './log.js'
import type { CatchUpMessage, ChosenEntry, ChosenMessage, CompactedMessage } from './messages.js'
import type { MessageSizes } from './message-size.js'
import type { Outputs } from './outputs.js'
import { chosenPage } from './pages.js'
import type { SnapshotAction } from './ready.js'
import { Timeout } from './timeout.js'

export class Learner<C extends AppCommand> {
  readonly #log: Log<C>
  readonly #outputs: Outputs<C>
  readonly #sizes: MessageSizes<C>
  readonly #messageBytesMax: number
  /** Invariant: every slot in 1..commitIndex is chosen and in the log. */
  #commitIndex: Slot
  /** Invariant: appliedIndex <= commitIndex; changes only in advanceApplied. */
  #appliedIndex: Slot
  /** The highest commit index a leader reported; above ours means we are missing slots. */
  #knownCommitIndex: Slot = slotZero
  #catchUpSource: NodeId | null = null
  /**
   * The highest slot that catch-up requests in flight cover. Requests are pipelined: up to
   * `catchUpRequestsMax` chunks ahead of the commit index, each reply making room for the next,
   * so a node far behind is not held to one chunk per round trip.
   */
  #catchUpAskedThrough: Slot = slotZero
  readonly #catchUpTimeout = new Timeout({ name: 'catch-up', afterTicks: limits.catchUpTicks })
  /** A peer that has compacted slots we lack: fetch its snapshot. Null when none is wanted. */
  #snapshotWanted: Readonly<{ from: NodeId; through: Slot }> | null = null
  /** Runs while a fetch asked for is under way; when it fires, the fetch is asked again. */
  readonly #fetchTimeout = new Timeout({ name: 'snapshot-fetch', afterTicks: limits.snapshotFetchTicks })
  /** A fetched snapshot, durable in the local store, to install in the next Ready. */
  #installable: Slot | null = null

  constructor(options: { log: Log<C>; outputs: Outputs<C>; appliedIndex: Slot; sizes: MessageSizes<C>; messageBytesMax: number }) {
    this.#sizes = options.sizes
    this.#log = options.log
    this.#outputs = options.outputs
    this.#messageBytesMax = options.messageBytesMax
    this.#appliedIndex = options.appliedIndex
    this.#commitIndex = options.log.chosenThrough(options.appliedIndex)
  }

  get commitIndex(): Slot {
    return this.#commitIndex
  }

  get appliedIndex(): Slot {
    return this.#appliedIndex
  }

  isChosen(at: Slot): boolean {
    return this.#log.isCompacted(at) || this.#log.get(at)?.chosen === true
  }

  /**
   * Records that `value` is chosen at `at`. `ballot` is the ballot the value was proposed in when
   * known (so the acceptor can recognise re-sends), else ballotZero.
   */
  choose(at: Slot, value: Value<C>, ballot: Ballot): void {
    if (this.#log.isCompacted(at)) return // chosen, applied and in the snapshot already
    const existing = this.#log.get(at)
    // Applied already (a snapshot covers it), whatever older rows the log still has: nothing to record.
    if (existing?.chosen !== true && this.#log.isApplied(at)) return
    if (existing?.chosen === true) {
      assert(ballotsEqual(existing.ballot, ballot) || sameValue(existing.value, value), `slot ${at}: two values chosen`)
      return
    }
    const keep = existing !== undefined && ballotsEqual(existing.ballot, ballot)
    const entry = { slot: at, ballot: keep ? ballot : ballotZero, value: keep ? existing.value : value, chosen: true }
    this.#log.set(entry)
    this.#outputs.persistEntry(entry)
    this.#commitIndex = this.#log.chosenThrough(this.#commitIndex)
  }

  /**
   * A leader in `ballot` says slots up to `leaderCommit` are chosen. Our entry accepted in that
   * same ballot holds the leader's value for the slot, so it is the chosen one.
   */
  onLeaderCommit(from: NodeId, ballot: Ballot, leaderCommit: Slot): void {
    if (leaderCommit > this.#knownCommitIndex) this.#knownCommitIndex = leaderCommit
    // Ask the newest leader that is ahead of us: an older source may be gone.
    if (leaderCommit > this.#commitIndex) this.#catchUpSource = from
    const scanThrough = Math.min(leaderCommit, this.#commitIndex + limits.applySlotsMax)
    for (let at = slot(this.#commitIndex + 1); at <= scanThrough; at = slot(at + 1)) {
      const entry = this.#log.get(at)
      if (entry !== undefined && !entry.chosen && ballotsEqual(entry.ballot, ballot)) this.choose(at, entry.value, ballot)
    }
    if (this.#commitIndex < this.#knownCommitIndex && !this.#catchUpTimeout.running) this.#requestCatchUp()
  }

  onCatchUp(from: NodeId, request: CatchUpMessage): void {
    // Compacted here: the learner must take our snapshot, never an empty or short answer.
    if (this.#log.isCompacted(request.fromSlot)) return this.#outputs.send(from, { type: 'compacted', through: this.#log.compactedThrough })
    // Cut by bytes as well as slots: the learner asks again from where the reply ends.
    const entries = chosenPage(this.#log, this.#sizes, request.fromSlot, this.#messageBytesMax)
    if (entries.length > 0) this.#outputs.send(from, { type: 'chosen', entries })
  }

  onChosen(from: NodeId, message: ChosenMessage<C>): void {
    for (const entry of message.entries) this.choose(entry.slot, entry.value, ballotZero)
    const first = message.entries[0]
    const last = message.entries[message.entries.length - 1]
    if (last !== undefined && last.slot > this.#knownCommitIndex) this.#knownCommitIndex = last.slot
    if (this.#commitIndex >= this.#knownCommitIndex) {
      this.#catchUpTimeout.stop()
      return
    }
    this.#catchUpSource ??= from
    // A short answer (cut to its byte bound) leaves the rest of its chunk unasked: ask for it now.
    if (first !== undefined && last !== undefined && last.slot < first.slot + limits.catchUpSlotsMax - 1) {
      this.#askCatchUp(slot(last.slot + 1))
    }
    this.#requestCatchUp()
  }

  /** A catch-up reply or a promise page: `from` holds slots through `through` in a snapshot only. */
  onCompacted(from: NodeId, message: CompactedMessage): void {
    if (message.through > this.#knownCommitIndex) this.#knownCommitIndex = message.through
    if (message.through <= this.#commitIndex) return
    this.#catchUpSource ??= from
    // Asked next: the latest peer to say so whose snapshot covers at least as much as the one
    // wanted (an earlier one may be gone), never one that covers less: its snapshot would not
    // hold the slots above it, and each fetch from it would bring the same short snapshot again
    // (the simulator saw a new leader fetch a peer's older snapshot for ever while another peer's
    // covered every chosen slot). The wanted peer's own report counts whatever it says: its disk
    // may have been replaced.
    const wanted = this.#snapshotWanted
    if (wanted === null || message.through >= wanted.through || from === wanted.from) this.#snapshotWanted = { from, through: message.through }
  }

  /** The driver has durably stored a fetched snapshot covering slots through `index`. */
  snapshotReady(index: Slot): void {
    if (index > this.#appliedIndex && (this.#installable === null || index > this.#installable)) this.#installable = index
  }

  /** This turn's snapshot action; a fetch is asked once, then again only when its timeout fires. */
  snapshotAction(): SnapshotAction | null {
    if (this.#installable !== null) return { type: 'install', index: this.#installable }
    const wanted = this.#snapshotWanted
    if (wanted !== null && wanted.through <= this.#commitIndex) {
      // Caught up from the log meanwhile (another peer still had the slots).
      this.#snapshotWanted = null
      this.#fetchTimeout.stop()
      return null
    }
    if (wanted === null || this.#fetchTimeout.running) return null
    this.#fetchTimeout.reset()
    return { type: 'fetch', from: wanted.from, through: wanted.through }
  }

  /**
   * The snapshot through `index` replaced the state machine (and the log forgot the slots it
   * covers): everything through it is applied. Catch-up goes on from the log after it.
   */
  installed(index: Slot): void {
    assert(index > this.#appliedIndex && this.#log.compactedThrough >= index, `install of ${index} over applied ${this.#appliedIndex}`)
    this.#installable = null
    this.#appliedIndex = index
    this.#commitIndex = this.#log.chosenThrough(index)
    if (this.#snapshotWanted !== null && this.#snapshotWanted.through <= index) {
      this.#snapshotWanted = null
      this.#fetchTimeout.stop()
    }
    // What was asked before is moot (it reached below the snapshot): refill the window after it.
    this.#catchUpTimeout.stop()
    if (this.#commitIndex < this.#knownCommitIndex) this.#requestCatchUp()
  }

  tick(): void {
    this.#fetchTimeout.tick()
    if (this.#fetchTimeout.fired()) this.#fetchTimeout.stop() // the next Ready asks again
    this.#catchUpTimeout.tick()
    if (!this.#catchUpTimeout.fired()) return
    // No answer for a while: what was in flight is lost. Ask again from the first missing slot
    // alone; its answer refills the window from there.
    this.#catchUpAskedThrough = this.#commitIndex
    if (this.#commitIndex < this.#knownCommitIndex) this.#askCatchUp(slot(this.#commitIndex + 1))
    else this.#catchUpTimeout.stop()
  }

  /** Chosen slots not yet applied, in order. */
  committed(max: number): ChosenEntry<C>[] {
    const count = Math.min(max, this.#commitIndex - this.#appliedIndex)
    if (count <= 0) return []
    const entries = this.#log.chosenRun(slot(this.#appliedIndex + 1), count)
    assert(entries.length === count, 'committed slots must be in the log')
    return entries
  }

  advanceApplied(through: Slot): void {
    assert(through >= this.#appliedIndex, 'applied index went backwards')
    assert(through <= this.#commitIndex, 'applied beyond the commit index')
    this.#appliedIndex = through
  }

  /** Fills the window of catch-up requests: chunks from the first slot not yet asked for. */
  #requestCatchUp(): void {
    // The timeout runs exactly while requests are in flight; when it does not, nothing is.
    if (!this.#catchUpTimeout.running) this.#catchUpAskedThrough = this.#commitIndex
    const windowEnd = Math.min(this.#knownCommitIndex, this.#commitIndex + limits.catchUpRequestsMax * limits.catchUpSlotsMax)
    let next = Math.max(this.#commitIndex, this.#catchUpAskedThrough) + 1
    for (; next <= windowEnd; next += limits.catchUpSlotsMax) this.#askCatchUp(slot(next))
  }

  #askCatchUp(fromSlot: Slot): void {
    const source = this.#catchUpSource
    if (source === null) return
    this.#outputs.send(source, { type: 'catch-up', fromSlot })
    const through = slot(fromSlot + limits.catchUpSlotsMax - 1)
    if (through > this.#catchUpAskedThrough) this.#catchUpAskedThrough = through
    this.#catchUpTimeout.reset()
  }
}
