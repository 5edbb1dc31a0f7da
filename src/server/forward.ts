/**
 * Any node accepts any request: when this node is not the leader, the request is proxied to the
 * leader it knows, or tried again once one is known, until the request's deadline. What to try
 * next is ForwardPolicy's decision; this file does the waiting and the HTTP.
 *
 * A forward that was sent but got no answer (the leader died, the connection reset, a timeout)
 * may have been proposed. It is tried again only because every copy of a write carries the
 * request id this node gave it, and the state machine applies one request id once.
 * @module
 */
import type { Context } from 'hono'
import { request as undiciRequest } from 'undici'
import type { RequestId } from '../kv/command.js'
import { limits } from '../core/limits.js'
import type { NodeId } from '../core/ids.js'
import type { NodeService } from './node-service.js'
import { peerHeaders } from '../transport/transport.js'
import { ApiError } from './errors.js'
import { ForwardPolicy, type AttemptOutcome } from './forward-policy.js'
import { peerAuthenticator, type PeerIdentity } from './peer-auth.js'
import { itemHeaderNames } from './item-headers.js'
import { receiptHeaderNames } from './receipt-headers.js'

/** Headers on a forwarded request (beside the peer secret and cluster id) and on its answer. */
export const forwardHeaders = {
  forwarded: 'x-paxos-forwarded',
  requestId: 'x-paxos-request-id',
  /** Milliseconds left of the forwarder's deadline: the target never works past it. */
  budgetMs: 'x-paxos-budget-ms',
  /**
   * The same deadline on the forwarder's wall clock. A request can wait unread in a stalled
   * target (a long GC, SIGSTOP) for longer than its budget: then it must not be proposed, as
   * its other copies' record may be gone by then.
   */
  deadlineAtMs: 'x-paxos-deadline-at-ms',
  /** On a 503 answer to a forward: the target did not take the request (its leader hint, or empty). */
  notLeader: 'x-paxos-not-leader',
} as const

const retryDelayMs = 25
const relayedHeaders = ['content-type', 'retry-after', ...itemHeaderNames, ...receiptHeaderNames] as const

type NotLeader = Readonly<{ type: 'not_leader'; leader: NodeId | null }>

/** One try on this node; `requestId` is set once a copy of the request may exist elsewhere. */
export type Attempt<T> = (requestId: RequestId | null) => Promise<T | NotLeader>

/**
 * What a forwarded request says about itself; null for a request straight from a client.
 * `budgetMs`: what is left of the forwarder's deadline now (0: it passed while the request waited).
 */
export type Forwarded = Readonly<{ requestId: RequestId | null; budgetMs: number }>

const requestIdPattern = /^[A-Za-z0-9._-]+$/

/**
 * A request that says it was forwarded must prove it came from a member (401 otherwise): its
 * request id decides which write a retry is taken for.
 */
export function forwardedOf(c: Context, node: NodeService, identity: PeerIdentity): Forwarded | null {
  if (c.req.header(forwardHeaders.forwarded) === undefined) return null
  peerAuthenticator(identity)(c.req.header(peerHeaders.secret), c.req.header(peerHeaders.cluster))
  const requestId = c.req.header(forwardHeaders.requestId) ?? null
  if (requestId !== null && (requestId.length > limits.requestIdBytesMax || !requestIdPattern.test(requestId))) {
    throw new ApiError('bad_request', 'malformed forwarded request id')
  }
  const budgetMs = wholeMs(c.req.header(forwardHeaders.budgetMs), 9)
  const deadlineAtMs = wholeMs(c.req.header(forwardHeaders.deadlineAtMs), 15)
  if (budgetMs === null || deadlineAtMs === null) throw new ApiError('bad_request', 'malformed forwarded deadline')
  return { requestId, budgetMs: Math.max(0, Math.min(budgetMs, deadlineAtMs - node.wallMs())) }
}

function wholeMs(text: string | undefined, digitsMax: number): number | null {
  return text !== undefined && text.length <= digitsMax && /^\d+$/.test(text) ? Number(text) : null
}

/**
 * When a request must be answered by, on this node's clock (`nowMs`). A forwarded request
 * inherits the forwarder's deadline; a write is proposed only within the forward window of its
 * first node (its request-id record outlives that window, see limits.ts). `clientDeadline`: the
 * client's own, when its protocol carries one (gRPC).
 */
export function requestDeadline(node: NodeService, requestTimeoutMs: number, forwarded: Forwarded | null, kind: 'write' | 'read', clientDeadline = Number.POSITIVE_INFINITY): number {
  const timeoutMs = Math.min(requestTimeoutMs, kind === 'write' ? limits.forwardWindowMs : Number.POSITIVE_INFINITY, forwarded?.budgetMs ?? Number.POSITIVE_INFINITY)
  return Math.min(node.nowMs() + timeoutMs, clientDeadline)
}

export type WithLeaderOptions = Readonly<{
  node: NodeService
  identity: PeerIdentity
  deadline: number
  forwarded: Forwarded | null
  /** Writes get one (at the first node); reads have no effect to repeat and need none. */
  requestId: RequestId | null
  body: Uint8Array | null
}>

/** A request as this node sends it on to the leader (the forwarding headers are added). */
export type PeerRequest = Readonly<{
  method: 'GET' | 'PUT' | 'DELETE' | 'POST'
  /** Path and query, as the leader's HTTP server routes them. */
  path: string
  headers: Readonly<Record<string, string>>
  body: Uint8Array | null
}>

/** The leader's answer to a forward, whole. */
export type PeerAnswer = Readonly<{ status: number; headers: Readonly<Record<string, string>>; body: Uint8Array }>

