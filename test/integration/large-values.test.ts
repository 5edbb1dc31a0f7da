/**
 * Goal: values at the maximum size (1 MiB) never take the cluster down. 24 and then 64
 * concurrent 1 MiB PUTs, a kill -9 of the leader in the middle of the second burst, then a
 * restart of every node on its data: no node exits, a leader is back within seconds after each
 * step, no peer message is ever too large to send, and every acknowledged value reads back
 * byte for byte. (Before Phase 1 was paged, such a burst crashed two nodes with a RangeError
 * and left the rest campaigning forever, also after a restart.)
 * Method: a real 3-node cluster with the default settings; writers retry a key with the same
 * value until it is acknowledged or the burst ends, so any version of a key holds that key's
 * value. It moves about 100 MiB through the cluster (half a minute on an idle 2-core machine).
 * The first burst has no fault in it, so it must not cost the leader its leadership: a node
 * busy parsing and syncing several MiB of accepts once counted its own stall as its peers'
 * silence, and a 64-value burst then went through a dozen elections.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { clusterPerTest, waitFor, type TestCluster } from './harness.js'

const startCluster = clusterPerTest()
const valueBytes = 1024 * 1024
/** "Within seconds": generous, because CI machines are shared; the wait ends as soon as it holds. */
const leaderWithinMs = 15_000

async function putOnce(url: string, key: string, value: Buffer): Promise<number> {
  try {
    const response = await fetch(`${url}/v1/kv/${key}`, { method: 'PUT', body: value, signal: AbortSignal.timeout(20_000) })
    await response.arrayBuffer()
    return response.status
  } catch {
    return 0 // a killed node or a timeout: the outcome is unknown, the retry carries the same value
  }
}

/** Writes every value concurrently, each retried (on any node) until acknowledged or the deadline. */
async function burst(cluster: TestCluster, values: Map<string, Buffer>, acknowledged: Map<string, Buffer>, deadlineMs: number): Promise<void> {
  await Promise.all([...values].map(async ([key, value], index) => {
    for (let attempt = 0; Date.now() < deadlineMs; attempt += 1) {
      const id = cluster.ids[(index + attempt) % cluster.ids.length]!
      if ((await putOnce(cluster.url(id), key, value)) === 200) return void acknowledged.set(key, value)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }))
}

function values(prefix: string, count: number): Map<string, Buffer> {
  return new Map(Array.from({ length: count }, (_, index) => [`${prefix}/${index}`, randomBytes(valueBytes)]))
}

async function leaderSoon(cluster: TestCluster, step: string): Promise<number> {
  return waitFor(`a leader after ${step}`, async () => {
    const statuses = await Promise.all(cluster.ids.map((id) => cluster.status(id)))
    const leaders = statuses.filter((status) => status?.role === 'leader')
    return leaders.length === 1 ? leaders[0]!.id : null
  }, leaderWithinMs)
}

/** Every node still answers (a busy one may take a while): none exited. */
async function allAnswer(cluster: TestCluster, step: string): Promise<void> {
  for (const id of cluster.ids) await waitFor(`node ${id} answering after ${step}`, async () => cluster.status(id), 15_000)
}

async function oversizedMessages(cluster: TestCluster, id: number): Promise<number> {
  const text = await (await fetch(`${cluster.url(id)}/metrics`)).text()
  return Number(/^paxos_kv_peer_messages_oversized_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN)
}

describe('1 MiB values', () => {
  it('24 then 64 concurrent PUTs, a leader kill -9, a restart of all nodes: the cluster leads, and every acknowledged value reads back', async () => {
    const cluster = await startCluster()
    const acknowledged = new Map<string, Buffer>()
    const firstLeader = await leaderSoon(cluster, 'the start')
    const roundBefore = (await cluster.status(firstLeader))!.ballot.round

    await burst(cluster, values('first', 24), acknowledged, Date.now() + 90_000)
    await allAnswer(cluster, 'the first burst')
    const leader = await leaderSoon(cluster, 'the first burst')
    expect(acknowledged.size).toBe(24)
    // One election at most (a shared CI machine may stall a node for real); before the fix a
    // burst like this one went through many.
    expect((await cluster.status(leader))!.ballot.round, 'elections during a fault-free burst').toBeLessThanOrEqual(roundBefore + 1)

    const second = burst(cluster, values('second', 64), acknowledged, Date.now() + 120_000)
    const before = acknowledged.size
    await waitFor('some of the second burst acknowledged', async () => (acknowledged.size > before + 4 ? true : null), 60_000)
    await cluster.kill(leader)
    cluster.startNode(leader)
    await second
    await allAnswer(cluster, 'the second burst and the leader kill')
    await leaderSoon(cluster, 'the second burst and the leader kill')
    for (const id of cluster.ids) expect(await oversizedMessages(cluster, id)).toBe(0)

    for (const id of cluster.ids) await cluster.kill(id)
    for (const id of cluster.ids) cluster.startNode(id)
    await waitFor('every node answering after the restart', async () => ((await Promise.all(cluster.ids.map((id) => cluster.status(id)))).every((status) => status !== null) ? true : null))
    await leaderSoon(cluster, 'the restart of all nodes')

    expect(acknowledged.size).toBeGreaterThan(24)
    for (const [key, value] of acknowledged) {
      const read = await waitFor(`GET ${key}`, async () => {
        const response = await fetch(`${cluster.url(1)}/v1/kv/${key}`, { signal: AbortSignal.timeout(20_000) }).catch(() => null)
        return response?.status === 200 ? Buffer.from(await response.arrayBuffer()) : null
      }, 30_000)
      expect(read.equals(value), `${key} reads back byte for byte`).toBe(true)
    }
    await allAnswer(cluster, 'the reads')
  }, 420_000)
})
