/**
 * The warnings a peer refusal produces at each end: what was refused, by whom, why, and what
 * to check. Each end says it at most once per peer and reason per half minute (the sender
 * retries its stream many times a minute).
 * @module
 */
import type { NodeId } from '../core/ids.js'
import type { RefusedSender } from '../server/peer-routes.js'

/** What to check, by the status the refusing peer answered. */
function hint(status: number): string {
  switch (status) {
    case 401:
      return 'check --secret/PAXOS_KV_SECRET and --cluster-id on both nodes'
    case 403:
      return "this node is not in that node's member list: check --cluster on both nodes"
    case 409:
      return 'this node must not vote again under its id'
    default:
      return 'check that node\'s log'
  }
}

/** At the sender: `peer` refused this node's stream. */
export function refusedByPeer(peer: NodeId, status: number, reason: string): string {
  return `node ${peer} refuses this node's messages (${status}): ${reason}; ${hint(status)}`
}

/** At the receiver: a stream or batch was refused. */
export function refusedFromPeer(from: RefusedSender, reason: string): string {
  const sender = from.claimedNode === null ? from.address : `node ${from.claimedNode} (${from.address})`
  return `refused peer messages from ${sender}: ${reason}`
}
