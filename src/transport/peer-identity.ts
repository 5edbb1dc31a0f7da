/**
 * GET /peer/identity: what a node says about itself to a node starting with an empty data
 * directory, which needs to know, before it may vote, the cluster's id and whether its peers
 * have met an earlier incarnation of it. The request carries the secret and the asker's id,
 * not a cluster id: the asker may not know it yet.
 * @module
 */
import { request } from 'undici'
import { z } from 'zod'
import type { NodeId } from '../core/ids.js'
import { peerHeaders } from './transport.js'

export const identityPath = '/peer/identity'

const clusterIdText = z.string().regex(/^[\w.-]{1,64}$/)

export const identityAnswerSchema = z.object({
  node: z.number().int().min(1),
  /** The cluster id in the answering node's data directory; null while its directory is empty. */
  clusterId: clusterIdText.nullable(),
  /**
   * A node with an empty directory and no --cluster-id offers this one for a new cluster (the
   * lowest member's offer is taken); null once it has a cluster id.
   */
  candidateClusterId: clusterIdText.nullable(),
  /** The incarnation the answering node has recorded for the asker, or null if it never met it. */
  knowsAsker: z.string().min(1).max(64).nullable(),
}).strict()

export type IdentityAnswer = z.infer<typeof identityAnswerSchema>

export type IdentityReply = Readonly<{ type: 'answer'; answer: IdentityAnswer }> | Readonly<{ type: 'unreachable'; reason: string }>

/** Asks one peer; never throws. */
export async function askIdentity(url: string, options: Readonly<{ self: NodeId; secret: string; timeoutMs: number; signal?: AbortSignal }>): Promise<IdentityReply> {
  try {
    const response = await request(new URL(identityPath, url), {
      method: 'GET',
      headers: { [peerHeaders.secret]: options.secret, [peerHeaders.node]: String(options.self) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    const text = (await response.body.text()).slice(0, 4096)
    if (response.statusCode !== 200) return { type: 'unreachable', reason: `answered ${response.statusCode}: ${messageIn(text)}` }
    const parsed = identityAnswerSchema.safeParse(JSON.parse(text))
    if (!parsed.success) return { type: 'unreachable', reason: 'answered with a malformed identity' }
    return { type: 'answer', answer: parsed.data }
  } catch (error) {
    return { type: 'unreachable', reason: (error as Error).message }
  }
}

function messageIn(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message
    if (typeof message === 'string') return message
  } catch {
    // not JSON
  }
  return text.slice(0, 200)
}
