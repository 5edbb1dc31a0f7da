/**
 * Every etcd call paxos-kv serves, by service and method, with what it runs. The gRPC server
 * serves all of them; the leader's peer route serves the forwardable ones (those that need the
 * leader) for its followers. Anything else answers UNIMPLEMENTED, naming the call.
 * @module
 */
import { compact, deleteRange, put, range } from './kv-service.js'
import { memberList, type ClusterDeps } from './cluster-service.js'
import { txn } from './txn-service.js'
import type { CallContext, EtcdDeps } from './context.js'
import type { EtcdServiceName } from './definitions.js'
import { alarm, status } from './maintenance-service.js'
import type { EtcdStreamTable } from './stream-call.js'
import { watchCall } from './watch-service.js'
import { leaseGrant, leaseKeepAliveCall, leaseKeepAliveOnce, leaseLeases, leaseRevoke, leaseTimeToLive } from './lease-service.js'

/** Handlers take the request as the definitions decode it; the shapes are in messages.ts. */
type Run = (request: any, context: CallContext) => Promise<object> | object

export type EtcdCallTable = Readonly<Record<string, Run>>

/** `KV.Range` and the like. */
export function callName(service: EtcdServiceName, method: string): string {
  return `${service}.${method}`
}

/** The calls a follower forwards to the leader, served on both sides. */
export function forwardableCalls(deps: EtcdDeps): EtcdCallTable {
  return {
    'KV.Range': (request, context) => range(deps, request, context),
    'KV.Put': (request, context) => put(deps, request, context),
    'KV.DeleteRange': (request, context) => deleteRange(deps, request, context),
    'KV.Txn': (request, context) => txn(deps, request, context),
    'KV.Compact': (request, context) => compact(deps, request, context),
    'Lease.LeaseGrant': (request, context) => leaseGrant(deps, request, context),
    'Lease.LeaseRevoke': (request, context) => leaseRevoke(deps, request, context),
    // One keepalive of a stream: the stream is served where it arrived, each keepalive by the leader.
    'Lease.LeaseKeepAlive': (request, context) => leaseKeepAliveOnce(deps, request, context),
    'Lease.LeaseTimeToLive': (request, context) => leaseTimeToLive(deps, request, context),
    'Lease.LeaseLeases': (_request, context) => leaseLeases(deps, context),
  }
}

/** Everything the gRPC port serves. */
export function servedCalls(deps: ClusterDeps): EtcdCallTable {
  return {
    ...forwardableCalls(deps),
    'Maintenance.Status': () => status(deps),
    'Maintenance.Alarm': (request) => alarm(deps, request),
    'Cluster.MemberList': () => memberList(deps),
  }
}

/** The bidirectional calls the gRPC port serves: each stream is served by the node it reached. */
export function servedStreams(deps: EtcdDeps): EtcdStreamTable {
  return { 'Watch.Watch': watchCall(deps), 'Lease.LeaseKeepAlive': leaseKeepAliveCall(deps) }
}
