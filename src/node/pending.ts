/**
 * Clients waiting on the core: writes by proposal id (settled when the command is applied or
 * dropped), reads by read id (settled when a quorum confirmed the read index and it is applied).
 * A waiter whose time runs out is settled as a timeout and forgotten.
 * @module
 */
import type { ProposalId } from '../core/command.js'
import { limits } from '../core/limits.js'
import type { Slot } from '../core/ids.js'
import type { ReadId } from '../core/ready.js'
import type { ApplyResult } from '../kv/state-machine.js'

export type WriteSettlement = Readonly<{ type: 'applied'; slot: Slot; result: ApplyResult }> | Readonly<{ type: 'dropped' }> | Readonly<{ type: 'timeout' }>
export type ReadSettlement = 'ready' | 'not_leader' | 'timeout'

/**
 * One settlement per key, or `timedOut` once its time is up. A plain timer per waiter: timers
 * of one duration share a list in Node, so arming and clearing cost O(1), far less than an
 * AbortSignal per request.
 */
class Waiters<Key, Settlement> {
  readonly #waiting = new Map<Key, (settlement: Settlement) => void>()
  readonly #timedOut: Settlement

  constructor(timedOut: Settlement) {
    this.#timedOut = timedOut
  }

  wait(key: Key, timeoutMs: number): Promise<Settlement> {
    if (timeoutMs <= 0) return Promise.resolve(this.#timedOut)
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(key, this.#timedOut), timeoutMs)
      this.#waiting.set(key, (settlement) => {
        clearTimeout(timer)
        resolve(settlement)
      })
    })
  }

  /** A key nobody waits for (its client gave up, or it was proposed elsewhere) is ignored. */
  settle(key: Key, settlement: Settlement): void {
    const resolve = this.#waiting.get(key)
    if (resolve === undefined) return
    this.#waiting.delete(key)
    resolve(settlement)
  }

  get size(): number {
    return this.#waiting.size
  }
}

export type PendingLimits = Readonly<{ writesMax: number; readsMax: number }>

/**
 * As many waiters as the core can hold work for: its queue plus a full pipeline of batches, and
 * its pending reads. A waiter whose slot was lost without a `dropped` report lingers until its
 * request times out; the bound keeps such waiters from piling up meanwhile.
 */
export const defaultPendingLimits: PendingLimits = Object.freeze({
  writesMax: limits.queuedCommandsMax + limits.pipelineSlotsMax * limits.batchCommandsMax,
  readsMax: limits.pendingReadsMax,
})

export class Pending {
  readonly #writes = new Waiters<ProposalId, WriteSettlement>({ type: 'timeout' })
  readonly #reads = new Waiters<ReadId, ReadSettlement>('timeout')
  readonly #limits: PendingLimits

  constructor(pendingLimits: PendingLimits = defaultPendingLimits) {
    this.#limits = pendingLimits
  }

  /** Check before proposing: a full table answers `overloaded` and nothing is proposed. */
  get writesFull(): boolean {
    return this.#writes.size >= this.#limits.writesMax
  }

  get readsFull(): boolean {
    return this.#reads.size >= this.#limits.readsMax
  }

  waitWrite(proposal: ProposalId, timeoutMs: number): Promise<WriteSettlement> {
    return this.#writes.wait(proposal, timeoutMs)
  }

  settleWrite(proposal: ProposalId, settlement: WriteSettlement): void {
    this.#writes.settle(proposal, settlement)
  }

  waitRead(id: ReadId, timeoutMs: number): Promise<ReadSettlement> {
    return this.#reads.wait(id, timeoutMs)
  }

  settleRead(id: ReadId, settlement: ReadSettlement): void {
    this.#reads.settle(id, settlement)
  }

  get size(): number {
    return this.#writes.size + this.#reads.size
  }
}
