/**
 * Failover under load: writers keep PUTting through a surviving node while the leader is
 * killed with SIGKILL; the figure is the time from the kill to the first successful write
 * that was started after it.
 */
import { put, waitForLeader } from './cluster-client.js'
import type { LocalCluster } from './local-cluster.js'

export type FailoverResult = { killedNode: number; newLeader: number; msToFirstWrite: number; failedWrites: number }

export async function runFailover(cluster: LocalCluster, writers = 16): Promise<FailoverResult> {
  const urls = cluster.nodes.map((node) => node.url)
  const leaderIndex = await waitForLeader(urls)
  const killed = cluster.nodes[leaderIndex]!
  const survivor = cluster.nodes.find((node) => node !== killed)!
  let stop = false
  let killedAt = Number.POSITIVE_INFINITY
  let firstWriteAt = Number.POSITIVE_INFINITY
  let failedWrites = 0
  let counter = 0
  const writer = async (): Promise<void> => {
    while (!stop) {
      counter += 1
      const startedAt = performance.now()
      const status = await put(survivor.url, `bench/failover/${counter}`, 'x'.repeat(100), 5000)
      if (status === 200 && startedAt >= killedAt) firstWriteAt = Math.min(firstWriteAt, performance.now())
      if (status !== 200) failedWrites += 1
      if (firstWriteAt !== Number.POSITIVE_INFINITY) stop = true
    }
  }
  const running = Array.from({ length: writers }, () => writer())
  await new Promise((resolve) => setTimeout(resolve, 2000)) // steady load before the kill
  killedAt = performance.now()
  cluster.kill(killed.id)
  const guard = setTimeout(() => (stop = true), 30_000)
  await Promise.all(running)
  clearTimeout(guard)
  const remaining = urls.filter((url) => url !== killed.url)
  const newLeaderIndex = await waitForLeader(remaining)
  const newLeader = cluster.nodes.find((node) => node.url === remaining[newLeaderIndex])!
  return {
    killedNode: killed.id,
    newLeader: newLeader.id,
    msToFirstWrite: Math.round(firstWriteAt - killedAt),
    failedWrites,
  }
}
