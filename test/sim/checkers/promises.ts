/**
 * Promises are kept: an acceptor never votes (promise, accepted, heartbeat-ack) in a ballot
 * below one it already promised, in this incarnation or an earlier one. This is the acceptor's
 * half of Paxos's safety argument, checked on what each node actually sends, so it catches a
 * broken acceptor or a lost promise even when the run's timing never turns it into two chosen
 * values. Every vote in ballot b first raises the promise to b, and a reject reports the promise.
 * It sees what crosses the network: a node's votes for itself loop back inside the node.
 */
import { compareBallots, formatBallot, type Ballot, type Envelope } from '../../../src/core/index.js'
import type { WriteCommand } from '../../../src/kv/command.js'

const votes: ReadonlySet<string> = new Set(['promise', 'accepted', 'heartbeat-ack'])

export class PromiseChecker {
  /** node → the highest ballot it has shown it promised (by voting in it, or in a reject). */
  readonly #promised = new Map<number, Ballot>()
  readonly violations: string[] = []

  /** The node's disk was replaced (a removed member added again on an empty disk): a new acceptor. */
  replaced(node: number): void {
    this.#promised.delete(node)
  }

  sent(envelopes: readonly Envelope<WriteCommand>[], tick: number): void {
    for (const { from, message } of envelopes) {
      const shown = message.type === 'reject' ? message.promised : votes.has(message.type) && 'ballot' in message ? message.ballot : null
      if (shown === null) continue
      const promised = this.#promised.get(from)
      if (promised !== undefined && votes.has(message.type) && compareBallots(shown, promised) < 0 && this.violations.length < 3) {
        this.violations.push(`promises: at tick ${tick} node ${from} sent ${message.type} in ballot ${formatBallot(shown)} after promising ${formatBallot(promised)}`)
      }
      if (promised === undefined || compareBallots(shown, promised) > 0) this.#promised.set(from, shown)
    }
  }
}
