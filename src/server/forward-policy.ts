/**
 * The decisions of forwarding, pure and synchronous: which node to try next, when trying again
 * is safe, and when to give up saying the outcome is unknown. The HTTP driver (forward.ts) and
 * the simulator both drive this one class, so the simulator checks the decisions production
 * makes. Time is an input (`now`, `deadline`, in whatever unit the driver counts).
 * @module
 */
import { assert } from '../core/assert.js'
import type { NodeId } from '../core/ids.js'

/** What became of one attempt that did not produce an answer for the client. */
export type AttemptOutcome =
  /** This node, or the node the request was forwarded to, did not take it: it had no effect. */
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  /** The forward never reached its target (connection refused): it had no effect. */
  | Readonly<{ type: 'refused' }>
  /** The forward was sent and no answer came back (reset, timeout): it may have taken effect. */
  | Readonly<{ type: 'unknown' }>

export type NextStep =
  /** Try this node (propose, or start a read). */
  | Readonly<{ type: 'local' }>
  | Readonly<{ type: 'forward'; to: NodeId }>
  /** Wait the driver's retry delay, then call `resume()`. */
  | Readonly<{ type: 'wait' }>
  /** The request was forwarded here and this node did not take it: say so to the forwarder. */
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  /** `unknown`: some attempt may have taken effect; `unavailable`: none did. */
  | Readonly<{ type: 'give_up'; outcome: 'unavailable' | 'unknown' }>

export type ForwardPolicyOptions = Readonly<{
  self: NodeId
  /** The request was forwarded to this node: it is never forwarded again (that prevents loops). */
  forwarded: boolean
  /**
   * A second delivery cannot take a second effect: a read, or a write that carries a request id
   * the state machine deduplicates. Only then is an attempt whose outcome is unknown retried.
   */
  retrySafe: boolean
  deadline: number
  /** How long `wait` lasts, in the deadline's unit: no retry is planned that would end past it. */
  retryDelay: number
}>

export class ForwardPolicy {
  readonly #options: ForwardPolicyOptions
  #last: NextStep['type'] | null = null
  #maybeApplied = false
  #forwards = 0

  constructor(options: ForwardPolicyOptions) {
    this.#options = options
  }

  /** Whether some attempt was forwarded: from then on a copy may exist elsewhere. */
  get forwardedOnce(): boolean {
    return this.#forwards > 0
  }

  first(): NextStep {
    assert(this.#last === null, 'first() called twice')
    return this.#step({ type: 'local' })
  }

  /** After a `wait`, which may have overrun the deadline (a late timer on a busy process). */
  resume(now: number): NextStep {
    assert(this.#last === 'wait', 'resume() without a wait')
    if (now >= this.#options.deadline) return this.#giveUp()
    return this.#step({ type: 'local' })
  }

  /** After a `local` or `forward` step that ended without an answer for the client. */
  after(outcome: AttemptOutcome, now: number): NextStep {
    const last = this.#last
    assert(last === 'local' || last === 'forward', `an outcome after a ${last} step`)
    if (outcome.type === 'unknown') {
      assert(last === 'forward', 'only a forward can end unknown')
      this.#maybeApplied = true
      if (!this.#options.retrySafe) return this.#step({ type: 'give_up', outcome: 'unknown' })
    }
    if (this.#options.forwarded) {
      assert(outcome.type === 'not_leader', 'a forwarded request is only tried locally')
      return this.#step({ type: 'not_leader', leader: outcome.leader })
    }
    const { self, deadline, retryDelay } = this.#options
    // Only this node's own view names the leader to forward to: a hint relayed from the target
    // could send the request around a loop of stale views.
    if (last === 'local' && outcome.type === 'not_leader' && outcome.leader !== null && outcome.leader !== self && now < deadline) {
      this.#forwards += 1
      return this.#step({ type: 'forward', to: outcome.leader })
    }
    if (now + retryDelay >= deadline) return this.#giveUp()
    return this.#step({ type: 'wait' })
  }

  #giveUp(): NextStep {
    return this.#step({ type: 'give_up', outcome: this.#maybeApplied ? 'unknown' : 'unavailable' })
  }

  #step(step: NextStep): NextStep {
    assert(this.#last !== 'give_up' && this.#last !== 'not_leader', 'a step after the policy finished')
    this.#last = step.type
    return step
  }
}
