/**
 * Goal: when the leader is killed with SIGKILL another node takes over and writes succeed
 * again, and a write retried with the same Idempotency-Key after the kill is applied once.
 * Method: a real 3-node cluster; bounded waits, no timing assertions (speed is in the bench).
 */
import { describe, expect, it } from 'vitest'
import { get, put, putEventually, clusterPerTest } from './harness.js'

const startCluster = clusterPerTest()

describe('failover', () => {
  it('after kill -9 of the leader another node leads and writes succeed', async () => {
    const cluster = await startCluster()
    const first = await cluster.leader()
    await putEventually(cluster.url(first), 'before', '1')
    await cluster.kill(first)
    const survivors = cluster.ids.filter((id) => id !== first)
    const second = await cluster.leader(survivors)
    expect(second).not.toBe(first)
    const written = await putEventually(cluster.url(survivors[0]!), 'after', '2')
    expect(written.version).toBe(2)
    const read = await get(cluster.url(survivors[1]!), 'before')
    expect(await read.text()).toBe('1')
  })

  it('a retried write with the same Idempotency-Key after a leader kill is applied once', async () => {
    const cluster = await startCluster()
    const leader = await cluster.leader()
    const headers = { 'idempotency-key': 'transfer-42' }
    const first = await put(cluster.url(leader), 'balance', '100', headers)
    expect(first.status).toBe(200)
    const firstBody = (await first.json()) as { version: number }
    await cluster.kill(leader)
    const survivor = cluster.ids.find((id) => id !== leader)!
    // The client did not see the answer, say, and retries elsewhere with the same key.
    const retried = await putEventually(cluster.url(survivor), 'balance', '100', headers)
    expect(retried).toEqual(firstBody)
    const status = await cluster.status(survivor)
    expect(status?.revision).toBe(firstBody.version)
    const read = await get(cluster.url(survivor), 'balance')
    expect(read.headers.get('x-version')).toBe(String(firstBody.version))
  })

  it('a 5-node cluster survives kill -9 of the leader and one more node', async () => {
    const cluster = await startCluster(5)
    const leader = await cluster.leader()
    const acknowledged = await Promise.all([1, 2, 3, 4, 5].map((id) => putEventually(cluster.url(id), `five/${id}`, `v${id}`)))
    const other = cluster.ids.find((id) => id !== leader)!
    await cluster.kill(leader)
    await cluster.kill(other)
    const survivors = cluster.ids.filter((id) => id !== leader && id !== other)
    await cluster.leader(survivors)
    const after = await putEventually(cluster.url(survivors[0]!), 'five/after', 'x')
    expect(after.version).toBe(6)
    for (const [index, { version }] of acknowledged.entries()) {
      const read = await get(cluster.url(survivors[2]!), `five/${index + 1}`)
      expect(await read.text()).toBe(`v${index + 1}`)
      expect(read.headers.get('x-version')).toBe(String(version))
    }
  })
})
