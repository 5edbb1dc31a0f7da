/**
 * Goal: every acknowledged write survives kill -9 of all nodes, also when the kills land under
 * concurrent load (acceptor replies leave only after the group-commit fsync); without a quorum,
 * writes and linearizable reads answer 503 within the timeout instead of returning anything
 * stale. Method: a real 3-node cluster with fsync on; a short --request-timeout-ms for the 503
 * case.
 */
import { describe, expect, it } from 'vitest'
import { get, put, putEventually, waitFor, clusterPerTest } from './harness.js'

const startCluster = clusterPerTest()

/** A GET retried until it is served (200): right after a restart the cluster may not lead yet. */
function servedRead(url: string, key: string): Promise<Response> {
  return waitFor(`GET ${key}`, async () => {
    const response = await get(url, key)
    return response.status === 200 ? response : null
  })
}

describe('durability', () => {
  it('kill -9 of every node, restart: every acknowledged write is there with its version', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const acknowledged = new Map<string, { value: string; version: number }>()
    await Promise.all(Array.from({ length: 40 }, async (_, index) => {
      const key = `durable/${index}`
      const { version } = await putEventually(cluster.url(cluster.ids[index % 3]!), key, `value-${index}`)
      acknowledged.set(key, { value: `value-${index}`, version })
    }))
    expect(leader).toBeGreaterThan(0)
    for (const id of cluster.ids) await cluster.kill(id)
    for (const id of cluster.ids) cluster.startNode(id)
    await cluster.leader()
    for (const [key, expected] of acknowledged) {
      const read = await servedRead(cluster.url(1), key)
      expect(await read.text()).toBe(expected.value)
      expect(read.headers.get('x-version')).toBe(String(expected.version))
    }
  })

  it('under 16 concurrent writers, kill -9 of the leader, of a follower, then of every node: every acknowledged write is there', async () => {
    const cluster = await startCluster()
    const acknowledged = new Map<string, string>()
    let writing = true
    const writer = async (id: number): Promise<void> => {
      for (let count = 0; writing; count += 1) {
        const key = `load/${id}/${count}`
        const value = `${id}-${count}`
        try {
          // Spread over the nodes: some die under us, and followers forward to the leader.
          const response = await fetch(`${cluster.url(cluster.ids[count % 3]!)}/v1/kv/${key}`, { method: 'PUT', body: value, signal: AbortSignal.timeout(3000) })
          if (response.status === 200) acknowledged.set(key, value)
          else await response.arrayBuffer()
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20)) // a killed node: its outcome is unknown
        }
      }
    }
    const writers = Array.from({ length: 16 }, (_, id) => writer(id))
    // Each step waits for more writes to be acknowledged rather than for a fixed time, so the
    // kills land under load however fast or slow the machine is.
    const moreAcknowledged = async (count: number): Promise<void> => {
      const target = acknowledged.size + count
      await waitFor(`${target} acknowledged writes`, async () => (acknowledged.size >= target ? true : null), 30_000)
    }
    await moreAcknowledged(40)
    const leader = await cluster.leader()
    await cluster.kill(leader)
    await moreAcknowledged(30)
    cluster.startNode(leader)
    const follower = cluster.ids.find((id) => id !== leader && id !== 1) ?? cluster.ids.find((id) => id !== leader)!
    await cluster.kill(follower)
    await moreAcknowledged(30)
    cluster.startNode(follower)
    await moreAcknowledged(30)
    for (const id of cluster.ids) await cluster.kill(id)
    writing = false
    await Promise.all(writers)
    expect(acknowledged.size).toBeGreaterThan(100)
    for (const id of cluster.ids) cluster.startNode(id)
    await cluster.leader()
    for (const [key, value] of acknowledged) {
      const read = await servedRead(cluster.url(1), key)
      expect(await read.text()).toBe(value)
    }
  }, 60_000)

  it('with two of three nodes down, a write answers 503 and a linearizable GET returns nothing stale', async () => {
    const cluster = await startCluster(3, ['--request-timeout-ms', '1500'])
    const leader = await cluster.leader()
    await putEventually(cluster.url(leader), 'k', 'old')
    const survivor = cluster.ids.find((id) => id !== leader)!
    await waitFor('the survivor to apply the write', async () => ((await get(cluster.url(survivor), 'k', '?consistency=stale')).status === 200 ? true : null))
    for (const id of cluster.ids) if (id !== survivor) await cluster.kill(id)
    const write = await put(cluster.url(survivor), 'k', 'new')
    expect(write.status).toBe(503)
    expect(write.headers.get('retry-after')).not.toBeNull()
    expect(((await write.json()) as { error: string }).error).toBe('unavailable')
    const read = await get(cluster.url(survivor), 'k')
    expect(read.status).toBe(503)
    // The stale read still serves the local replica, explicitly.
    const stale = await get(cluster.url(survivor), 'k', '?consistency=stale')
    expect(stale.status).toBe(200)
  })
})
