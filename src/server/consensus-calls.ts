/**
 * What every client route does once it has validated its input: propose a write and wait for
 * its outcome, or pass a read barrier, here or through the leader (withLeader), and map a
 * failed outcome to the one error table. The KV and txn routes differ only in what they send
 * and how they phrase success.
 * @module
 */
import type { Context } from 'hono'
import type { RequestId } from '../kv/command.js'
import { limits } from '../core/limits.js'
import type { NodeService, WriteOutcome, WriteRequest } from './node-service.js'
import { ApiError } from './errors.js'
import { forwardedOf, requestDeadline, withLeader, type Forwarded } from './forward.js'
import { nextTurn } from './next-turn.js'
import type { PeerIdentity } from './peer-auth.js'
import type { Consistency } from './validate.js'

export type ClientRouteOptions = Readonly<{ node: NodeService; requestTimeoutMs: number; valueBytesMax: number; secret: string; clusterId: string }>

/** A write that took effect: a key write, or a txn that went through the log. */
export type Applied = Extract<WriteOutcome, { type: 'ok' | 'txn' | 'lease_granted' | 'lease_revoked' }>

function deadlineOf(options: ClientRouteOptions, forwarded: Forwarded | null, kind: 'write' | 'read'): number {
  return requestDeadline(options.node, options.requestTimeoutMs, forwarded, kind)
}

/**
 * Runs `call` on the leader (forwarding there from a follower) within the request's deadline,
 * for calls the leader answers itself (lease keepalives and views, membership): the call's
 * outcome here, or the answer the leader relayed.
 */
export async function callLeader<T extends { type: string }>(c: Context, options: ClientRouteOptions, call: (deadline: number) => Promise<T>, body: Uint8Array | null): Promise<T | Response> {
  const forwarded = forwardedOf(c, options.node, identity(options))
  const deadline = options.node.nowMs() + Math.min(options.requestTimeoutMs, forwarded?.budgetMs ?? Number.POSITIVE_INFINITY)
  return withLeader<T>(c, { identity: identity(options), node: options.node, deadline, forwarded, requestId: null, body }, () => call(deadline))
}

export function identity(options: ClientRouteOptions): PeerIdentity {
  return { secret: options.secret, clusterId: options.clusterId }
}

/**
 * Proposes the write `request` builds for one attempt (with the request id once a copy may exist
 * elsewhere), and answers with `answer` once it took effect. `body`: the request body, for a
 * forward to the leader.
 */
export async function proposeWrite(
  c: Context,
  options: ClientRouteOptions,
  forwarded: Forwarded | null,
  request: (requestId: RequestId | null) => WriteRequest,
  body: Uint8Array | null,
  answer: (applied: Applied) => Response,
): Promise<Response> {
  const deadline = deadlineOf(options, forwarded, 'write')
  // The first node names the request; every forward and retry of it carries that name.
  const requestId = forwarded === null ? options.node.newRequestId() : forwarded.requestId
  const outcome = await withLeader<WriteOutcome>(c, { identity: identity(options), node: options.node, deadline, forwarded, requestId, body }, (id) => options.node.write(request(id), deadline))
  if (outcome instanceof Response) return outcome
  switch (outcome.type) {
    case 'ok':
    case 'txn':
    case 'lease_granted':
    case 'lease_revoked':
      return answer(outcome)
    case 'lease_not_found':
      throw new ApiError('lease_not_found', 'no such lease (it was revoked, or it expired)')
    case 'cas_mismatch':
      throw new ApiError('cas_mismatch', `the key's version is ${outcome.version}`, { version: outcome.version })
    case 'idempotency_key_reused':
      throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was first used for a different request; nothing was written')
    case 'overloaded':
      throw new ApiError('overloaded', {
        records_full: 'too many recent retry-safe writes are remembered to take another now; nothing was written, retry shortly',
        writes_in_flight: 'the leader has too many writes in flight; retry shortly',
        lease_limit: `at most ${limits.leasesMax} leases, and ${limits.keysPerLeaseMax} keys on one lease; nothing was written`,
      }[outcome.reason])
    case 'quota_exceeded':
      throw new ApiError('quota_exceeded', 'the store is at its live-data quota: delete keys or raise --quota-bytes')
    case 'timeout':
      throw new ApiError('unavailable', 'outcome unknown: the write was not confirmed before the timeout', { outcome: 'unknown' })
    case 'not_leader':
      throw new ApiError('unavailable', 'no leader')
  }
}

/**
 * For a read: returns null when this node may serve it now, or the leader's response to the
 * request forwarded there (`body`: the request body, for that forward).
 */
export async function readBarrier(c: Context, options: ClientRouteOptions, consistency: Consistency, body: Uint8Array | null = null): Promise<Response | null> {
  if (consistency === 'stale') {
    await nextTurn()
    return null
  }
  const forwarded = forwardedOf(c, options.node, identity(options))
  const deadline = deadlineOf(options, forwarded, 'read')
  const outcome = await withLeader(c, { identity: identity(options), node: options.node, deadline, forwarded, requestId: null, body }, () => options.node.readBarrier(deadline))
  if (outcome instanceof Response) return outcome
  if (outcome.type === 'ok') return null
  if (outcome.type === 'overloaded') throw new ApiError('overloaded', 'too many reads waiting; retry shortly')
  throw new ApiError('unavailable', 'the read could not be confirmed by a quorum before the timeout')
}
