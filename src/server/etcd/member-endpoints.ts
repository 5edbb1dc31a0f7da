/**
 * Where each member serves the etcd API, for Cluster.MemberList's clientURLs (clients that sync
 * their endpoint list connect there). A member says it in its GET /v1/status (`etcdUrl`); this
 * node asks its peers when listed, at most one bounded request each at a time, and keeps the
 * last answer, so a member that is down still shows where it served.
 * @module
 */
import { request } from 'undici'
import { z } from 'zod'
import type { NodeId } from '../../core/ids.js'
import { limits } from '../../core/limits.js'

const statusSchema = z.object({ etcdUrl: z.string().max(256).nullable() })

export class MemberEndpoints {
  readonly #known = new Map<NodeId, string | null>()
  readonly #asking = new Map<NodeId, Promise<void>>()

  /** The etcd endpoint of each peer, as last heard; a peer never heard from has none. */
  async endpoints(peers: ReadonlyArray<Readonly<{ id: NodeId; url: string }>>): Promise<ReadonlyMap<NodeId, string | null>> {
    await Promise.all(peers.map((peer) => this.#ask(peer.id, peer.url)))
    return new Map(peers.map((peer) => [peer.id, this.#known.get(peer.id) ?? null]))
  }

  #ask(id: NodeId, url: string): Promise<void> {
    const asking = this.#asking.get(id)
    if (asking !== undefined) return asking
    const next = this.#fetch(url)
      .then((etcdUrl) => {
        if (etcdUrl !== undefined) this.#known.set(id, etcdUrl)
      })
      .finally(() => this.#asking.delete(id))
    this.#asking.set(id, next)
    return next
  }

  /** Undefined when the peer did not answer (down, slow, not a paxos-kv node). */
  async #fetch(url: string): Promise<string | null | undefined> {
    try {
      const timeoutMs = limits.etcdPeerStatusTimeoutMs
      const response = await request(`${url}/v1/status`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
      const text = await response.body.text()
      if (response.statusCode !== 200 || text.length > 64 * 1024) return undefined
      const parsed = statusSchema.safeParse(JSON.parse(text))
      return parsed.success ? parsed.data.etcdUrl : undefined
    } catch {
      return undefined
    }
  }
}
