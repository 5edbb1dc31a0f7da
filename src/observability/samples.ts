/**
 * Bounded samples for percentiles: a ring of the most recent values. Sorting happens only when
 * a percentile is asked for (a few times a second), never when a value is added.
 * @module
 */
import { assert } from '../core/assert.js'

export class RecentSamples {
  readonly #values: number[] = []
  readonly #max: number
  #next = 0

  constructor(max: number) {
    assert(max >= 1, 'room for one sample')
    this.#max = max
  }

  add(value: number): void {
    if (this.#values.length < this.#max) this.#values.push(value)
    else this.#values[this.#next] = value
    this.#next = (this.#next + 1) % this.#max
  }

  /** Nearest-rank percentile (0 < p <= 100) of the samples kept; null when there are none. */
  percentile(p: number): number | null {
    if (this.#values.length === 0) return null
    const sorted = [...this.#values].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
  }

  clear(): void {
    this.#values.length = 0
    this.#next = 0
  }

  get size(): number {
    return this.#values.length
  }
}
