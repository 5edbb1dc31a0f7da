/**
 * Agreement: per slot, every replica, in every incarnation, chooses and applies the same value.
 * A slot counts from the moment any replica persists it as chosen or applies it.
 */
export class AgreementChecker {
  readonly #chosen = new Map<number, { value: string; node: number }>()
  /** slot → the first value (JSON) any replica chose or applied there: the durability check's input. */
  readonly values = new Map<number, string>()
  readonly violations: string[] = []
  /** `slot value`: each conflicting value is reported once, not at every replica that holds it. */
  readonly #reported = new Set<string>()

  /** `node` persisted `value` as chosen at `slot`. */
  chosen(node: number, slot: number, value: unknown): void {
    this.#record(node, slot, JSON.stringify(value), 'chosen')
  }

  /** `node` applied `value` at `slot`. */
  record(node: number, slot: number, value: unknown): void {
    this.#record(node, slot, JSON.stringify(value), 'applied')
  }

  get slots(): number {
    return this.#chosen.size
  }

  #record(node: number, slot: number, encoded: string, how: string): void {
    const first = this.#chosen.get(slot)
    if (first === undefined) {
      this.#chosen.set(slot, { value: encoded, node })
      this.values.set(slot, encoded)
      return
    }
    if (first.value !== encoded && !this.#reported.has(`${slot} ${encoded}`) && this.violations.length < 5) {
      this.#reported.add(`${slot} ${encoded}`)
      this.violations.push(`agreement: slot ${slot} has ${first.value} on node ${first.node} but ${how} ${encoded} on node ${node}`)
    }
  }
}
