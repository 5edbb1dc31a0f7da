/**
 * GET /v1/status and GET /metrics.
 * @module
 */
import type { Hono } from 'hono'
import type { NodeService } from './node-service.js'

export function mountStatusRoutes(app: Hono, node: NodeService): void {
  app.get('/v1/status', (c) => c.json(node.status()))
  app.get('/metrics', async (c) => c.text(await node.metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }))
}
