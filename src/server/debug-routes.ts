/**
 * Step-through routes (serve --debug-step): hold, release and drop this node's outgoing peer
 * messages, and list what is held. Without the flag they are not mounted (404); with it every
 * request needs the cluster secret in X-Paxos-Secret (401). `?node=N` passes the request on
 * to member N, so the live page served by one node can step any member.
 * @module
 */
import type { Context, Hono } from 'hono'
import { request } from 'undici'
import { z } from 'zod'
import type { NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { NodeService, StepThroughPort } from './node-service.js'
import type { Amount } from '../transport/holding-transport.js'
import { peerHeaders } from '../transport/transport.js'
import { readBoundedBody } from './body.js'
import { ApiError } from './errors.js'
import { secretChecker } from './peer-auth.js'

export type DebugRouteOptions = Readonly<{ node: NodeService; secret: string; members: ReadonlySet<NodeId> }>

const bodyBytesMax = 4096
const messageTypes = ['prepare', 'promise', 'accept', 'accepted', 'reject', 'heartbeat', 'heartbeat-ack', 'catch-up', 'chosen'] as const
const holdSchema = z.strictObject({ to: z.number().int().min(1), types: z.array(z.enum(messageTypes)).max(messageTypes.length) })
const amountSchema = z.union([z.strictObject({ count: z.number().int().min(1).max(limits.outboxEnvelopesMax) }), z.strictObject({ all: z.literal(true) })])
const querySchema = z.strictObject({ node: z.string().regex(/^\d{1,3}$/).transform(Number).optional() })

async function jsonBody(c: Context, empty: unknown): Promise<unknown> {
  const bytes = await readBoundedBody(c, bodyBytesMax, `debug bodies are limited to ${bodyBytesMax} bytes`)
  if (bytes.length === 0) return empty
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    throw new ApiError('bad_request', 'the body is not JSON')
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new ApiError('bad_request', `${what}: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  return parsed.data
}

/** Passes the request to member `target` (its answer, whatever it is, comes back as is). */
async function relay(c: Context, options: DebugRouteOptions, target: NodeId, body: unknown): Promise<Response> {
  const base = options.node.peerUrl(target)
  if (base === null || !options.members.has(target)) throw new ApiError('not_found', `no member ${target}`)
  try {
    const response = await request(`${base}${new URL(c.req.url).pathname}`, {
      method: c.req.method as 'GET' | 'POST',
      headers: { [peerHeaders.secret]: c.req.header(peerHeaders.secret) ?? '', 'content-type': 'application/json' },
      body: c.req.method === 'GET' ? null : JSON.stringify(body),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    })
    return new Response(await response.body.text(), { status: response.statusCode, headers: { 'content-type': 'application/json' } })
  } catch {
    throw new ApiError('unavailable', `member ${target} cannot be reached`)
  }
}

export function mountDebugRoutes(app: Hono, options: DebugRouteOptions): void {
  const step: StepThroughPort | null = options.node.stepThrough()
  if (step === null) return
  const secretMatches = secretChecker(options.secret)
  /** Authenticates, reads the body, and relays when `?node=` names another member. */
  const route = (handle: (body: unknown) => Record<string, unknown>, empty: unknown = {}) => async (c: Context) => {
    if (!secretMatches(c.req.header(peerHeaders.secret))) throw new ApiError('unauthorized', 'missing or wrong cluster secret (X-Paxos-Secret)')
    const query = parse(querySchema, c.req.query(), 'query')
    const body = c.req.method === 'GET' ? empty : await jsonBody(c, empty)
    if (query.node !== undefined && query.node !== options.node.id) return relay(c, options, query.node as NodeId, body)
    return c.json({ ...handle(body), ...step.view() })
  }
  app.post('/v1/debug/hold', route((body) => {
    const rule = parse(holdSchema, body, 'hold')
    if (!options.members.has(rule.to as NodeId) || rule.to === options.node.id) throw new ApiError('bad_request', `to must be another member, not ${rule.to}`)
    step.hold({ to: rule.to as NodeId, types: rule.types })
    return {}
  }))
  app.post('/v1/debug/release', route((body) => ({ released: step.release(parse(amountSchema, body, 'release') as Amount) })))
  app.post('/v1/debug/drop', route((body) => ({ dropped: step.drop(parse(amountSchema, body, 'drop') as Amount) }), { count: 1 }))
  app.get('/v1/debug/held', route(() => ({})))
}
