/**
 * Ordered apply: each replica applies slots 1, 2, 3, … with no gap and no repeat within an
 * incarnation. A restart resumes from its newest snapshot's applied index (the state machine
 * lives in memory), so it applies again what followed the snapshot; it can never resume past
 * what it had applied.
 */
export class OrderedApplyChecker {
  readonly #next = new Map<number, number>()
  readonly violations: string[] = []

  /** A (re)started replica will apply `appliedIndex + 1` next. */
  started(node: number, appliedIndex: number): void {
    const previous = this.#next.get(node)
    if (previous !== undefined && appliedIndex + 1 > previous) {
      this.violations.push(`ordered-apply: node ${node} restarted at applied index ${appliedIndex}, but had applied only through ${previous - 1}`)
    }
    this.#next.set(node, appliedIndex + 1)
  }

  applied(node: number, slot: number): void {
    const expected = this.#next.get(node) ?? 1
    if (slot !== expected) this.violations.push(`ordered-apply: node ${node} applied slot ${slot}, expected ${expected}`)
    this.#next.set(node, slot + 1)
  }
}
