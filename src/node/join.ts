/**
 * serve --join URL: a node added with `paxos-kv member add` learns the cluster from any current
 * member: the members (it must be one of them) and the cluster id. It asks until a member
 * answers; it starts as the learner (or voter) the configuration names, never from a guess.
 * @module
 */
import { request } from 'undici'
import { z } from 'zod'
import { nodeId, slot, type NodeId } from '../core/ids.js'
import { limits } from '../core/limits.js'
import type { ChosenConfig } from '../core/configuration.js'
import type { Config } from '../config/config.js'
import type { Logger } from '../observability/logger.js'
import { RateLimit } from '../observability/rate-limit.js'
import { askIdentity } from '../transport/peer-identity.js'
import { SystemClock } from './clock.js'

export type JoinOutcome =
  | Readonly<{ type: 'joined'; clusterId: string; configuration: ChosenConfig }>
  | Readonly<{ type: 'refused'; reason: string }>
  | Readonly<{ type: 'stopped' }>

const membersSchema = z.object({
  members: z.array(z.object({
    id: z.number().int().min(1).max(limits.nodesMax),
    url: z.string().url().max(limits.memberUrlBytesMax),
    role: z.enum(['voter', 'learner']),
  })).min(1).max(limits.nodesMax),
  configSlot: z.number().int().min(0),
})

const askTimeoutMs = 2000
const retryMs = 500

type Asked = Readonly<{ type: 'answer'; configuration: ChosenConfig; clusterId: string }> | Readonly<{ type: 'unreachable'; reason: string }>

async function ask(url: string, self: NodeId, secret: string, signal: AbortSignal): Promise<Asked> {
  const identity = await askIdentity(url, { self, secret, timeoutMs: askTimeoutMs, signal })
  if (identity.type !== 'answer') return { type: 'unreachable', reason: identity.reason }
  if (identity.answer.clusterId === null) return { type: 'unreachable', reason: 'it is still starting (no cluster id yet)' }
  try {
    const response = await request(new URL('/v1/members', url), { method: 'GET', headersTimeout: askTimeoutMs, bodyTimeout: askTimeoutMs, signal })
    const text = (await response.body.text()).slice(0, 64 * 1024)
    if (response.statusCode !== 200) return { type: 'unreachable', reason: `GET /v1/members answered ${response.statusCode}` }
    const parsed = membersSchema.safeParse(JSON.parse(text))
    if (!parsed.success) return { type: 'unreachable', reason: 'GET /v1/members answered a malformed list' }
    const members = parsed.data.members.map((member) => ({ id: nodeId(member.id), url: member.url, role: member.role }))
    return { type: 'answer', configuration: { slot: slot(parsed.data.configSlot), members }, clusterId: identity.answer.clusterId }
  } catch (error) {
    return { type: 'unreachable', reason: (error as Error).message }
  }
}

export async function joinCluster(config: Config, url: string, logger: Logger, signal: AbortSignal): Promise<JoinOutcome> {
  const clock = new SystemClock(config.tickMs)
  const waiting = new RateLimit({ intervalMs: 5000, nowMs: () => clock.nowMs() })
  for (;;) {
    if (signal.aborted) return { type: 'stopped' }
    const asked = await ask(url, config.id, config.secret, signal)
    if (asked.type === 'answer') {
      const self = asked.configuration.members.find((member) => member.id === config.id)
      if (self === undefined) {
        const ids = asked.configuration.members.map((member) => member.id).join(', ')
        return { type: 'refused', reason: `node ${config.id} is not a member of the cluster at ${url} (members ${ids}): add it first with \`paxos-kv member add ${config.id} URL --url ${url}\`` }
      }
      return { type: 'joined', clusterId: asked.clusterId, configuration: asked.configuration }
    }
    if (waiting.allow('join')) logger.warn({ join: url, reason: asked.reason }, `--join: cannot learn the cluster from ${url} yet (${asked.reason}); asking again`)
    await new Promise((resolve) => setTimeout(resolve, retryMs))
  }
}
