/**
 * Durability: after every node crashed and restarted, each one's state machine still holds
 * every acknowledged write: its revision reaches the highest acknowledged one. (The final reads
 * after the restart also go through the linearizability check.)
 */
import type { Op } from '../history.js'

export function checkDurability(ops: readonly Op[], revisions: ReadonlyMap<number, number>): string[] {
  let highest = 0
  for (const op of ops) if (op.result?.type === 'written') highest = Math.max(highest, op.result.version)
  const violations: string[] = []
  for (const [node, revision] of revisions) {
    if (revision < highest) violations.push(`durability: node ${node} is at revision ${revision} after restart, but revision ${highest} was acknowledged`)
  }
  return violations
}
