/**
 * Stale reads (served from any node's state, with no quorum round) may return an old value, but
 * never one that was not written: the value must be null or a put's (values are unique), read no
 * earlier than that put was invoked, with the version the put was acknowledged with, if it was.
 */
import type { Op } from '../history.js'

/** Every value written (by a put, or a put in a txn), and the version it was acknowledged at, if it was. */
function writtenValues(ops: readonly Op[]): Map<string, { op: Op; version: number | null }> {
  const puts = new Map<string, { op: Op; version: number | null }>()
  for (const op of ops) {
    if (op.kind === 'put' && op.value !== null) puts.set(`${op.key}\u0000${op.value}`, { op, version: op.result?.type === 'written' ? op.result.version : null })
    if (op.txn === undefined) continue
    const result = op.result?.type === 'txn' ? op.result : null
    for (const [branch, succeeded] of [[op.txn.success, true], [op.txn.failure, false]] as const) {
      for (const txnOp of branch) {
        if (txnOp.type !== 'put') continue
        puts.set(`${txnOp.key}\u0000${txnOp.value}`, { op, version: result !== null && result.succeeded === succeeded ? result.revision : null })
      }
    }
  }
  return puts
}

export function checkStaleReads(ops: readonly Op[]): string[] {
  const puts = writtenValues(ops)
  const violations: string[] = []
  for (const read of ops) {
    if (read.kind !== 'stale-get' || read.result?.type !== 'read' || read.result.value === null) continue
    const { value, version } = read.result
    const written = puts.get(`${read.key}\u0000${value}`)
    const shown = `stale read #${read.id} of ${read.key} at tick ${read.invokeTick} saw ${value} at version ${version}`
    if (written === undefined) violations.push(`stale-reads: ${shown}, which nobody wrote to ${read.key}`)
    else if (written.op.invokeTick > read.completeTick!) violations.push(`stale-reads: ${shown}, before put #${written.op.id} was invoked at tick ${written.op.invokeTick}`)
    else if (written.version !== null && written.version !== version) violations.push(`stale-reads: ${shown}, but put #${written.op.id} wrote it at version ${written.version}`)
  }
  return violations
}
