/**
 * A ballot has one proposer: no two incarnations of a node (before and after a crash) send
 * accepts in the same ballot. Acceptors count votes by ballot and slot, not by value, so two
 * incarnations leading in one ballot could each get a different value accepted in one slot. A
 * node must not lead in a ballot until its own promise of it is on disk (then a restart campaigns
 * higher); this checks that on what crosses the network.
 */
import { formatBallot, type Envelope } from '../../../src/core/index.js'
import type { WriteCommand } from '../../../src/kv/command.js'

export class BallotChecker {
  /** "round.node" → the incarnation that sent accepts in it. */
  readonly #owners = new Map<string, number>()
  readonly violations: string[] = []

  sent(envelopes: readonly Envelope<WriteCommand>[], incarnation: number, tick: number): void {
    for (const { from, message } of envelopes) {
      if (message.type !== 'accept') continue
      const ballot = formatBallot(message.ballot)
      const owner = this.#owners.get(ballot)
      if (owner === undefined) this.#owners.set(ballot, incarnation)
      else if (owner !== incarnation && this.violations.length < 3) {
        this.violations.push(`ballots: at tick ${tick} node ${from} (incarnation ${incarnation}) sent accepts in ballot ${ballot}, which its incarnation ${owner} already used`)
      }
    }
  }
}
