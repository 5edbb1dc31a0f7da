/**
 * etcd's Lease service over the node's leases (the semantics are src/kv/leases.ts and the
 * leader's countdowns): grant and revoke go through the log, keepalive, time-to-live and the
 * listing are the leader's answers, as the HTTP API's. Every call works from any node (a
 * follower has the leader answer it); a keepalive stream sends each keepalive on the same way.
 * etcd's answers are kept where they are not errors: a keepalive of a lease that is gone answers
 * TTL 0, a time-to-live of one answers TTL -1 (checked against etcd 3.4.23).
 * @module
 */
import { AssertionError } from '../../core/assert.js'
import { limits } from '../../core/limits.js'
import type { LeaseCall, WriteOutcome } from '../node-service.js'
import { responseHeader, type CallContext, type EtcdDeps } from './context.js'
import { EtcdError } from './etcd-errors.js'
import { int64, leaseOf } from './integers.js'
import { appliedWrite } from './kv-answers.js'
import { onLeader } from './leader.js'
import type { LeaseGrantRequest, LeaseGrantResponse, LeaseKeepAliveRequest, LeaseKeepAliveResponse, LeaseLeasesResponse, LeaseRevokeRequest, LeaseRevokeResponse, LeaseTimeToLiveRequest, LeaseTimeToLiveResponse } from './messages.js'
import type { StreamCall, StreamHandlers, StreamRun } from './stream-call.js'

/** A lease call's outcome on the leader: its value, or the etcd error that says why not. */
function leaderValue<T>(outcome: LeaseCall<T>): T | null {
  switch (outcome.type) {
    case 'ok':
      return outcome.value
    case 'not_found':
      return null
    case 'overloaded':
      throw new EtcdError('overloaded', 'too many reads waiting')
    case 'timeout':
      throw new EtcdError('timeout', 'the leader could not confirm its leadership in time')
    case 'not_leader':
      throw new AssertionError('a lease call ended not_leader past the forwarding loop')
  }
}

/** The grant or revoke's outcome: applied, or its etcd error. */
function appliedLease(outcome: WriteOutcome): Extract<WriteOutcome, { type: 'lease_granted' | 'lease_revoked' }> {
  if (outcome.type === 'lease_granted' || outcome.type === 'lease_revoked') return outcome
  appliedWrite(outcome) // throws the etcd error for every failure
  throw new AssertionError(`a lease write ended ${outcome.type}`)
}

/**
 * ID 0: the server picks one. An explicit ID is honoured, or "lease already exists": checked on
 * the leader before the grant is proposed (two grants of one ID at the same moment may both be
 * answered with the one lease). A TTL below 1 second is 1; past the HTTP API's bound, too large.
 */
export async function leaseGrant(deps: EtcdDeps, request: LeaseGrantRequest, context: CallContext): Promise<LeaseGrantResponse> {
  const ttlSeconds = Math.max(1, int64(request.TTL, 'TTL'))
  if (ttlSeconds > limits.leaseTtlSecondsMax) throw new EtcdError('lease_ttl_too_large', `paxos-kv serves leases of up to ${limits.leaseTtlSecondsMax} seconds`)
  const asked = request.ID === '0' ? null : leaseOf(request.ID)
  if (request.ID !== '0' && asked === null) throw new EtcdError('bad_request', `lease id ${request.ID} is not 1 to 2^63 - 1`)
  const id = asked ?? deps.node.newLeaseId()
  const granted = await onLeader<WriteOutcome | { type: 'exists' }, LeaseGrantResponse>(deps, context, { service: 'Lease', method: 'LeaseGrant', kind: 'write' }, async (requestId, deadline) => {
    if (asked !== null) {
      const existing = await deps.node.leaseViews(asked, deadline)
      if (existing.type === 'not_leader') return existing
      if (leaderValue(existing) !== null) return { type: 'exists' }
    }
    return deps.node.write({ type: 'lease-grant', id, ttlSeconds, idempotencyKey: null, requestId }, deadline)
  })
  if (granted.type === 'relayed') return granted.response
  if (granted.outcome.type === 'exists') throw new EtcdError('lease_exists')
  const applied = appliedLease(granted.outcome)
  if (applied.type !== 'lease_granted') throw new AssertionError(`a grant answered ${applied.type}`)
  return { header: responseHeader(deps, deps.node.revision()), ID: applied.id, TTL: String(applied.ttlSeconds), error: '' }
}

