/**
 * A tick-counted timeout. Jitter comes from an injected Random, which desynchronizes nodes
 * that would otherwise time out together (dueling proposers).
 * @module
 */
import { assert } from './assert.js'
import { randomBelow, type Random } from './random.js'

export class Timeout {
  readonly name: string
  readonly afterTicks: number
  #ticks = 0
  #afterTicksJittered: number
  #running = false

  constructor(options: { name: string; afterTicks: number }) {
    assert(options.afterTicks > 0, `timeout ${options.name} must be positive`)
    this.name = options.name
    this.afterTicks = options.afterTicks
    this.#afterTicksJittered = options.afterTicks
  }

  get running(): boolean {
    return this.#running
  }

  tick(): void {
    if (this.#running) this.#ticks += 1
  }

  fired(): boolean {
    return this.#running && this.#ticks >= this.#afterTicksJittered
  }

  /** Exactly `afterTicks` from now. */
  reset(): void {
    this.#ticks = 0
    this.#afterTicksJittered = this.afterTicks
    this.#running = true
  }

  /** Uniform in [afterTicks, 2 * afterTicks). */
  resetWithJitter(random: Random): void {
    this.#ticks = 0
    this.#afterTicksJittered = this.afterTicks + randomBelow(random, this.afterTicks)
    this.#running = true
  }

  /** Uniform in [afterTicks, (attempt + 1) * afterTicks) for repeated failures, capped. */
  backoff(random: Random, attempt: number): void {
    const spread = this.afterTicks * Math.min(Math.max(attempt, 1), 8)
    this.#ticks = 0
    this.#afterTicksJittered = this.afterTicks + randomBelow(random, spread)
    this.#running = true
  }

  stop(): void {
    this.#running = false
    this.#ticks = 0
  }
}
