/**
 * The app over a FakeNode, as the route tests build it, and a real HTTP server in front of one
 * (the leader a follower forwards to).
 */
import { serve } from '@hono/node-server'
import { nodeId } from '../../src/core/index.js'
import type { KvStateMachineOptions } from '../../src/kv/kv-state-machine.js'
import { createApp } from '../../src/server/app.js'
import { FakeNode } from './fake-node.js'
import { PeerCodec } from '../../src/transport/codec.js'
import { writeCommandSchema } from '../../src/kv/command-codec.js'

export const peer = { 'x-paxos-secret': 'route-secret', 'x-paxos-cluster': 'c1' }

export function setup(requestTimeoutMs = 300, options: KvStateMachineOptions = {}) {
  const node = new FakeNode(options)
  const app = createApp({ peerCodec: new PeerCodec(writeCommandSchema), 
    node, secret: 'route-secret', clusterId: 'c1', members: new Set([nodeId(1), nodeId(2)]),
    requestTimeoutMs, valueBytesMax: 1024 * 1024, onFatal: () => {},
  })
  return { node, app }
}

/** Serves `app` on 127.0.0.1; `seen` gets every request it receives. Resolves with the URL and a closer. */
export async function listen(app: ReturnType<typeof setup>['app'], seen: (request: Request) => void = () => {}): Promise<{ url: string; close: () => void }> {
  const server = serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => {
    seen(request)
    return app.fetch(request)
  } })
  await new Promise((resolve) => server.once('listening', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() }
}
