/**
 * The HTTP app of a node that waits, with an empty data directory, for its peers' identity
 * answers before it starts (node/fresh-start.ts). It answers the same question for them, and
 * 503 to everything else: nothing is stored yet, so there is nothing to serve.
 * @module
 */
import { Hono } from 'hono'
import { ApiError, apiErrorStatus, errorBody, retryAfterSeconds } from './errors.js'
import { mountIdentityRoute, type IdentityRouteOptions } from './identity-route.js'

export function createStartingApp(options: IdentityRouteOptions): Hono {
  const app = new Hono()
  mountIdentityRoute(app, options)
  app.all('*', () => {
    throw new ApiError('unavailable', 'this node is starting: it waits for its peers to say whether they know it')
  })
  app.onError((error, c) => {
    if (!(error instanceof ApiError)) throw error
    return c.json(errorBody(error), apiErrorStatus[error.code], { 'retry-after': String(retryAfterSeconds) })
  })
  return app
}
