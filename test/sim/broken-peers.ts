/**
 * Three broken Paxos participants, injected here as rewrites of the messages they exchange
 * instead of switches in the core:
 * - `ignore-reported-value`: acceptors' promises report nothing accepted, so a candidate fills
 *   every slot it recovers with its own proposals or noops: the mistake Phase 1 exists to prevent.
 * - `minority-commit`: a leader counts a vote it never got: every accept it sends to its
 *   lowest-numbered peer comes back at once as an `accepted` from that peer, so a quorum one
 *   short of a majority of real votes is taken for a majority.
 * - `accept-below-promise`: an acceptor answers an accept below the ballot it promised with
 *   `accepted` instead of `reject`: it votes for a ballot it promised to ignore.
 * Each must be caught by a checker of consequences (agreement, durability, linearizability),
 * not only by the promise checker (sabotage.test.ts).
 * @module
 */
import { compareBallots, slot, type Ballot, type Envelope, type NodeId } from '../../src/core/index.js'
import type { WriteCommand } from '../../src/kv/command.js'

export type BrokenPeers = 'ignore-reported-value' | 'minority-commit' | 'accept-below-promise'

/**
 * Rewrites what a node sends, for the sabotages that live on the sender's side: `sent` is what
 * its (broken) acceptor and proposer send; `forged` are votes no acceptor sent (the leader's
 * miscount), which only the leader's proposer will see.
 */
export function brokenSends(sabotage: BrokenPeers, envelopes: readonly Envelope<WriteCommand>[], members: readonly NodeId[]): { sent: Envelope<WriteCommand>[]; forged: Envelope<WriteCommand>[] } {
  if (sabotage === 'accept-below-promise') return { sent: [...envelopes], forged: [] }
  const sent: Envelope<WriteCommand>[] = []
  const forged: Envelope<WriteCommand>[] = []
  for (const envelope of envelopes) {
    const { from, to, message } = envelope
    if (sabotage === 'ignore-reported-value' && message.type === 'promise') {
      sent.push({ ...envelope, message: { ...message, accepted: [] } })
      continue
    }
    sent.push(envelope)
    if (sabotage === 'minority-commit' && message.type === 'accept' && message.values.length > 0 && to === lowestPeer(members, from)) {
      const lastSlot = slot(message.firstSlot + message.values.length - 1)
      forged.push({ from: to, to: from, message: { type: 'accepted', ballot: message.ballot, firstSlot: message.firstSlot, lastSlot } })
    }
  }
  return { sent, forged }
}

function lowestPeer(members: readonly NodeId[], of: NodeId): NodeId {
  return members.filter((id) => id !== of).reduce((lowest, id) => (id < lowest ? id : lowest))
}

/**
 * For `accept-below-promise`, on the receiver's side: an accept below the addressee's promise
 * is not delivered (it would be rejected); the vote the broken acceptor would send is returned
 * instead. Null: deliver the envelope as it is.
 */
export function voteBelowPromise(envelope: Envelope<WriteCommand>, promised: Ballot): Envelope<WriteCommand> | null {
  const { from, to, message } = envelope
  if (message.type !== 'accept' || message.values.length === 0 || compareBallots(message.ballot, promised) >= 0) return null
  const lastSlot = slot(message.firstSlot + message.values.length - 1)
  return { from: to, to: from, message: { type: 'accepted', ballot: message.ballot, firstSlot: message.firstSlot, lastSlot } }
}
