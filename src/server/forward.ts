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
import { request } from 'undici'
import type { RequestId } from '../core/command.js'
import { limits } from '../core/limits.js'
import type { NodeId } from '../core/ids.js'
import type { NodeService } from '../node/node-service.js'
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

export type WithLeaderOptions = Readonly<{
  node: NodeService
  identity: PeerIdentity
  deadline: number
  forwarded: Forwarded | null
  /** Writes get one (at the first node); reads have no effect to repeat and need none. */
  requestId: RequestId | null
  body: Uint8Array | null
}>

/** Runs `attempt` here, or forwards, as ForwardPolicy says, until an answer or the deadline. */
export async function withLeader<T extends { type: string }>(c: Context, options: WithLeaderOptions, attempt: Attempt<T>): Promise<T | Response> {
  const { node, deadline, forwarded, requestId } = options
  const policy = new ForwardPolicy({ self: node.id, forwarded: forwarded !== null, retrySafe: true, deadline, retryDelay: retryDelayMs })
  for (let step = policy.first(); ;) {
    switch (step.type) {
      case 'local': {
        const outcome = await attempt(forwarded !== null || policy.forwardedOnce ? requestId : null)
        if (outcome.type !== 'not_leader') return outcome as T
        step = policy.after(outcome as NotLeader, node.nowMs())
        break
      }
      case 'forward': {
        const relayed = await proxy(c, options, step.to)
        if (relayed instanceof Response) return relayed
        step = policy.after(relayed, node.nowMs())
        break
      }
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs))
        step = policy.resume(node.nowMs())
        break
      case 'not_leader':
        return notLeaderAnswer(c, step.leader)
      case 'give_up':
        if (step.outcome === 'unknown') throw new ApiError('unavailable', 'outcome unknown: the leader did not answer before the request timed out', { outcome: 'unknown' })
        throw new ApiError('unavailable', 'no leader could be reached before the request timed out')
    }
  }
}

/** To a forwarder: this node did not take the request, so trying elsewhere is safe. */
function notLeaderAnswer(c: Context, leader: NodeId | null): Response {
  return c.json({ error: 'unavailable', message: 'not the leader' }, 503, { [forwardHeaders.notLeader]: leader === null ? '' : String(leader), 'retry-after': '1' })
}

async function proxy(c: Context, options: WithLeaderOptions, leader: NodeId): Promise<Response | AttemptOutcome> {
  const { node, identity, deadline, requestId, body } = options
  const baseUrl = node.peerUrl(leader)
  if (baseUrl === null) return { type: 'refused' }
  const url = new URL(c.req.url)
  const timeoutMs = Math.max(1, Math.ceil(deadline - node.nowMs()))
  const headers: Record<string, string> = {
    [forwardHeaders.forwarded]: '1',
    [forwardHeaders.budgetMs]: String(timeoutMs),
    [forwardHeaders.deadlineAtMs]: String(Math.ceil(node.wallMs() + timeoutMs)),
    [peerHeaders.secret]: identity.secret,
    [peerHeaders.cluster]: identity.clusterId,
  }
  if (requestId !== null) headers[forwardHeaders.requestId] = requestId
  for (const name of ['content-type', 'idempotency-key']) {
    const value = c.req.header(name)
    if (value !== undefined) headers[name] = value
  }
  let response: Awaited<ReturnType<typeof request>>
  let payload: Uint8Array
  try {
    response = await request(`${baseUrl}${url.pathname}${url.search}`, {
      method: c.req.method as 'GET' | 'PUT' | 'DELETE' | 'POST',
      headers,
      body: body === null ? null : Buffer.from(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    })
    payload = new Uint8Array(await response.body.arrayBuffer())
  } catch (error) {
    return { type: refusedConnection(error) ? 'refused' : 'unknown' }
  }
  // The target's hint is not followed: the policy asks this node's own view next.
  if (response.statusCode === 503 && typeof response.headers[forwardHeaders.notLeader] === 'string') return { type: 'not_leader', leader: null }
  const relayed = new Headers()
  for (const name of relayedHeaders) {
    const value = response.headers[name]
    if (typeof value === 'string') relayed.set(name, value)
  }
  return new Response(payload, { status: response.statusCode, headers: relayed })
}

/** Only a refused connection proves the request never reached the target. */
function refusedConnection(error: unknown): boolean {
  for (let current = error; typeof current === 'object' && current !== null; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === 'ECONNREFUSED') return true
  }
  return false
}
