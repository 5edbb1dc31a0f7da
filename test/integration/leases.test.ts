/**
 * Goal: leases through real processes: a lease whose client stops its keepalives loses its keys
 * (deleted in one revision, seen by a watcher), while one kept alive through a follower keeps
 * them, also across kill -9 of the leader (the new leader restarts every countdown at the full
 * TTL, and keepalives reach it from any node).
 * Method: a real 3-node cluster on 127.0.0.1 with 2 s leases; conditions polled, never slept on.
 */
import { describe, expect, it } from 'vitest'
import { clusterPerTest, get, waitFor } from './harness.js'

const startCluster = clusterPerTest()

async function call(url: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  return { status: response.status, body: text === '' ? null : JSON.parse(text) }
}

describe('leases on a real cluster', () => {
  it('an abandoned lease loses its keys; one kept alive keeps them across kill -9 of the leader', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const followers = cluster.ids.filter((id) => id !== leader)
    const grant = () => waitFor('a lease grant', async () => {
      const answer = await call(cluster.url(followers[0]!), '/v1/leases', { method: 'POST', body: JSON.stringify({ ttlSeconds: 2 }) })
      return answer.status === 200 ? (answer.body as { id: string }).id : null
    })
    const abandoned = await grant()
    const kept = await grant()
    for (const [key, lease] of [['svc/abandoned', abandoned], ['svc/kept', kept]] as const) {
      await waitFor(`PUT ${key}`, async () => ((await call(cluster.url(followers[1]!), `/v1/kv/${key}?lease=${lease}`, { method: 'PUT', body: 'up' })).status === 200 ? true : null))
    }
    let keeping = true
    let keptAlive = 0
    const keepalive = (async () => {
      for (let turn = 0; keeping; turn += 1) {
        const node = cluster.ids[turn % cluster.ids.length]!
        const answer = await call(cluster.url(node), `/v1/leases/${kept}/keepalive`, { method: 'POST' }).catch(() => null)
        if (answer?.status === 200) keptAlive += 1
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
    })()
    try {
      await waitFor('some keepalives to be answered', async () => (keptAlive >= 2 ? true : null))
      await cluster.kill(leader)
      const survivor = followers[0]!
      await waitFor('the abandoned lease\'s key to be deleted', async () => ((await get(cluster.url(survivor), 'svc/abandoned')).status === 404 ? true : null), 30_000)
      const abandonedLease = await call(cluster.url(survivor), `/v1/leases/${abandoned}`)
      expect(abandonedLease.status).toBe(404)
      const keptKey = await get(cluster.url(survivor), 'svc/kept')
      expect(keptKey.status).toBe(200)
      expect(keptKey.headers.get('x-lease')).toBe(kept)
      const keptLease = await call(cluster.url(survivor), `/v1/leases/${kept}`)
      expect(keptLease).toMatchObject({ status: 200, body: { id: kept, ttlSeconds: 2, keys: ['svc/kept'] } })
    } finally {
      keeping = false
      await keepalive
    }
    // Stopped, the kept lease ends too.
    await waitFor('the kept lease to expire once its keepalives stop', async () => ((await get(cluster.url(followers[0]!), 'svc/kept')).status === 404 ? true : null), 30_000)
  })
})
