/**
 * createApp: mounts the routes, one error handler, 404 and 405. No business logic here.
 * @module
 */
import { Hono } from 'hono'
import { AssertionError } from '../core/assert.js'
import type { NodeId } from '../core/ids.js'
import type { NodeService } from './node-service.js'
import type { WriteCommand } from '../kv/command.js'
import type { PeerCodec } from '../transport/codec.js'
import { ApiError, apiErrorStatus, errorBody, retryAfterSeconds } from './errors.js'
import { mountDebugRoutes } from './debug-routes.js'
import { mountEtcdPeerRoute } from './etcd/peer-route.js'
import { mountEventsRoutes } from './events-routes.js'
import { mountKvRoutes } from './kv-routes.js'
import { mountTxnRoutes } from './txn-routes.js'
import { mountWatchRoutes } from './watch-routes.js'
import { mountLeaseRoutes } from './lease-routes.js'
import { mountMemberRoutes } from './member-routes.js'
import { mountPeerRoutes, type RefusedSender } from './peer-routes.js'
import { mountStatusRoutes } from './status-routes.js'
import { mountUiRoutes } from './ui-routes.js'

export type AppDeps = Readonly<{
  node: NodeService
  secret: string
  clusterId: string
  members: ReadonlySet<NodeId>
  requestTimeoutMs: number
  valueBytesMax: number
  peerCodec: PeerCodec<WriteCommand>
  /** A bug (failed assertion): crash, never answer 500. */
  onFatal: (error: Error) => void
  onRequest?: (route: string, method: string, status: number, durationMs: number) => void
  onUnexpected?: (error: unknown) => void
  onPeerRefused?: (from: RefusedSender, reason: string) => void
}>

const knownRoutes: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\/v1\/kv\/.*/, 'GET, PUT, DELETE'],
  [/^\/v1\/kv$/, 'GET, DELETE'],
  [/^\/v1\/txn$/, 'POST'],
  [/^\/v1\/watch$/, 'GET'],
  [/^\/v1\/leases$/, 'GET, POST'],
  [/^\/v1\/leases\/[^/]+$/, 'GET, DELETE'],
  [/^\/v1\/leases\/[^/]+\/keepalive$/, 'POST'],
  [/^\/v1\/status$/, 'GET'],
  [/^\/v1\/members$/, 'GET, POST'],
  [/^\/v1\/members\/[^/]+$/, 'DELETE'],
  [/^\/v1\/members\/[^/]+\/promote$/, 'POST'],
  [/^\/v1\/events$/, 'GET'],
  [/^\/ui(\/[^/]+)?$/, 'GET'],
  [/^\/metrics$/, 'GET'],
  [/^\/peer\/messages$/, 'POST'],
  [/^\/peer\/stream$/, 'POST'],
  [/^\/peer\/identity$/, 'GET'],
  [/^\/peer\/etcd\/[^/]+\/[^/]+$/, 'POST'],
]

function routeName(path: string): string {
  if (path.startsWith('/v1/kv/')) return '/v1/kv/{key}'
  if (path.startsWith('/ui/')) return '/ui/{file}' // one series, whatever name is asked for
  if (path.startsWith('/peer/etcd/')) return '/peer/etcd/{call}'
  if (path.startsWith('/v1/members/')) return path.endsWith('/promote') ? '/v1/members/{id}/promote' : '/v1/members/{id}'
  return knownRoutes.some(([pattern]) => pattern.test(path)) ? path : 'other'
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono()
  if (deps.onRequest !== undefined) {
    const onRequest = deps.onRequest
    app.use(async (c, next) => {
      const started = deps.node.nowMs()
      await next()
      onRequest(routeName(c.req.path), c.req.method, c.res.status, deps.node.nowMs() - started)
    })
  }
  mountKvRoutes(app, deps)
  mountTxnRoutes(app, deps)
  mountWatchRoutes(app, deps)
  mountLeaseRoutes(app, deps)
  mountMemberRoutes(app, deps)
  mountStatusRoutes(app, deps.node)
  mountEventsRoutes(app, deps.node)
  mountUiRoutes(app)
  mountDebugRoutes(app, deps)
  mountPeerRoutes(app, deps)
  mountEtcdPeerRoute(app, deps)
  app.notFound((c) => {
    const route = knownRoutes.find(([pattern]) => pattern.test(c.req.path))
    if (route !== undefined) {
      return c.json({ error: 'method_not_allowed', message: `${c.req.method} is not allowed here; use ${route[1]}` }, 405, { allow: route[1] })
    }
    return c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404)
  })
  app.onError((error, c) => {
    if (error instanceof AssertionError) {
      deps.onFatal(error)
      throw error
    }
    if (error instanceof ApiError) {
      const status = apiErrorStatus[error.code]
      const headers: Record<string, string> = status === 503 ? { 'retry-after': String(retryAfterSeconds) } : {}
      // The body may not have been read: the connection cannot carry another request.
      if (status === 413) headers.connection = 'close'
      return c.json(errorBody(error), status, headers)
    }
    deps.onUnexpected?.(error)
    return c.json({ error: 'internal', message: 'internal error' }, 500)
  })
  return app
}
