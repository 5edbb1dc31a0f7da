/**
 * The only place that reads the clock: monotonic milliseconds, turned into whole ticks. The
 * sources are injectable so tests can drive time; production uses the system's.
 * @module
 */
export type ClockSources = Readonly<{
  /** Monotonic: never jumps with NTP or the wall clock. Drives ticks and deadlines. */
  monotonicMs: () => number
  /** Wall time: only for idempotency records (`atMs`), which are compared across nodes. */
  wallMs: () => number
}>

const systemSources: ClockSources = { monotonicMs: () => performance.now(), wallMs: () => Date.now() }

export class SystemClock {
  readonly #tickMs: number
  readonly #sources: ClockSources
  #lastTickAtMs: number

  constructor(tickMs: number, sources: ClockSources = systemSources) {
    if (!(tickMs > 0)) throw new RangeError(`tickMs must be positive, got ${tickMs}`)
    this.#tickMs = tickMs
    this.#sources = sources
    this.#lastTickAtMs = sources.monotonicMs()
  }

  nowMs(): number {
    return this.#sources.monotonicMs()
  }

  /** Wall-clock ms, for idempotency records carried in the log (the core never reads it). */
  wallMs(): number {
    return this.#sources.wallMs()
  }

  /**
   * Whole ticks elapsed since the last call; the fraction carries over to the next call. At
   * most `max`: after a stall (GC, a slow fsync) the replica must not see a storm of ticks
   * that would fire every timeout at once; the excess is dropped, not owed.
   */
  takeTicks(max: number): number {
    const elapsed = Math.floor((this.#sources.monotonicMs() - this.#lastTickAtMs) / this.#tickMs)
    if (elapsed <= 0) return 0
    this.#lastTickAtMs += elapsed * this.#tickMs
    return Math.min(elapsed, max)
  }
}
