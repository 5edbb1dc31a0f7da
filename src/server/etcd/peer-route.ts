/**
 * POST /peer/etcd/{service}/{method}: a follower's forward of an etcd call that needs the
 * leader. Only a member may send one (the forwarding headers, checked as for the HTTP API's
 * forwards: 401 otherwise); the body is the client's request as it encoded it, bounded as on
 * the gRPC port. The answer is the encoded response, or the etcd error in two headers, or, when
 * this node does not lead after all, the "not the leader" answer the forwarding loop retries on.
 * @module
 */
import type { Hono } from 'hono'
import { limits } from '../../core/limits.js'
import { readBoundedBody } from '../body.js'
import { ApiError } from '../errors.js'
import { forwardedOf, notLeaderAnswer } from '../forward.js'
import { callName, forwardableCalls } from './calls.js'
import type { EtcdDeps } from './context.js'
import { safeDecoder } from './decode.js'
import { etcdServiceNames, methodDefinition, type EtcdServiceName } from './definitions.js'
import { EtcdError } from './etcd-errors.js'
import { etcdAnswerHeaders, NotLeaderSignal } from './leader.js'

export function mountEtcdPeerRoute(app: Hono, deps: EtcdDeps): void {
  const calls = forwardableCalls(deps)
  const identity = { secret: deps.secret, clusterId: deps.clusterId }
  app.post('/peer/etcd/:service/:method', async (c) => {
    const forwarded = forwardedOf(c, deps.node, identity)
    if (forwarded === null) throw new ApiError('bad_request', 'only a member forwards etcd calls here')
    const service = c.req.param('service')
    const method = c.req.param('method')
    const name = callName(service as EtcdServiceName, method)
    const run = calls[name]
    if (!(etcdServiceNames as readonly string[]).includes(service) || run === undefined) throw new ApiError('not_found', `${name} is not forwarded`)
    const body = await readBoundedBody(c, limits.etcdRequestBytesMax, `etcd requests are limited to ${limits.etcdRequestBytesMax} bytes`)
    const definition = methodDefinition(service as EtcdServiceName, method)
    try {
      const decoded = safeDecoder(definition)(Buffer.from(body))
      if (!decoded.ok) throw new EtcdError('bad_request', `undecodable ${name} request: ${decoded.error}`)
      const response = await run(decoded.message, { forwarded, clientDeadline: Number.POSITIVE_INFINITY, requestBytes: body })
      return c.body(new Uint8Array(definition.responseSerialize(response)), 200, { 'content-type': 'application/x-protobuf' })
    } catch (error) {
      if (error instanceof NotLeaderSignal) return notLeaderAnswer(c, error.leader)
      if (!(error instanceof EtcdError)) throw error
      return c.body(null, 200, { [etcdAnswerHeaders.error]: error.code, [etcdAnswerHeaders.message]: encodeURIComponent(error.message) })
    }
  })
}
