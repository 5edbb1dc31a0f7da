/**
 * Liveness: once the network is healed and every node is up, every request completes (and every
 * client gets through all of its requests) and every replica converges to the same applied index
 * within the tick budget.
 */
import type { Op } from '../history.js'

export function checkLiveness(options: {
  pendingOps: readonly Op[]
  /** client → requests it never got to issue (stuck behind one that never completed, or slow). */
  unissued: ReadonlyMap<number, number>
  appliedIndexes: ReadonlyMap<number, number>
  converged: boolean
  budget: number
}): string[] {
  const violations: string[] = []
  for (const op of options.pendingOps) {
    violations.push(`liveness: op #${op.id} (${op.kind} ${op.key}) of client ${op.client} did not complete within ${options.budget} ticks after healing`)
  }
  for (const [client, count] of options.unissued) {
    if (count > 0) violations.push(`liveness: client ${client} still had ${count} requests to issue ${options.budget} ticks after healing`)
  }
  if (!options.converged) {
    violations.push(`liveness: replicas did not converge within ${options.budget} ticks: applied indexes ${JSON.stringify([...options.appliedIndexes])}`)
  }
  return violations
}