/** Where trying ended: this node's own outcome, the leader's answer, or a step the API maps to its protocol. */
export type LeaderOutcome<T> =
  | Readonly<{ type: 'local'; outcome: T }>
  | Readonly<{ type: 'relayed'; answer: PeerAnswer }>
  /** The request was forwarded here and this node did not take it: tell the forwarder so. */
  | Readonly<{ type: 'not_leader'; leader: NodeId | null }>
  | Readonly<{ type: 'give_up'; outcome: 'unavailable' | 'unknown' }>

/**
 * Runs `attempt` here, or forwards `request` to the leader, as ForwardPolicy says, until an
 * answer or the deadline. The one forwarding loop: the HTTP API and the etcd API both use it.
 */
export async function runWithLeader<T extends { type: string }>(options: WithLeaderOptions, request: PeerRequest, attempt: Attempt<T>): Promise<LeaderOutcome<T>> {
  const { node, deadline, forwarded, requestId } = options
  const policy = new ForwardPolicy({ self: node.id, forwarded: forwarded !== null, retrySafe: true, deadline, retryDelay: retryDelayMs })
  for (let step = policy.first(); ;) {
    switch (step.type) {
      case 'local': {
        const outcome = await attempt(forwarded !== null || policy.forwardedOnce ? requestId : null)
        if (outcome.type !== 'not_leader') return { type: 'local', outcome: outcome as T }
        step = policy.after(outcome as NotLeader, node.nowMs())
        break
      }
      case 'forward': {
        const relayed = await proxy(request, options, step.to)
        if ('status' in relayed) return { type: 'relayed', answer: relayed }
        step = policy.after(relayed, node.nowMs())
        break
      }
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs))
        step = policy.resume(node.nowMs())
        break
      case 'not_leader':
        return { type: 'not_leader', leader: step.leader }
      case 'give_up':
        return { type: 'give_up', outcome: step.outcome }
    }
  }
}

/** The HTTP API's use of the loop: the request is this route's own, relayed as the leader answered it. */
export async function withLeader<T extends { type: string }>(c: Context, options: WithLeaderOptions, attempt: Attempt<T>): Promise<T | Response> {
  const url = new URL(c.req.url)
  const headers: Record<string, string> = {}
  for (const name of ['content-type', 'idempotency-key']) {
    const value = c.req.header(name)
    if (value !== undefined) headers[name] = value
  }
  const request: PeerRequest = { method: c.req.method as PeerRequest['method'], path: `${url.pathname}${url.search}`, headers, body: options.body }
  const ended = await runWithLeader(options, request, attempt)
  switch (ended.type) {
    case 'local':
      return ended.outcome
    case 'relayed': {
      const relayed = new Headers()
      for (const name of relayedHeaders) {
        const value = ended.answer.headers[name]
        if (value !== undefined) relayed.set(name, value)
      }
      return new Response(ended.answer.body, { status: ended.answer.status, headers: relayed })
    }
    case 'not_leader':
      return notLeaderAnswer(c, ended.leader)
    case 'give_up':
      if (ended.outcome === 'unknown') throw new ApiError('unavailable', 'outcome unknown: the leader did not answer before the request timed out', { outcome: 'unknown' })
      throw new ApiError('unavailable', 'no leader could be reached before the request timed out')
  }
}

/** To a forwarder: this node did not take the request, so trying elsewhere is safe. */
export function notLeaderAnswer(c: Context, leader: NodeId | null): Response {
  return c.json({ error: 'unavailable', message: 'not the leader' }, 503, { [forwardHeaders.notLeader]: leader === null ? '' : String(leader), 'retry-after': '1' })
}

async function proxy(request: PeerRequest, options: WithLeaderOptions, leader: NodeId): Promise<PeerAnswer | AttemptOutcome> {
  const { node, identity, deadline, requestId } = options
  const baseUrl = node.peerUrl(leader)
  if (baseUrl === null) return { type: 'refused' }
  const timeoutMs = Math.max(1, Math.ceil(deadline - node.nowMs()))
  const headers: Record<string, string> = {
    ...request.headers,
    [forwardHeaders.forwarded]: '1',
    [forwardHeaders.budgetMs]: String(timeoutMs),
    [forwardHeaders.deadlineAtMs]: String(Math.ceil(node.wallMs() + timeoutMs)),
    [peerHeaders.secret]: identity.secret,
    [peerHeaders.cluster]: identity.clusterId,
  }
  if (requestId !== null) headers[forwardHeaders.requestId] = requestId
  let response: Awaited<ReturnType<typeof undiciRequest>>
  let payload: Uint8Array
  try {
    response = await undiciRequest(`${baseUrl}${request.path}`, {
      method: request.method,
      headers,
      body: request.body === null ? null : Buffer.from(request.body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    })
    payload = new Uint8Array(await response.body.arrayBuffer())
  } catch (error) {
    return { type: refusedConnection(error) ? 'refused' : 'unknown' }
  }
  // The target's hint is not followed: the policy asks this node's own view next.
  if (response.statusCode === 503 && typeof response.headers[forwardHeaders.notLeader] === 'string') return { type: 'not_leader', leader: null }
  const answerHeaders: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    if (typeof value === 'string') answerHeaders[name] = value
  }
  return { status: response.statusCode, headers: answerHeaders, body: payload }
}

/** Only a refused connection proves the request never reached the target. */
function refusedConnection(error: unknown): boolean {
  for (let current = error; typeof current === 'object' && current !== null; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === 'ECONNREFUSED') return true
  }
  return false
}
