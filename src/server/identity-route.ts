/**
 * GET /peer/identity (see transport/peer-identity.ts): served by a running node and by one
 * still waiting to start. It needs the secret and the asker's id, not the cluster id: a node
 * with an empty data directory asks before it knows the cluster it belongs to.
 * @module
 */
import type { Hono } from 'hono'
import { nodeId, type NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { IdentityAnswer } from '../transport/peer-identity.js'
import { identityPath } from '../transport/peer-identity.js'
import { peerHeaders } from '../transport/transport.js'
import { ApiError } from './errors.js'
import { secretChecker } from './peer-auth.js'

export type IdentityRouteOptions = Readonly<{ secret: string; identity: (asker: NodeId) => IdentityAnswer }>

export function mountIdentityRoute(app: Hono, options: IdentityRouteOptions): void {
  const secretMatches = secretChecker(options.secret)
  app.get(identityPath, (c) => {
    if (!secretMatches(c.req.header(peerHeaders.secret))) throw new ApiError('unauthorized', 'missing or wrong cluster secret')
    const asker = Number(c.req.header(peerHeaders.node))
    if (!Number.isInteger(asker) || asker < 1 || asker > limits.nodesMax) throw new ApiError('bad_request', `${peerHeaders.node} must name a node id, 1 to ${limits.nodesMax}`)
    return c.json(options.identity(nodeId(asker)))
  })
}
