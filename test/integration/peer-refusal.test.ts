/**
 * Goal: a node its peers refuse says so, and so do they: a wrong secret, a node nobody lists
 * as a member, and a node of another cluster are each a clear warning at both ends, naming the
 * peer and the reason (rate-limited: one line per peer and reason however often the stream is
 * retried), not a silent metric and a candidate campaigning forever.
 * Method: a real 3-node cluster; node 3 restarted with another secret; a node 4 that lists
 * itself but nobody lists, and a node 5 of another cluster id; the nodes' JSON logs (warn).
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliPath, clusterPerTest, freePort, sample, secret, waitFor, type TestCluster } from './harness.js'

const startCluster = clusterPerTest()

const logOf = (cluster: TestCluster, id: number): string => cluster.stdout.get(id) ?? ''
const linesOf = (cluster: TestCluster, id: number, pattern: RegExp): string[] => logOf(cluster, id).split('\n').filter((line) => pattern.test(line))

/** A node outside the member list the others were started with. */
async function outsider(cluster: TestCluster, id: number, extra: readonly string[] = []): Promise<void> {
  const port = await freePort()
  const spec = `${cluster.spec()},${id}=http://127.0.0.1:${port}`
  cluster.startNode(id, [cliPath, 'serve', '--id', String(id), '--port', String(port), '--data', join(cluster.dataRoot, String(id)), '--cluster', spec, '--secret', secret, ...extra])
}

/** Streams the members refused with `status`, summed over members 1 to 3. */
async function refusedStreams(cluster: TestCluster, status: number): Promise<number> {
  const texts = await Promise.all([1, 2, 3].map(async (id) => (await fetch(`${cluster.url(id)}/metrics`)).text()))
  return texts.reduce((sum, text) => sum + (sample(text, `paxos_kv_http_requests_total{route="/peer/stream",method="POST",status="${status}"}`) ?? 0), 0)
}

describe('peer refusals', () => {
  it('a node started with the wrong secret is refused, and both ends say so in their logs', async () => {
    const cluster = await startCluster()
    await cluster.kill(3)
    const args = cluster.serveArgs(3)
    args[args.indexOf('--secret') + 1] = 'not-the-cluster-secret'
    cluster.startNode(3, args)
    await waitFor('node 3 to log that its peers refuse it', async () => (/node [12] refuses this node's messages \(401\): missing or wrong cluster secret; check --secret/.test(logOf(cluster, 3)) ? true : null))
    await waitFor('a peer to log that it refused node 3', async () => ([1, 2].some((id) => /refused peer messages from node 3 \(127\.0\.0\.1:\d+\): missing or wrong cluster secret/.test(logOf(cluster, id))) ? true : null))
    // Rate-limited: one line per peer and reason, however often the stream is retried.
    expect(linesOf(cluster, 3, /refuses this node/).length).toBeLessThanOrEqual(2)
  })

  it('a node nobody lists, and a node of another cluster, are refused; both ends name the peer and the reason, once', async () => {
    const cluster = await startCluster()
    await Promise.all([outsider(cluster, 4), outsider(cluster, 5, ['--cluster-id', 'other-cluster'])])
    await waitFor('node 4 to log that the members refuse it', async () => (/node [123] refuses this node's messages \(403\): node 4 is not a member of this cluster \(members 1, 2, 3\); this node is not in that node's member list/.test(logOf(cluster, 4)) ? true : null))
    await waitFor('node 5 to log that the members refuse it', async () => (/node [123] refuses this node's messages \(401\): wrong cluster id: the request is for cluster \\"other-cluster\\", this node belongs to cluster pkv-[0-9a-f]{12}/.test(logOf(cluster, 5)) ? true : null))
    // Many retries later (both kinds of refusal counted by the members), still one line each.
    await waitFor('the members to refuse 10 streams of each', async () => ((await refusedStreams(cluster, 403)) >= 10 && (await refusedStreams(cluster, 401)) >= 10 ? true : null), 60_000)
    for (const member of [1, 2, 3]) {
      expect(linesOf(cluster, member, /refused peer messages from node 4 \(127\.0\.0\.1:\d+\): node 4 is not a member/)).toHaveLength(1)
      expect(linesOf(cluster, member, /refused peer messages from node 5 \(127\.0\.0\.1:\d+\): wrong cluster id/)).toHaveLength(1)
    }
    expect(linesOf(cluster, 4, /refuses this node/).length).toBeLessThanOrEqual(3)
    // The members were not disturbed: they still have one leader among themselves.
    expect(await cluster.leader()).toBeGreaterThanOrEqual(1)
  }, 90_000)
})
