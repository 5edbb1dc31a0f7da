/**
 * Liveness: once the network is healed and every node is up, every request completes and every
 * replica converges to the same applied index within the tick budget.
 */
import type { Op } from '../history.js'

export function checkLiveness(options: { pendingOps: readonly Op[]; appliedIndexes: ReadonlyMap<number, number>; converged: boolean; budget: number }): string[] {
  const violations: string[] = []
  for (const op of options.pendingOps) {
    violations.push(`liveness: op #${op.id} (${op.kind} ${op.key}) of client ${op.client} did not complete within ${options.budget} ticks after healing`)
  }
  if (!options.converged) {
    violations.push(`liveness: replicas did not converge within ${options.budget} ticks: applied indexes ${JSON.stringify([...options.appliedIndexes])}`)
  }
  return violations
}
