/**
 * Peer messages: one type per message, discriminated on `type`. Replies are messages of their
 * own, so any message may be dropped, duplicated, delayed or reordered on its own.
 * @module
 */
import type { Ballot } from './ballot.js'
import type { AppCommand, Value } from './command.js'
import type { NodeId, Slot } from './ids.js'

/**
 * One acceptor's record for a slot. Invariant: `chosen` implies `value` is the slot's chosen
 * value (so a promise may report it and a catch-up may serve it).
 */
export type LogEntry<C extends AppCommand> = Readonly<{ slot: Slot; ballot: Ballot; value: Value<C>; chosen: boolean }>

/**
 * Phase 1a: promise me `ballot`, and tell me what you accepted at or above `fromSlot`. Asked
 * again in the same ballot from a later slot, it asks for the next page of the report.
 */
export type PrepareMessage = Readonly<{ type: 'prepare'; ballot: Ballot; fromSlot: Slot }>
/**
 * Phase 1b, one page of it: every entry accepted in `fromSlot ..= throughSlot`, in slot order.
 * `more` says entries above `throughSlot` exist, so the report is not finished: a slot the
 * candidate has no page for is unknown, never "nothing accepted".
 */
export type PromiseMessage<C extends AppCommand> = Readonly<{
  type: 'promise'
  ballot: Ballot
  fromSlot: Slot
  accepted: readonly LogEntry<C>[]
  throughSlot: Slot
  more: boolean
  /**
   * Present when the page starts in the acceptor's compacted prefix: every slot in
   * `fromSlot ..= compactedThrough` (= throughSlot) is chosen, and its value is only in a
   * snapshot. The candidate treats those slots as chosen and never proposes there.
   */
  compactedThrough?: Slot | undefined
}>
/** Phase 2a for consecutive slots `firstSlot ..`; carries the leader's commit index. */
export type AcceptMessage<C extends AppCommand> = Readonly<{
  type: 'accept'
  ballot: Ballot
  firstSlot: Slot
  values: readonly Value<C>[]
  commitIndex: Slot
}>
/** Phase 2b for `firstSlot ..= lastSlot`. */
export type AcceptedMessage = Readonly<{ type: 'accepted'; ballot: Ballot; firstSlot: Slot; lastSlot: Slot }>
/** The acceptor has promised a higher ballot than the one in a prepare, accept or heartbeat. */
export type RejectMessage = Readonly<{ type: 'reject'; ballot: Ballot; promised: Ballot }>
/** Leader liveness, commit index and read-index confirmation rounds. */
export type HeartbeatMessage = Readonly<{ type: 'heartbeat'; ballot: Ballot; commitIndex: Slot; readRound: number }>
/** `commitIndex`: the acceptor's own, so the leader can tell a caught-up learner (absent from older nodes). */
export type HeartbeatAckMessage = Readonly<{ type: 'heartbeat-ack'; ballot: Ballot; readRound: number; commitIndex?: Slot | undefined }>
/** A learner lacks chosen values from `fromSlot` on. */
export type CatchUpMessage = Readonly<{ type: 'catch-up'; fromSlot: Slot }>
/**
 * A catch-up reply: the slots asked for are compacted here through `through`; their values are
 * in this node's snapshot, which the learner fetches (Ready.snapshot).
 */
export type CompactedMessage = Readonly<{ type: 'compacted'; through: Slot }>
/** Chosen values, consecutive from the first entry's slot. */
export type ChosenMessage<C extends AppCommand> = Readonly<{ type: 'chosen'; entries: readonly ChosenEntry<C>[] }>

export type ChosenEntry<C extends AppCommand> = Readonly<{ slot: Slot; value: Value<C> }>

/**
 * Pre-vote (Raft's PreVote, in ballots): would you promise `ballot` if I prepared it now? Asked
 * before a campaign raises any ballot, so a node that was cut off cannot depose a live leader.
 * Nothing is persisted and no ballot changes on either side. `commitIndex` is the asker's.
 */
export type PreVoteMessage = Readonly<{ type: 'pre-vote'; ballot: Ballot; commitIndex: Slot }>
/**
 * The answer to the pre-vote for `ballot`. `promised` is the member's current promise, so the
 * real campaign can start above every promise of the members that said yes.
 */
export type PreVoteReplyMessage = Readonly<{ type: 'pre-vote-reply'; ballot: Ballot; granted: boolean; promised: Ballot }>

export type PeerMessage<C extends AppCommand> =
  | PrepareMessage
  | PromiseMessage<C>
  | AcceptMessage<C>
  | AcceptedMessage
  | RejectMessage
  | HeartbeatMessage
  | HeartbeatAckMessage
  | CatchUpMessage
  | ChosenMessage<C>
  | CompactedMessage
  | PreVoteMessage
  | PreVoteReplyMessage

export type PeerMessageType = PeerMessage<AppCommand>['type']

export type Envelope<C extends AppCommand> = Readonly<{ from: NodeId; to: NodeId; message: PeerMessage<C> }>
