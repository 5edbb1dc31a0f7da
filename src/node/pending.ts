/**
 * Clients waiting on the core: writes by proposal id (resolved when the command is applied or
 * dropped), reads by read id (resolved when a quorum confirmed the read index and it is applied).
 * @module
 */
import type { ProposalId } from '../core/command.js'
import type { ReadId } from '../core/ready.js'
import type { ApplyResult } from '../state-machine/state-machine.js'

export type WriteSettlement = Readonly<{ type: 'applied'; result: ApplyResult }> | Readonly<{ type: 'dropped' }> | Readonly<{ type: 'timeout' }>
export type ReadSettlement = 'ready' | 'not_leader' | 'timeout'

export class Pending {
  readonly #writes = new Map<ProposalId, (settlement: WriteSettlement) => void>()
  readonly #reads = new Map<ReadId, (settlement: ReadSettlement) => void>()

  waitWrite(proposal: ProposalId, signal: AbortSignal): Promise<WriteSettlement> {
    return new Promise((resolve) => {
      const onAbort = (): void => this.settleWrite(proposal, { type: 'timeout' })
      this.#writes.set(proposal, (settlement) => {
        signal.removeEventListener('abort', onAbort)
        resolve(settlement)
      })
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  settleWrite(proposal: ProposalId, settlement: WriteSettlement): void {
    const resolve = this.#writes.get(proposal)
    if (resolve === undefined) return // applied after its client gave up, or proposed elsewhere
    this.#writes.delete(proposal)
    resolve(settlement)
  }

  waitRead(id: ReadId, signal: AbortSignal): Promise<ReadSettlement> {
    return new Promise((resolve) => {
      const onAbort = (): void => this.settleRead(id, 'timeout')
      this.#reads.set(id, (settlement) => {
        signal.removeEventListener('abort', onAbort)
        resolve(settlement)
      })
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  settleRead(id: ReadId, settlement: ReadSettlement): void {
    const resolve = this.#reads.get(id)
    if (resolve === undefined) return
    this.#reads.delete(id)
    resolve(settlement)
  }

  get size(): number {
    return this.#writes.size + this.#reads.size
  }
}
