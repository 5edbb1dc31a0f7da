/**
 * At most one event per key per interval, for warnings that would otherwise repeat on every
 * retry (a peer refusing us is retried with backoff, many times a minute). Bounded: past
 * `keysMax` keys the oldest is forgotten, so it may speak again early, never grow.
 * @module
 */
export class RateLimit {
  readonly #intervalMs: number
  readonly #nowMs: () => number
  readonly #keysMax: number
  readonly #last = new Map<string, number>()

  constructor(options: { intervalMs: number; nowMs: () => number; keysMax?: number }) {
    this.#intervalMs = options.intervalMs
    this.#nowMs = options.nowMs
    this.#keysMax = options.keysMax ?? 256
  }

  /** True when `key` may be reported now (and records that it was). */
  allow(key: string): boolean {
    const now = this.#nowMs()
    const last = this.#last.get(key)
    if (last !== undefined && now - last < this.#intervalMs) return false
    this.#last.delete(key) // re-inserted last: Map order is then oldest first
    this.#last.set(key, now)
    if (this.#last.size > this.#keysMax) this.#last.delete(this.#last.keys().next().value!)
    return true
  }
}
