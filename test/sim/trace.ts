/**
 * One line per notable event; the hash of all lines proves two runs of a seed were identical.
 */
export class Trace {
  readonly #lines: string[] = []
  #hash = 0x811c9dc5

  add(tick: number, line: string): void {
    const text = `${String(tick).padStart(5)} ${line}`
    this.#lines.push(text)
    for (let index = 0; index < text.length; index += 1) {
      this.#hash ^= text.charCodeAt(index)
      this.#hash = Math.imul(this.#hash, 0x01000193) >>> 0
    }
  }

  get hash(): string {
    return this.#hash.toString(16).padStart(8, '0')
  }

  get length(): number {
    return this.#lines.length
  }

  tail(count: number): string[] {
    return this.#lines.slice(-count)
  }

  /** `count` lines ending with line `last` (0-based): the story leading up to it. */
  upTo(last: number, count: number): string[] {
    return this.#lines.slice(Math.max(0, last + 1 - count), last + 1)
  }
}
