/**
 * Ordered apply: each replica applies slots 1, 2, 3, … with no gap and no repeat, also across
 * restarts (it resumes from its persisted applied index).
 */
export class OrderedApplyChecker {
  readonly #next = new Map<number, number>()
  readonly violations: string[] = []

  /** A crash lost the node's unsynced commits: its disk is back at `appliedIndex`. */
  rolledBack(node: number, appliedIndex: number): void {
    this.#next.set(node, appliedIndex + 1)
  }

  /** A (re)started replica will apply `appliedIndex + 1` next. */
  started(node: number, appliedIndex: number): void {
    const previous = this.#next.get(node)
    if (previous !== undefined && appliedIndex + 1 < previous) {
      this.violations.push(`ordered-apply: node ${node} restarted at applied index ${appliedIndex}, but had applied through ${previous - 1}`)
    }
    this.#next.set(node, appliedIndex + 1)
  }

  /** A snapshot through `index` replaced the node's state: it applies `index + 1` next. */
  installed(node: number, index: number): void {
    const expected = this.#next.get(node) ?? 1
    if (index < expected) this.violations.push(`ordered-apply: node ${node} installed a snapshot through ${index}, but had applied through ${expected - 1}`)
    this.#next.set(node, index + 1)
  }

  applied(node: number, slot: number): void {
    const expected = this.#next.get(node) ?? 1
    if (slot !== expected) this.violations.push(`ordered-apply: node ${node} applied slot ${slot}, expected ${expected}`)
    this.#next.set(node, slot + 1)
  }
}
