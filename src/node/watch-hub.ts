/**
 * The node's watchers: a bounded set of handles that the node wakes after every apply and
 * closes when its streams must end (a leader change, a stop). A watcher keeps no queue of its
 * own: it reads the shared, bounded change history from its cursor, so a slow consumer costs
 * one cursor, and one that falls behind the history's bound is closed rather than skipped.
 * @module
 */
import type { WakeReason, WatchHandle } from '../server/node-service.js'

class Handle implements WatchHandle {
  readonly #hub: WatchHub
  #closed = false
  #applied = false
  #wake: ((reason: WakeReason) => void) | null = null
  #timer: NodeJS.Timeout | null = null

  constructor(hub: WatchHub) {
    this.#hub = hub
  }

  get closed(): boolean {
    return this.#closed
  }

  next(timeoutMs: number): Promise<WakeReason> {
    if (this.#closed) return Promise.resolve('closed')
    if (this.#applied) {
      this.#applied = false
      return Promise.resolve('applied')
    }
    return new Promise((resolve) => {
      this.#wake = resolve
      this.#timer = setTimeout(() => this.#settle('timeout'), timeoutMs)
    })
  }

  applied(): void {
    if (this.#wake === null) this.#applied = true
    else this.#settle('applied')
  }

  wake(): void {
    this.applied()
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#hub.release(this)
    this.#settle('closed')
  }

  #settle(reason: WakeReason): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    const wake = this.#wake
    this.#wake = null
    wake?.(reason)
  }
}

export class WatchHub {
  readonly #handles = new Set<Handle>()
  readonly #max: number

  constructor(watchersMax: number) {
    this.#max = watchersMax
  }

  get size(): number {
    return this.#handles.size
  }

  /** Null when the node already has its most watchers. */
  open(): WatchHandle | null {
    if (this.#handles.size >= this.#max) return null
    const handle = new Handle(this)
    this.#handles.add(handle)
    return handle
  }

  applied(): void {
    for (const handle of this.#handles) handle.applied()
  }

  closeAll(): void {
    for (const handle of [...this.#handles]) handle.close()
  }

  /** Called by a handle as it closes. */
  release(handle: WatchHandle): void {
    this.#handles.delete(handle as Handle)
  }
}
