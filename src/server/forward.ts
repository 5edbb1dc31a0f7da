/**
 * Any node accepts any request: when this node is not the leader, the request is proxied to
 * the leader it knows, or retried until one is known, until the request's deadline.
 * @module
 */
import type { Context } from 'hono'
import { request } from 'undici'
import type { NodeId } from '../core/ids.js'
import type { NodeService } from '../node/node-service.js'
import { ApiError } from './errors.js'
import { receiptHeaderNames } from './receipt-headers.js'

export const forwardedHeader = 'x-paxos-forwarded'
const retryDelayMs = 25
const relayedHeaders = ['content-type', 'x-version', 'retry-after', ...receiptHeaderNames] as const

export type Attempt<T> = () => Promise<T | Readonly<{ type: 'not_leader'; leader: NodeId | null }>>

/**
 * Runs `attempt` until it answers something other than not_leader; on not_leader, proxies the
 * original request to the leader (once per attempt), or waits for one to be elected.
 */
export async function withLeader<T extends { type: string }>(
  c: Context,
  node: NodeService,
  deadline: number,
  body: Uint8Array | null,
  attempt: Attempt<T>,
): Promise<T | Response> {
  const forwarded = c.req.header(forwardedHeader) !== undefined
  for (;;) {
    const outcome = await attempt()
    if (outcome.type !== 'not_leader') return outcome as T
    const leader = (outcome as { leader: NodeId | null }).leader
    // A forwarded request is never forwarded again: that is how loops are avoided.
    if (!forwarded && leader !== null && leader !== node.id) {
      const relayed = await proxy(c, node, leader, deadline, body)
      if (relayed !== null) return relayed
    }
    if (node.nowMs() + retryDelayMs >= deadline) throw new ApiError('unavailable', 'no leader could be reached before the request timed out')
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs))
  }
}

async function proxy(c: Context, node: NodeService, leader: NodeId, deadline: number, body: Uint8Array | null): Promise<Response | null> {
  const baseUrl = node.peerUrl(leader)
  if (baseUrl === null) return null
  const url = new URL(c.req.url)
  const headers: Record<string, string> = { [forwardedHeader]: '1' }
  for (const name of ['content-type', 'idempotency-key']) {
    const value = c.req.header(name)
    if (value !== undefined) headers[name] = value
  }
  const timeoutMs = Math.max(1, deadline - node.nowMs())
  try {
    const response = await request(`${baseUrl}${url.pathname}${url.search}`, {
      method: c.req.method as 'GET' | 'PUT' | 'DELETE',
      headers,
      body: body === null ? null : Buffer.from(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    })
    const payload = new Uint8Array(await response.body.arrayBuffer())
    const relayed = new Headers()
    for (const name of relayedHeaders) {
      const value = response.headers[name]
      if (typeof value === 'string') relayed.set(name, value)
    }
    return new Response(payload, { status: response.statusCode, headers: relayed })
  } catch {
    return null // unreachable leader: wait for the next one
  }
}
