/**
 * What the live page shows of one node, recorded as it happens in bounded structures (a slot
 * window, link counters, sample rings, a short list of role changes) and read out as one frame
 * a few times a second. Recording is O(1) per event or envelope, and nothing is built per
 * write: at any load the feed costs a frame per `liveFrameMs` plus those increments.
 * @module
 */
import type { AppCommand } from '../core/command.js'
import { formatBallot } from '../core/ballot.js'
import type { CoreEvent } from '../core/events.js'
import { limits } from '../core/limits.js'
import type { ChosenEntry, Envelope, LogEntry } from '../core/messages.js'
import type { LiveFrame, LiveHeldMessage, LiveNodeState, LivePeer, LiveRoleChange } from './live-frame.js'
import { LinkCounts } from './link-counts.js'
import { RecentSamples } from './samples.js'
import { SlotWindow } from './slot-window.js'

export type LiveLimits = Readonly<{ slotsMax: number; roleChangesMax: number; latencySamplesMax: number }>

export const defaultLiveLimits: LiveLimits = Object.freeze({
  slotsMax: limits.liveSlotsMax,
  roleChangesMax: limits.liveElectionsMax,
  latencySamplesMax: limits.liveLatencySamplesMax,
})

/** What the node knows only at frame time. */
export type FrameInputs = Readonly<{
  atMs: number
  node: Omit<LiveNodeState, 'fsyncP99Ms'>
  peers: readonly LivePeer[]
  held: readonly LiveHeldMessage[] | null
}>

export class LiveRecorder {
  readonly #limits: LiveLimits
  readonly #slots: SlotWindow
  readonly #sent = new LinkCounts()
  readonly #received = new LinkCounts()
  readonly #walSyncs = new RecentSamples(256)
  readonly #commitLatencies: RecentSamples
  #roleChanges: LiveRoleChange[] = []
  #roleChangesUnlisted = 0
  /** The latest role changes, for a subscriber that joins late (the page's timeline). */
  #history: LiveRoleChange[] = []
  #writesApplied = 0

  constructor(liveLimits: LiveLimits = defaultLiveLimits) {
    this.#limits = liveLimits
    this.#slots = new SlotWindow(liveLimits.slotsMax)
    this.#commitLatencies = new RecentSamples(liveLimits.latencySamplesMax)
  }

  coreEvent(event: CoreEvent, atMs: number): void {
    switch (event.type) {
      case 'slots-chosen':
        return this.#slots.chosen(event)
      case 'became-candidate':
        return this.#roleChange({ atMs, role: 'candidate', ballot: formatBallot(event.ballot), reason: 'election timeout: no leader heard' })
      case 'became-leader':
        return this.#roleChange({ atMs, role: 'leader', ballot: formatBallot(event.ballot), reason: 'a quorum promised', recoveredThrough: event.recoveredThrough })
      case 'became-follower':
        return this.#roleChange({ atMs, role: 'follower', ballot: formatBallot(event.ballot), reason: event.reason })
      case 'catch-up-requested':
        return
    }
  }

  persisted(entries: readonly LogEntry<AppCommand>[]): void {
    this.#slots.persisted(entries)
  }

  applied(entries: readonly ChosenEntry<AppCommand>[]): void {
    this.#slots.applied(entries)
  }

  sent(envelopes: readonly Envelope<AppCommand>[]): void {
    this.#sent.sent(envelopes)
  }

  received(envelopes: readonly Envelope<AppCommand>[]): void {
    this.#received.received(envelopes)
  }

  walSynced(durationMs: number): void {
    this.#walSyncs.add(durationMs)
  }

  /** A write proposed here was applied, `commitMs` after it was proposed (null: not seen chosen). */
  writeApplied(commitMs: number | null): void {
    this.#writesApplied += 1
    if (commitMs !== null) this.#commitLatencies.add(commitMs)
  }

  /** The frame for now; per-frame samples and the role-change list start over. */
  frame(inputs: FrameInputs): LiveFrame {
    const frame: LiveFrame = {
      atMs: inputs.atMs,
      node: { ...inputs.node, fsyncP99Ms: this.#walSyncs.percentile(99) },
      peers: inputs.peers,
      slots: this.#slots.snapshot(),
      roleChanges: this.#roleChanges,
      roleChangesUnlisted: this.#roleChangesUnlisted,
      sent: this.#sent.snapshot(),
      received: this.#received.snapshot(),
      writes: { applied: this.#writesApplied, commitMsP50: this.#commitLatencies.percentile(50), commitMsP99: this.#commitLatencies.percentile(99) },
      held: inputs.held,
    }
    this.#roleChanges = []
    this.#roleChangesUnlisted = 0
    this.#commitLatencies.clear()
    return frame
  }

  history(): readonly LiveRoleChange[] {
    return this.#history
  }

  #roleChange(change: LiveRoleChange): void {
    this.#history.push(change)
    if (this.#history.length > this.#limits.roleChangesMax) this.#history.shift()
    if (this.#roleChanges.length < this.#limits.roleChangesMax) this.#roleChanges.push(change)
    else this.#roleChangesUnlisted += 1
  }
}
