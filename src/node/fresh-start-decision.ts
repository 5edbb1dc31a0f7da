/**
 * May a node whose data directory is empty start, and under which cluster id? Decided from
 * every peer's identity answer; pure, so a table tests it.
 *
 * Why every peer, and why a peer's memory is enough (the amnesia argument). A node that lost
 * its data directory has forgotten what it promised and accepted; if it voted again, a quorum
 * counting it could choose a second value for a slot already chosen. Its old votes can only
 * have counted in a quorum of two or more acceptors, so they reached some peer: either its
 * promise or accepted travelled to the proposer that counted it, or (as the proposer) it sent
 * its prepare or accept to the acceptors that voted with it. Each peer records a member's
 * incarnation, durably, before it believes anything that member sent (peer-routes.ts), and
 * refuses later messages from another incarnation. So: if every peer answers and none knows
 * this node, no vote of any earlier incarnation ever counted, and an empty directory loses
 * nothing; that is the first start of a cluster (or of a member added and never started). If
 * some peer knows it, the directory was wiped, and the node refuses to start. A peer that does
 * not answer might be the one that knows, so the node waits for it: a wiped node whose only
 * witness is down must stay down, however long. Only the operator can end that wait safely, by
 * removing the member and adding it again (or starting it with --join), which makes it a new
 * member that votes only once the cluster has admitted it.
 *
 * The cluster id: taken from --cluster-id, else from the peers that have one (they must
 * agree), else (every member starting at once, a new cluster) the offer of the lowest member,
 * a random id it made. Every starting node waits for the same answers, so each takes the same
 * offer; one that restarts meanwhile finds a peer that already stored it.
 * @module
 */
import type { NodeId } from '../core/ids.js'
import type { IdentityAnswer } from '../transport/peer-identity.js'

export type FreshStartInput = Readonly<{
  self: NodeId
  /** Every other member this node was started with. */
  peers: readonly NodeId[]
  /** --cluster-id, or null. */
  clusterIdFlag: string | null
  /** This node's own offer for a new cluster's id (the flag, when given). */
  candidate: string
  answers: ReadonlyMap<NodeId, IdentityAnswer>
}>

export type FreshStartDecision =
  | Readonly<{ type: 'start'; clusterId: string }>
  | Readonly<{ type: 'wait'; missing: readonly NodeId[] }>
  | Readonly<{ type: 'refuse'; reason: string }>

export function decideFreshStart(input: FreshStartInput): FreshStartDecision {
  const missing = input.peers.filter((peer) => !input.answers.has(peer))
  if (missing.length > 0) return { type: 'wait', missing }
  const chosen = clusterIdOf(input)
  if (chosen.type !== 'start') return chosen
  for (const [peer, answer] of input.answers) {
    // A peer of another cluster (a wrong URL) knows some other node under this id.
    if (answer.clusterId !== chosen.clusterId || answer.knowsAsker === null) continue
    return {
      type: 'refuse',
      reason: `node ${peer} already knows node ${input.self} (incarnation ${answer.knowsAsker}), but this data directory is empty: ` +
        'a member that lost its data has forgotten its promises and must not vote. ' +
        `Remove it (paxos-kv member remove ${input.self}) and add it again, or start it with --join URL`,
    }
  }
  return chosen
}

function clusterIdOf(input: FreshStartInput): FreshStartDecision {
  if (input.clusterIdFlag !== null) return { type: 'start', clusterId: input.clusterIdFlag }
  const stored = new Set([...input.answers.values()].flatMap((answer) => (answer.clusterId === null ? [] : [answer.clusterId])))
  if (stored.size > 1) return { type: 'refuse', reason: `the peers belong to different clusters (${[...stored].sort().join(', ')}): give --cluster-id` }
  const [clusterId] = stored
  if (clusterId !== undefined) return { type: 'start', clusterId }
  const lowest = Math.min(...input.peers)
  if (!(lowest < input.self)) return { type: 'start', clusterId: input.candidate }
  const offer = input.answers.get(lowest as NodeId)?.candidateClusterId ?? null
  if (offer === null) return { type: 'refuse', reason: `node ${lowest} has neither a cluster id nor an offer for one` }
  return { type: 'start', clusterId: offer }
}
