/**
 * The only place that reads the clock: monotonic milliseconds, turned into whole ticks.
 * @module
 */
export class SystemClock {
  readonly #tickMs: number
  #lastTickAtMs: number

  constructor(tickMs: number) {
    this.#tickMs = tickMs
    this.#lastTickAtMs = performance.now()
  }

  nowMs(): number {
    return performance.now()
  }

  /** Wall-clock ms, for idempotency records carried in the log (the core never reads it). */
  wallMs(): number {
    return Date.now()
  }

  /** Ticks elapsed since the last call; at most `max`, so a stalled loop cannot storm. */
  takeTicks(max: number): number {
    const elapsed = Math.floor((performance.now() - this.#lastTickAtMs) / this.#tickMs)
    if (elapsed <= 0) return 0
    this.#lastTickAtMs += elapsed * this.#tickMs
    return Math.min(elapsed, max)
  }
}
