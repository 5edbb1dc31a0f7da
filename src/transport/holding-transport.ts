/**
 * Step-through (serve --debug-step): a transport in front of the real one that holds this
 * node's outgoing peer messages matching a rule (to node N, of these types) until an operator
 * releases or drops them, one at a time or all. Holding is a delay and dropping a loss, both of
 * which Paxos already survives; the rest passes straight through. Bounded: past `heldMax`,
 * a matching message is dropped and counted, never queued.
 * @module
 */
import { formatBallot } from '../core/ballot.js'
import type { AppCommand } from '../core/command.js'
import type { NodeId } from '../core/ids.js'
import type { Envelope, PeerMessage, PeerMessageType } from '../core/messages.js'
import type { Transport } from './transport.js'

export type HeldMessage = Readonly<{ id: number; to: NodeId; type: PeerMessageType; ballot: string | null; slots: string | null }>
export type HoldRule = Readonly<{ to: NodeId; types: readonly PeerMessageType[] }>
export type HeldView = Readonly<{ rules: readonly HoldRule[]; held: readonly HeldMessage[]; droppedOverLimit: number }>
export type Amount = Readonly<{ count: number }> | Readonly<{ all: true }>

function slotsOf(message: PeerMessage<AppCommand>): string | null {
  switch (message.type) {
    case 'accept':
      return message.values.length === 1 ? String(message.firstSlot) : `${message.firstSlot}..${message.firstSlot + message.values.length - 1}`
    case 'accepted':
      return message.firstSlot === message.lastSlot ? String(message.firstSlot) : `${message.firstSlot}..${message.lastSlot}`
    case 'prepare':
    case 'promise':
      return `${message.fromSlot}..`
    default:
      return null
  }
}

export class HoldingTransport<C extends AppCommand> implements Transport<C> {
  readonly #inner: Transport<C>
  readonly #heldMax: number
  readonly #rules = new Map<NodeId, ReadonlySet<PeerMessageType>>()
  #held: Array<{ id: number; envelope: Envelope<C> }> = []
  #nextId = 1
  #droppedOverLimit = 0

  constructor(inner: Transport<C>, heldMax: number) {
    this.#inner = inner
    this.#heldMax = heldMax
  }

  send(envelopes: readonly Envelope<C>[]): void {
    if (this.#rules.size === 0) return this.#inner.send(envelopes)
    const pass: Envelope<C>[] = []
    for (const envelope of envelopes) {
      if (this.#rules.get(envelope.to)?.has(envelope.message.type) !== true) pass.push(envelope)
      else if (this.#held.length >= this.#heldMax) this.#droppedOverLimit += 1
      else this.#held.push({ id: this.#nextId++, envelope })
    }
    if (pass.length > 0) this.#inner.send(pass)
  }

  /** Holds messages to `rule.to` of `rule.types` from now on (no types: stop holding them). */
  hold(rule: HoldRule): void {
    if (rule.types.length === 0) this.#rules.delete(rule.to)
    else this.#rules.set(rule.to, new Set(rule.types))
  }

  /** Sends the oldest held messages, in the order they were held; returns how many. */
  release(amount: Amount): number {
    const taken = this.#take(amount)
    if (taken.length > 0) this.#inner.send(taken)
    return taken.length
  }

  drop(amount: Amount): number {
    return this.#take(amount).length
  }

  view(): HeldView {
    return {
      rules: [...this.#rules].map(([to, types]) => ({ to, types: [...types] })),
      held: this.#held.map(({ id, envelope }) => ({
        id,
        to: envelope.to,
        type: envelope.message.type,
        ballot: 'ballot' in envelope.message ? formatBallot(envelope.message.ballot) : null,
        slots: slotsOf(envelope.message),
      })),
      droppedOverLimit: this.#droppedOverLimit,
    }
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  #take(amount: Amount): Envelope<C>[] {
    const count = 'all' in amount ? this.#held.length : Math.min(amount.count, this.#held.length)
    return this.#held.splice(0, count).map(({ envelope }) => envelope)
  }
}
