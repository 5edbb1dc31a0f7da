/**
 * When to ask a member again for an answer that has not come: after `retryTicks`, then after
 * twice as long each time it still has not, up to `waitTicksMax`; an answer resets the wait. A
 * slow member (a large page or batch still on its way) is not buried under copies of the
 * request, and a member that lost the request hears it again soon.
 * @module
 */
import type { NodeId } from './ids.js'

type Pace = { askedAt: number; waitTicks: number }

export class RetryPacer {
  readonly #retryTicks: number
  readonly #waitTicksMax: number
  readonly #paces = new Map<NodeId, Pace>()

  constructor(retryTicks: number, waitTicksMax: number) {
    this.#retryTicks = retryTicks
    this.#waitTicksMax = waitTicksMax
  }

  /** Whether `member` should be asked again at tick `now`; if so, counts it as asked. */
  due(member: NodeId, now: number): boolean {
    const pace = this.#paces.get(member)
    if (pace === undefined) {
      this.#paces.set(member, { askedAt: now, waitTicks: this.#retryTicks })
      return true
    }
    if (now - pace.askedAt < pace.waitTicks) return false
    pace.askedAt = now
    pace.waitTicks = Math.min(this.#waitTicksMax, pace.waitTicks * 2)
    return true
  }

  /** `member` was just asked afresh, or answered: the next retry waits `retryTicks` again. */
  reset(member: NodeId, now: number): void {
    this.#paces.set(member, { askedAt: now, waitTicks: this.#retryTicks })
  }

  clear(): void {
    this.#paces.clear()
  }
}
