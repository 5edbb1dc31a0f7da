/**
 * A bounded fan-out: every published item goes to every subscriber's own queue. A subscriber
 * whose queue is full is cut off (its stream ends) rather than slowing the others or growing
 * without bound; there are at most `subscribersMax` of them.
 * @module
 */
import { assert } from '../core/assert.js'

export interface Subscription<T> {
  /** The next item, or null once the subscription is closed or cut off. */
  next(): Promise<T | null>
  close(): void
  readonly cutOff: boolean
}

class Subscriber<T> implements Subscription<T> {
  readonly #queueMax: number
  readonly #onClose: (subscriber: Subscriber<T>) => void
  #queue: T[] = []
  #waiting: ((item: T | null) => void) | null = null
  #closed = false
  cutOff = false

  constructor(queueMax: number, onClose: (subscriber: Subscriber<T>) => void) {
    this.#queueMax = queueMax
    this.#onClose = onClose
  }

  offer(item: T): void {
    if (this.#closed) return
    if (this.#waiting !== null) {
      const resolve = this.#waiting
      this.#waiting = null
      return resolve(item)
    }
    if (this.#queue.length >= this.#queueMax) {
      this.cutOff = true
      return this.close()
    }
    this.#queue.push(item)
  }

  next(): Promise<T | null> {
    assert(this.#waiting === null, 'next() called again before the last one settled')
    const item = this.#queue.shift()
    if (item !== undefined) return Promise.resolve(item)
    if (this.#closed) return Promise.resolve(null)
    return new Promise((resolve) => (this.#waiting = resolve))
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#queue = []
    this.#waiting?.(null)
    this.#waiting = null
    this.#onClose(this)
  }
}

export class FanOut<T> {
  readonly #subscribersMax: number
  readonly #queueMax: number
  readonly #subscribers = new Set<Subscriber<T>>()

  constructor(options: Readonly<{ subscribersMax: number; queueMax: number }>) {
    assert(options.subscribersMax >= 1 && options.queueMax >= 1, 'a fan-out needs room for one subscriber and one item')
    this.#subscribersMax = options.subscribersMax
    this.#queueMax = options.queueMax
  }

  /** Null when there are already `subscribersMax` subscribers. */
  subscribe(): Subscription<T> | null {
    if (this.#subscribers.size >= this.#subscribersMax) return null
    const subscriber = new Subscriber<T>(this.#queueMax, (closed) => this.#subscribers.delete(closed))
    this.#subscribers.add(subscriber)
    return subscriber
  }

  publish(item: T): void {
    for (const subscriber of [...this.#subscribers]) subscriber.offer(item)
  }

  get size(): number {
    return this.#subscribers.size
  }

  closeAll(): void {
    for (const subscriber of [...this.#subscribers]) subscriber.close()
  }
}
