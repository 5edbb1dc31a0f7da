/**
 * Pre-vote: Raft's PreVote adapted to Paxos ballots. Before a node raises its ballot it asks the
 * members whether they would promise the next one, and campaigns only with a quorum of yes (its
 * own included). A member says no while it hears a live leader, so a node that was cut off, or
 * restarted far behind, cannot depose a healthy leader with a higher ballot. Nothing here is
 * persisted: a pre-vote changes no promise and no ballot.
 * @module
 */
import { ballotsEqual, type Ballot } from './ballot.js'
import type { Configuration } from './configuration.js'
import type { NodeId, Slot } from './ids.js'
import type { PreVoteMessage, PreVoteReplyMessage } from './messages.js'
import { VoteTally } from './quorum.js'

/** What a member knows when it answers a pre-vote. */
export type VoterView = Readonly<{
  isLeader: boolean
  /** Ticks since it last heard a leader it accepts; null when it has heard none since it started. */
  ticksSinceLeader: number | null
  electionTimeoutTicks: number
  commitIndex: Slot
}>

/**
 * Yes unless the member leads, heard a leader within the election timeout (that leader is live:
 * an election now would only disrupt it), or knows of more chosen slots than the asker (a leader
 * that far behind would have to recover them all in Phase 1; a member ahead campaigns instead).
 */
export function grantsPreVote(voter: VoterView, request: PreVoteMessage): boolean {
  if (voter.isLeader) return false
  if (voter.ticksSinceLeader !== null && voter.ticksSinceLeader < voter.electionTimeoutTicks) return false
  return request.commitIndex >= voter.commitIndex
}

/** The asking side: one round at a time, identified by the ballot it asks about. */
export class PreVoteRound {
  #round: { readonly ballot: Ballot; readonly tally: VoteTally } | null = null

  get active(): boolean {
    return this.#round !== null
  }

  /**
   * Starts a round for `ballot` with this node's own yes, counted against the voters of the
   * configuration in force after the commit index; returns whether that is a quorum already.
   */
  start(ballot: Ballot, self: NodeId, config: Configuration): boolean {
    const tally = new VoteTally(config.quorum, config.voters)
    tally.add(self)
    this.#round = { ballot, tally }
    return tally.won
  }

  /** Counts a reply to the current round; returns whether it completed a quorum of yes. */
  onReply(from: NodeId, reply: PreVoteReplyMessage): boolean {
    const round = this.#round
    if (round === null || !reply.granted || !ballotsEqual(reply.ballot, round.ballot)) return false
    round.tally.add(from)
    return round.tally.won
  }

  cancel(): void {
    this.#round = null
  }
}
