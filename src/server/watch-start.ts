/**
 * Where a watch without a start revision starts, for both APIs (GET /v1/watch and etcd's
 * Watch): after this node's revision, once a read barrier shows it has every write acknowledged
 * so far, so the watch misses none of them. A follower asks the leader for its revision (a txn
 * of nothing, which the leader answers after its own read barrier) and waits until it has
 * applied that far.
 * @module
 */
import { request } from 'undici'
import type { Revision } from '../core/ids.js'
import type { NodeService, WatchHandle } from './node-service.js'

export type WatchStart = Readonly<{ type: 'after'; revision: Revision }> | Readonly<{ type: 'unavailable'; reason: string }>

/** `handle` wakes this wait as the node applies; it is the caller's, and not closed here. */
export async function watchStartAfter(node: NodeService, handle: WatchHandle, timeoutMs: number): Promise<WatchStart> {
  const deadline = node.nowMs() + timeoutMs
  const local = await node.readBarrier(deadline)
  if (local.type === 'ok') return { type: 'after', revision: node.revision() }
  const leaderUrl = local.type === 'not_leader' && local.leader !== null ? node.peerUrl(local.leader) : null
  if (leaderUrl === null) return { type: 'unavailable', reason: 'no leader to start the watch from' }
  let target: number
  try {
    const response = await request(`${leaderUrl}/v1/txn`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    const body = (await response.body.json()) as { version?: unknown }
    if (response.statusCode !== 200 || typeof body.version !== 'number') throw new Error(`the leader answered ${response.statusCode}`)
    target = body.version
  } catch {
    return { type: 'unavailable', reason: 'the leader\'s revision could not be read to start the watch' }
  }
  while (node.revision() < target) {
    const remaining = deadline - node.nowMs()
    if (remaining <= 0 || (await handle.next(remaining)) === 'closed') return { type: 'unavailable', reason: 'this node did not catch up with the leader in time' }
  }
  return { type: 'after', revision: node.revision() }
}
