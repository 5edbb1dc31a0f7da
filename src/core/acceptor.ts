/**
 * The acceptor role: Paxos's memory. It promises ballots and accepts values, and every promise
 * and acceptance is handed to Outputs for persisting in the same Ready as the reply, so the
 * driver makes it durable before the reply can leave.
 * @module
 */
import { compareBallots, type Ballot } from './ballot.js'
import type { AppCommand, Value } from './command.js'
import { slot, type NodeId, type Slot } from './ids.js'
import { sameValue, type Log } from './log.js'
import type { AcceptMessage, HeartbeatMessage, PrepareMessage } from './messages.js'
import type { MessageSizes } from './message-size.js'
import type { Outputs } from './outputs.js'
import { promisePage } from './pages.js'

export type AcceptorVerdict = 'granted' | 'rejected'

export class Acceptor<C extends AppCommand> {
  readonly #log: Log<C>
  readonly #outputs: Outputs<C>
  readonly #sizes: MessageSizes<C>
  readonly #messageBytesMax: number
  /** Invariant: never decreases, also across restarts (it is persisted before any reply). */
  #promised: Ballot
  /**
   * The first slot this acceptor may vote in (a node that joined with an empty disk): below it,
   * its empty log could not answer for what an earlier directory under its id voted.
   */
  readonly #votesFrom: Slot

  constructor(options: { log: Log<C>; outputs: Outputs<C>; promised: Ballot; sizes: MessageSizes<C>; messageBytesMax: number; votesFrom?: Slot }) {
    this.#votesFrom = options.votesFrom ?? slot(0)
    this.#sizes = options.sizes
    this.#log = options.log
    this.#messageBytesMax = options.messageBytesMax
    this.#outputs = options.outputs
    this.#promised = options.promised
  }

  get promised(): Ballot {
    return this.#promised
  }

  onPrepare(from: NodeId, prepare: PrepareMessage): AcceptorVerdict {
    // No promise (and no report) that reaches below the slots it may vote in: say nothing.
    if (prepare.fromSlot < this.#votesFrom) return 'rejected'
    const order = compareBallots(prepare.ballot, this.#promised)
    if (order < 0) return this.#reject(from, prepare.ballot)
    // order === 0 is the same candidate asking again: a retry, or the next page of the report.
    // The promise is taken once; later pages only report.
    if (order > 0) this.#promise(prepare.ballot)
    // The report comes in pages of bounded size, each saying where it ends and whether more
    // follows: a slot missing from a page is then never mistaken for a slot with nothing
    // accepted (the candidate could fill it with another value). Entries this acceptor accepts
    // later are in a ballot >= the promise, so pages taken at different times still agree.
    const page = promisePage(this.#log, this.#sizes, prepare.fromSlot, this.#messageBytesMax)
    this.#outputs.reply(from, { type: 'promise', ballot: prepare.ballot, fromSlot: prepare.fromSlot, ...page })
    return 'granted'
  }

  onAccept(from: NodeId, accept: AcceptMessage<C>): AcceptorVerdict {
    if (compareBallots(accept.ballot, this.#promised) < 0) return this.#reject(from, accept.ballot)
    if (compareBallots(accept.ballot, this.#promised) > 0) this.#promise(accept.ballot)
    // Reply with one `accepted` per run of slots voted for; a slot that got no vote splits runs.
    let runStart: Slot | null = null
    for (let offset = 0; offset <= accept.values.length; offset += 1) {
      const at = slot(accept.firstSlot + offset)
      const value = accept.values[offset]
      const voted = value !== undefined && this.#acceptOne(at, accept.ballot, value)
      if (voted && runStart === null) runStart = at
      if (!voted && runStart !== null) {
        this.#outputs.reply(from, { type: 'accepted', ballot: accept.ballot, firstSlot: runStart, lastSlot: slot(at - 1) })
        runStart = null
      }
    }
    return 'granted'
  }

  /** A heartbeat is an accept of nothing: it may raise the promise, and it is acknowledged. */
  onHeartbeat(from: NodeId, heartbeat: HeartbeatMessage, commitIndex: Slot): AcceptorVerdict {
    const order = compareBallots(heartbeat.ballot, this.#promised)
    if (order < 0) return this.#reject(from, heartbeat.ballot)
    if (order > 0) this.#promise(heartbeat.ballot)
    this.#outputs.reply(from, { type: 'heartbeat-ack', ballot: heartbeat.ballot, readRound: heartbeat.readRound, commitIndex })
    return 'granted'
  }

  /** Returns whether this acceptor now votes for `value` at `at` in `ballot`. */
  #acceptOne(at: Slot, ballot: Ballot, value: Value<C>): boolean {
    // A compacted slot is chosen, but its value is only in the snapshot: no vote, since the
    // acceptor must never vote for a value it cannot check. A leader that promised-read this
    // acceptor knows the slot is chosen and never proposes there.
    if (this.#log.isCompacted(at) || at < this.#votesFrom) return false
    const existing = this.#log.get(at)
    // One ballot proposes one value per slot, so the same ballot means the same value: a re-send.
    if (existing !== undefined && compareBallots(existing.ballot, ballot) === 0) return true
    // Applied (a snapshot covers it) though the log's rows say otherwise: a crash undid an
    // install's truncation, so the rows are older than the snapshot. Chosen: no new vote is
    // written, and one is given only for the value the log knows chosen.
    if (this.#log.isApplied(at)) return existing?.chosen === true && sameValue(existing.value, value)
    if (existing?.chosen === true) {
      // A chosen slot keeps its value. A stale proposal for another value gets no vote: the
      // acceptor must never vote for a value it does not hold.
      return sameValue(existing.value, value)
    }
    const entry = { slot: at, ballot, value, chosen: false }
    this.#log.set(entry)
    this.#outputs.persistEntry(entry)
    return true
  }

  #promise(ballot: Ballot): void {
    this.#promised = ballot
    this.#outputs.persistPromised(ballot)
  }

  #reject(from: NodeId, ballot: Ballot): AcceptorVerdict {
    this.#outputs.reply(from, { type: 'reject', ballot, promised: this.#promised })
    return 'rejected'
  }
}
