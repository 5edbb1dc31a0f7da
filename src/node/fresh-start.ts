/**
 * A node whose data directory is empty asks every peer who it is before it writes anything
 * (the rule and the safety argument: fresh-start-decision.ts). Meanwhile it listens on its own
 * port with the starting app, so peers starting at the same moment can ask it too.
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { NodeId } from '../core/ids.js'
import type { Config } from '../config/config.js'
import type { Logger } from '../observability/logger.js'
import { RateLimit } from '../observability/rate-limit.js'
import { createStartingApp } from '../server/starting-app.js'
import { askIdentity, type IdentityAnswer } from '../transport/peer-identity.js'
import { SystemClock } from './clock.js'
import { decideFreshStart, type FreshStartDecision } from './fresh-start-decision.js'
import { ListenError } from './listen-error.js'

export type FreshStartOutcome = Exclude<FreshStartDecision, { type: 'wait' }> | Readonly<{ type: 'stopped' }>

const askTimeoutMs = 1000
const retryMs = 250
/** How often the node says which peers it still waits for. */
const waitingReportMs = 5000

export async function awaitFreshStart(config: Config, logger: Logger, signal: AbortSignal): Promise<FreshStartOutcome> {
  const candidate = config.clusterId ?? `pkv-${randomBytes(6).toString('hex')}`
  const offer: IdentityAnswer = { node: config.id, clusterId: null, candidateClusterId: candidate, knowsAsker: null }
  const server = await listen(config, createStartingApp({ secret: config.secret, identity: () => offer }))
  try {
    return await askUntilDecided(config, candidate, logger, signal)
  } finally {
    // Running peers keep streams open to this port (answered 503): close them too, or close()
    // would wait for them.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    if ('closeAllConnections' in server) server.closeAllConnections()
    await closed
  }
}

async function askUntilDecided(config: Config, candidate: string, logger: Logger, signal: AbortSignal): Promise<FreshStartOutcome> {
  const clock = new SystemClock(config.tickMs)
  const waiting = new RateLimit({ intervalMs: waitingReportMs, nowMs: () => clock.nowMs() })
  const peers = config.members.filter((member) => member.id !== config.id)
  const answers = new Map<NodeId, IdentityAnswer>()
  const unreachable = new Map<NodeId, string>()
  for (;;) {
    if (signal.aborted) return { type: 'stopped' }
    await Promise.all(peers.filter((peer) => !answers.has(peer.id)).map(async (peer) => {
      const reply = await askIdentity(peer.url, { self: config.id, secret: config.secret, timeoutMs: askTimeoutMs, signal })
      if (reply.type === 'answer' && reply.answer.node === peer.id) answers.set(peer.id, reply.answer)
      else unreachable.set(peer.id, reply.type === 'answer' ? `it says it is node ${reply.answer.node}` : reply.reason)
    }))
    const decision = decideFreshStart({ self: config.id, peers: peers.map((peer) => peer.id), clusterIdFlag: config.clusterId, candidate, answers })
    if (decision.type !== 'wait') return decision
    if (waiting.allow('waiting')) {
      const why = decision.missing.map((id) => `node ${id} (${unreachable.get(id) ?? 'no answer'})`).join(', ')
      logger.warn({ missing: decision.missing }, `empty data directory: waiting for every member to say whether it knows node ${config.id} before voting; still waiting for ${why}`)
    }
    await new Promise((resolve) => setTimeout(resolve, retryMs))
  }
}

function listen(config: Config, app: ReturnType<typeof createStartingApp>): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (_info: AddressInfo) => resolve(server))
    server.once('error', (error) => reject(new ListenError('--port', config.host, config.port, error)))
  })
}
