/**
 * Stale reads (served from any node's state, with no quorum round) may return an old value, but
 * never one that was not written: the value must be null or a put's (values are unique), read no
 * earlier than that put was invoked, with the version the put was acknowledged with, if it was.
 */
import type { Op } from '../history.js'

export function checkStaleReads(ops: readonly Op[]): string[] {
  const puts = new Map<string, Op>()
  for (const op of ops) if (op.kind === 'put' && op.value !== null) puts.set(`${op.key}\u0000${op.value}`, op)
  const violations: string[] = []
  for (const read of ops) {
    if (read.kind !== 'stale-get' || read.result?.type !== 'read' || read.result.value === null) continue
    const { value, version } = read.result
    const put = puts.get(`${read.key}\u0000${value}`)
    const shown = `stale read #${read.id} of ${read.key} at tick ${read.invokeTick} saw ${value} at version ${version}`
    if (put === undefined) violations.push(`stale-reads: ${shown}, which nobody wrote to ${read.key}`)
    else if (put.invokeTick > read.completeTick!) violations.push(`stale-reads: ${shown}, before put #${put.id} was invoked at tick ${put.invokeTick}`)
    else if (put.result?.type === 'written' && put.result.version !== version) violations.push(`stale-reads: ${shown}, but put #${put.id} wrote it at version ${put.result.version}`)
  }
  return violations
}
