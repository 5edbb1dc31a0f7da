/**
 * Goal: writes made on any node are visible through every node, and a node that was down while
 * writes happened catches up after it restarts. Method: a real 3-node cluster on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest'
import { get, put, putEventually, waitFor, clusterPerTest } from './harness.js'

const startCluster = clusterPerTest()

describe('replication', () => {
  it('a PUT on a follower is readable at once (linearizable GET) on every node', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const follower = cluster.ids.find((id) => id !== leader)!
    const response = await put(cluster.url(follower), 'greeting', 'hello')
    expect(response.status).toBe(200)
    const { version } = (await response.json()) as { version: number }
    expect(version).toBe(1)
    for (const id of cluster.ids) {
      const read = await get(cluster.url(id), 'greeting')
      expect(read.status).toBe(200)
      expect(await read.text()).toBe('hello')
      expect(read.headers.get('x-version')).toBe('1')
    }
  })

  it('a node that was down while writes happened catches up after restart', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const lagging = cluster.ids.find((id) => id !== leader)!
    await cluster.kill(lagging)
    for (let index = 0; index < 30; index += 1) await putEventually(cluster.url(leader), `missed/${index}`, `v${index}`)
    await cluster.restart(lagging)
    const caughtUp = await waitFor('the restarted node to apply every write', async () => {
      const read = await get(cluster.url(lagging), 'missed/29', '?consistency=stale')
      return read.status === 200 ? await read.text() : null
    })
    expect(caughtUp).toBe('v29')
    const statuses = await Promise.all(cluster.ids.map((id) => cluster.status(id)))
    const revisions = new Set(statuses.map((status) => status?.revision))
    expect(revisions).toEqual(new Set([30]))
  })

  it('a node stopped with SIGTERM exits cleanly while its peers keep their streams open', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    await putEventually(cluster.url(leader), 'before-stop', '1')
    const stopping = cluster.ids.find((id) => id !== leader)!
    expect(await cluster.terminate(stopping)).toBe(0)
    const written = await putEventually(cluster.url(leader), 'after-stop', '2')
    expect(written.version).toBe(2)
  })
})
