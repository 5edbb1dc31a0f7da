/**
 * Durability, checked two ways.
 *
 * On the disks, at any moment: every value some replica chose or applied (so every acknowledged
 * write) must sit in its slot on a majority of the disks as a crash would leave them, or a later
 * leader could miss it and choose another. Voters make their acceptance durable before they
 * answer, and a slot's later records keep its value.
 *
 * In the state, after every node restarted from its disk: each state machine's revision reaches
 * the highest acknowledged one (and the final reads go through the linearizability check).
 */
import type { Op } from '../history.js'

export function checkDurability(ops: readonly Op[], revisions: ReadonlyMap<number, number>): string[] {
  let highest = 0
  for (const op of ops) {
    if (op.result?.type === 'written') highest = Math.max(highest, op.result.version)
    if (op.result?.type === 'txn') highest = Math.max(highest, op.result.revision)
  }
  const violations: string[] = []
  for (const [node, revision] of revisions) {
    if (revision < highest) violations.push(`durability: node ${node} is at revision ${revision} after restart, but revision ${highest} was acknowledged`)
  }
  return violations
}

/**
 * `applied`: slot → the value (JSON) some replica chose or applied there. `disks`: per node,
 * slot → the value (JSON) its durable log holds. Reports the lowest failing slot only.
 */
export function checkDurableLogs(applied: ReadonlyMap<number, string>, disks: ReadonlyMap<number, ReadonlyMap<number, string>>, when: string): string[] {
  const quorum = Math.floor(disks.size / 2) + 1
  let lowest: number | null = null
  for (const [slot, value] of applied) {
    if (lowest !== null && slot > lowest) continue
    let holders = 0
    for (const values of disks.values()) if (values.get(slot) === value) holders += 1
    if (holders < quorum) lowest = slot
  }
  if (lowest === null) return []
  const value = applied.get(lowest)!
  const holders = [...disks].filter(([, values]) => values.get(lowest) === value).map(([node]) => node)
  return [`durability: ${when}, chosen slot ${lowest} is on only ${holders.length} of ${disks.size} disks (nodes ${holders.join(',') || 'none'}): ${value.slice(0, 120)}`]
}
