/**
 * What every etcd call handler gets: the node and settings (deps), and the call's own context.
 * @module
 */
import { createHash } from 'node:crypto'
import type { Revision } from '../../core/ids.js'
import type { NodeService } from '../node-service.js'
import type { Forwarded } from '../forward.js'
import type { ResponseHeader } from './messages.js'

export type EtcdDeps = Readonly<{
  node: NodeService
  secret: string
  clusterId: string
  requestTimeoutMs: number
  valueBytesMax: number
}>

export type CallContext = Readonly<{
  /** Set when another member forwarded this call here (it is answered here or refused, never sent on). */
  forwarded: Forwarded | null
  /** When the client stops waiting, on the node's clock (`nowMs`); infinite without one. */
  clientDeadline: number
  /** The request as the client encoded it: what a forward to the leader carries. */
  requestBytes: Uint8Array
}>

/** etcd's ids are uint64s: the cluster id string's first 8 digest bytes, as a decimal string. */
export function etcdClusterId(clusterId: string): string {
  return createHash('sha256').update(clusterId).digest().readBigUInt64BE(0).toString()
}

/** Every response's header: this member, the store's revision it answers at, the ballot round as the term. */
export function responseHeader(deps: EtcdDeps, revision: Revision): ResponseHeader {
  return {
    cluster_id: etcdClusterId(deps.clusterId),
    member_id: String(deps.node.id),
    revision: String(revision),
    raft_term: String(deps.node.status().ballot.round),
  }
}
