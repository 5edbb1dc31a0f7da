/**
 * Agreement: per slot, every replica, in every incarnation, applies the same value.
 */
export class AgreementChecker {
  readonly #chosen = new Map<number, { value: string; node: number }>()
  readonly violations: string[] = []

  record(node: number, slot: number, value: unknown): void {
    const encoded = JSON.stringify(value)
    const first = this.#chosen.get(slot)
    if (first === undefined) {
      this.#chosen.set(slot, { value: encoded, node })
      return
    }
    if (first.value !== encoded) {
      this.violations.push(`agreement: slot ${slot} applied as ${first.value} on node ${first.node} but ${encoded} on node ${node}`)
    }
  }

  get slots(): number {
    return this.#chosen.size
  }
}
