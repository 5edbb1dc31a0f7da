/**
 * Durability, checked two ways.
 *
 * On the disks, at a whole-cluster crash: every value some replica applied (so every
 * acknowledged write) was chosen, and a chosen value must sit in its slot on a majority of the
 * disks that survived the crash, or a later leader could miss it and choose another. Voters make
 * their acceptance durable before they answer, and a slot's later records keep its value.
 *
 * In the state, after every node restarted from its disk: each state machine's revision reaches
 * the highest acknowledged one (and the final reads go through the linearizability check).
 */
import type { LogEntry } from '../../../src/core/index.js'
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

/**
 * `applied`: slot → the value (JSON) some replica applied there. `disks`: each node's log as
 * loaded after the crash. Reports at most a few slots, the lowest first.
 */
export function checkDurableLogs(applied: ReadonlyMap<number, string>, disks: ReadonlyMap<number, readonly LogEntry[]>, when: string): string[] {
  const quorum = Math.floor(disks.size / 2) + 1
  const bySlot = [...disks].map(([node, entries]) => [node, new Map(entries.map((entry) => [entry.slot as number, entry]))] as const)
  const violations: string[] = []
  for (const [slot, value] of [...applied].sort(([a], [b]) => a - b)) {
    const holders = bySlot.filter(([, entries]) => {
      const entry = entries.get(slot)
      return entry !== undefined && JSON.stringify(entry.value) === value
    })
    if (holders.length >= quorum) continue
    violations.push(`durability: ${when}, applied slot ${slot} is on only ${holders.length} of ${disks.size} disks (nodes ${holders.map(([node]) => node).join(',') || 'none'}): ${value.slice(0, 120)}`)
    if (violations.length === 3) break
  }
  return violations
}