export async function leaseRevoke(deps: EtcdDeps, request: LeaseRevokeRequest, context: CallContext): Promise<LeaseRevokeResponse> {
  const id = leaseOf(request.ID)
  if (id === null) throw new EtcdError('lease_not_found')
  const revoked = await onLeader<WriteOutcome, LeaseRevokeResponse>(deps, context, { service: 'Lease', method: 'LeaseRevoke', kind: 'write' }, (requestId, deadline) =>
    deps.node.write({ type: 'lease-revoke', id, idempotencyKey: null, requestId }, deadline))
  if (revoked.type === 'relayed') return revoked.response
  const applied = appliedLease(revoked.outcome)
  if (applied.type !== 'lease_revoked') throw new AssertionError(`a revoke answered ${applied.type}`)
  return { header: responseHeader(deps, applied.version) }
}

/** One keepalive, on the leader: the full TTL again, or TTL 0 for a lease that is gone (etcd's answer). */
export async function leaseKeepAliveOnce(deps: EtcdDeps, request: LeaseKeepAliveRequest, context: CallContext): Promise<LeaseKeepAliveResponse> {
  const id = leaseOf(request.ID)
  if (id === null) return { header: responseHeader(deps, deps.node.revision()), ID: request.ID, TTL: '0' }
  const renewed = await onLeader<LeaseCall<Readonly<{ ttlSeconds: number }>>, LeaseKeepAliveResponse>(deps, context, { service: 'Lease', method: 'LeaseKeepAlive', kind: 'read' }, (_requestId, deadline) =>
    deps.node.keepalive(id, deadline))
  if (renewed.type === 'relayed') return renewed.response
  const value = leaderValue(renewed.outcome)
  return { header: responseHeader(deps, deps.node.revision()), ID: request.ID, TTL: String(value?.ttlSeconds ?? 0) }
}

export async function leaseTimeToLive(deps: EtcdDeps, request: LeaseTimeToLiveRequest, context: CallContext): Promise<LeaseTimeToLiveResponse> {
  const id = leaseOf(request.ID)
  const gone = (): LeaseTimeToLiveResponse => ({ header: responseHeader(deps, deps.node.revision()), ID: request.ID, TTL: '-1', grantedTTL: '0', keys: [] })
  if (id === null) return gone()
  const viewed = await onLeader(deps, context, { service: 'Lease', method: 'LeaseTimeToLive', kind: 'read' }, (_requestId, deadline) => deps.node.leaseViews(id, deadline))
  if (viewed.type === 'relayed') return viewed.response as LeaseTimeToLiveResponse
  const [view] = leaderValue(viewed.outcome) ?? []
  if (view === undefined) return gone()
  return {
    header: responseHeader(deps, deps.node.revision()),
    ID: request.ID,
    TTL: String(view.remainingSeconds),
    grantedTTL: String(view.ttlSeconds),
    keys: request.keys ? view.keys.map((key) => Buffer.from(key)) : [],
  }
}

export async function leaseLeases(deps: EtcdDeps, context: CallContext): Promise<LeaseLeasesResponse> {
  const listed = await onLeader(deps, context, { service: 'Lease', method: 'LeaseLeases', kind: 'read' }, (_requestId, deadline) => deps.node.leaseViews(null, deadline))
  if (listed.type === 'relayed') return listed.response as LeaseLeasesResponse
  const views = leaderValue(listed.outcome) ?? []
  return { header: responseHeader(deps, deps.node.revision()), leases: views.map((view) => ({ ID: view.id })) }
}

/**
 * LeaseKeepAlive: each request answered in turn (a bounded queue; past it the stream ends), from
 * the leader; a stream whose client stops sending ends once its answers are out, as etcd's.
 */
export function leaseKeepAliveCall(deps: EtcdDeps): StreamRun {
  return (call: StreamCall): StreamHandlers => {
    let queue: Promise<void> = Promise.resolve()
    let queued = 0
    return {
      request: (message: LeaseKeepAliveRequest, bytes: Uint8Array) => {
        if (queued >= limits.etcdStreamRequestsQueuedMax) return call.end(new EtcdError('stream_overrun', `more than ${limits.etcdStreamRequestsQueuedMax} keepalives waiting`))
        queued += 1
        queue = queue
          .then(async () => {
            if (call.ended) return
            const context: CallContext = { forwarded: null, clientDeadline: Number.POSITIVE_INFINITY, requestBytes: bytes }
            await call.send(await leaseKeepAliveOnce(deps, message, context))
          })
          .catch((error: unknown) => call.fail(error))
          .finally(() => (queued -= 1))
      },
      requestsEnded: () => {
        queue = queue.then(() => call.end())
      },
      closed: () => {},
    }
  }
}
