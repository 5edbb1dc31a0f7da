/**
 * Collects what the roles want done until the driver takes it as a Ready. Roles write here and
 * never perform effects themselves.
 * @module
 */
import { compareBallots, type Ballot } from './ballot.js'
import { assert } from './assert.js'
import type { AppCommand, ProposalId } from './command.js'
import type { NodeId, Slot } from './ids.js'
import type { AcceptedMessage, Envelope, HeartbeatAckMessage, LogEntry, PeerMessage, PeerMessageType, PromiseMessage, RejectMessage } from './messages.js'
import type { PersistBatch, ReadOutcome } from './ready.js'

/**
 * An acceptor's replies rest on its promise and accepted values: they leave only once the turn
 * that changed that state is on disk, whether they go to a peer or to this node's own proposer
 * (its own votes). Everything else (prepare, accept, heartbeat, catch-up, chosen, pre-vote)
 * carries no acceptor state and leaves at once; a leader's ballot is safe to use early because
 * it leads only after its own promise came back through the disk.
 */
export type AcceptorReply<C extends AppCommand> = PromiseMessage<C> | AcceptedMessage | HeartbeatAckMessage | RejectMessage
const acceptorReplyTypes: ReadonlySet<PeerMessageType> = new Set<AcceptorReply<AppCommand>['type']>(['promise', 'accepted', 'heartbeat-ack', 'reject'])

export class Outputs<C extends AppCommand> {
  readonly #self: NodeId
  /** Every member of the configurations still to govern a slot (they change as slots are chosen). */
  readonly #members: () => readonly NodeId[]
  #promised: Ballot | null = null
  #entries = new Map<Slot, LogEntry<C>>()
  #messages: Envelope<C>[] = []
  #messagesAfterPersist: Envelope<C>[] = []
  #reads: ReadOutcome[] = []
  #dropped: ProposalId[] = []

  constructor(self: NodeId, members: () => readonly NodeId[]) {
    this.#self = self
    this.#members = members
  }

  persistPromised(ballot: Ballot): void {
    assert(this.#promised === null || compareBallots(ballot, this.#promised) >= 0, 'promise went backwards')
    this.#promised = ballot
  }

  /** Later writes for a slot in the same turn replace earlier ones: one row per slot. */
  persistEntry(entry: LogEntry<C>): void {
    this.#entries.set(entry.slot, entry)
  }

  send(to: NodeId, message: PeerMessage<C>): void {
    assert(!acceptorReplyTypes.has(message.type), `a ${message.type} is an acceptor reply: it must wait for the disk (reply)`)
    this.#messages.push({ from: this.#self, to, message })
  }

  /** An acceptor's reply: it leaves once this turn is on disk (Ready.messagesAfterPersist). */
  reply(to: NodeId, message: AcceptorReply<C>): void {
    assert(acceptorReplyTypes.has(message.type), `a ${message.type} is not an acceptor reply`)
    this.#messagesAfterPersist.push({ from: this.#self, to, message })
  }

  /** To every member, this node included (its own acceptor answers through the loopback). */
  broadcast(message: PeerMessage<C>): void {
    for (const to of this.#members()) this.send(to, message)
  }

  /** To every other member. */
  sendToPeers(message: PeerMessage<C>): void {
    for (const to of this.#members()) if (to !== this.#self) this.send(to, message)
  }

  read(outcome: ReadOutcome): void {
    this.#reads.push(outcome)
  }

  drop(proposal: ProposalId): void {
    this.#dropped.push(proposal)
  }

  get empty(): boolean {
    return (
      this.#promised === null &&
      this.#entries.size === 0 &&
      this.#messages.length === 0 &&
      this.#messagesAfterPersist.length === 0 &&
      this.#reads.length === 0 &&
      this.#dropped.length === 0
    )
  }

  take(): { persist: PersistBatch<C>; messages: Envelope<C>[]; messagesAfterPersist: Envelope<C>[]; reads: ReadOutcome[]; dropped: ProposalId[] } {
    const taken = {
      persist: { promised: this.#promised, entries: [...this.#entries.values()] },
      messages: this.#messages,
      messagesAfterPersist: this.#messagesAfterPersist,
      reads: this.#reads,
      dropped: this.#dropped,
    }
    this.#promised = null
    this.#entries = new Map()
    this.#messages = []
    this.#messagesAfterPersist = []
    this.#reads = []
    this.#dropped = []
    return taken
  }
}
