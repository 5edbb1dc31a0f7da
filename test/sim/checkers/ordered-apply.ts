/**
 * Ordered apply: each replica applies slots 1, 2, 3, … with no gap and no repeat within an
 * incarnation. A restart resumes from its newest snapshot's applied index (the state machine
 * lives in memory), so it applies again what followed the snapshot; it can never resume past
 * what it had applied, unless it resumes from a snapshot a peer sent it.
 */
export class OrderedApplyChecker {
  readonly #next = new Map<number, number>()
  readonly violations: string[] = []

  /** node → the newest snapshot a peer sent the node, stored but perhaps not installed yet. */
  readonly #received = new Map<number, number>()

  /** A (re)started replica will apply `appliedIndex + 1` next. */
  started(node: number, appliedIndex: number): void {
    const previous = this.#next.get(node)
    // A restart may resume from a snapshot a peer sent, if the crash came before its install.
    if (previous !== undefined && appliedIndex + 1 > previous && appliedIndex !== this.#received.get(node)) {
      this.violations.push(`ordered-apply: node ${node} restarted at applied index ${appliedIndex}, but had applied only through ${previous - 1}`)
    }
    this.#next.set(node, appliedIndex + 1)
  }

  /** A peer's snapshot through `index` is in the node's store (durable), to install next. */
  received(node: number, index: number): void {
    this.#received.set(node, index)
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
