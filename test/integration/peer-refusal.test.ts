/**
 * Goal: a node its peers refuse says so, and so do they: a wrong secret is a clear warning at
 * both ends (rate-limited), not a silent metric and a candidate campaigning forever.
 * Method: a real 3-node cluster; node 3 restarted with another secret; the nodes' JSON logs.
 */
import { describe, expect, it } from 'vitest'
import { clusterPerTest, waitFor } from './harness.js'

const startCluster = clusterPerTest()

describe('peer refusals', () => {
  it('a node started with the wrong secret is refused, and both ends say so in their logs', async () => {
    const cluster = await startCluster()
    await cluster.kill(3)
    const args = cluster.serveArgs(3)
    args[args.indexOf('--secret') + 1] = 'not-the-cluster-secret'
    cluster.startNode(3, args)
    await waitFor('node 3 to log that its peers refuse it', async () => (/node [12] refuses this node's messages \(401\): missing or wrong cluster secret/.test(cluster.stdout.get(3) ?? '') ? true : null))
    await waitFor('a peer to log that it refused node 3', async () => ([1, 2].some((id) => /refused peer messages from node 3 \(127\.0\.0\.1:\d+\): missing or wrong cluster secret/.test(cluster.stdout.get(id) ?? '')) ? true : null))
    // Rate-limited: one line per peer and reason, however often the stream is retried.
    const refusals = (cluster.stdout.get(3) ?? '').split('\n').filter((line) => line.includes('refuses this node'))
    expect(refusals.length).toBeLessThanOrEqual(2)
  })
})
