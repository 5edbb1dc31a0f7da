/**
 * Goal: a data directory knows its cluster: the members of a new cluster agree on one random
 * cluster id, stored in each directory and kept across restarts (not derived from the member
 * list). A member whose data directory was wiped is refused at start (exit 2, one line telling
 * the operator what to do) because its peers know an earlier incarnation of it, and it never
 * votes; the others keep serving.
 * Method: a real 3-node cluster started without --cluster-id; node 3's directory deleted.
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { clusterPerTest, get, put, waitFor } from './harness.js'

const startCluster = clusterPerTest()

function serveExit(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error' } })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('exit', (code) => resolve({ code, stderr }))
  })
}

describe('data-directory identity', () => {
  it('a new cluster agrees on one random cluster id, kept across a restart', async () => {
    const cluster = await startCluster()
    const ids = await Promise.all(cluster.ids.map(async (id) => (await cluster.identity(id, id === 1 ? 2 : 1)).clusterId))
    expect(new Set(ids).size).toBe(1)
    expect(ids[0]).toMatch(/^pkv-[0-9a-f]{12}$/)
    await cluster.restart(2)
    expect((await cluster.identity(2, 1)).clusterId).toBe(ids[0])
    // Each follower answers the leader's heartbeats, so the leader records its incarnation (a
    // follower elected a new leader over may not have sent it anything yet: wait for it).
    const known = await waitFor('the leader to know both followers', async () => {
      const leader = await cluster.leader()
      const followers = cluster.ids.filter((id) => id !== leader)
      const incarnations = await Promise.all(followers.map(async (asker) => (await cluster.identity(leader, asker)).knowsAsker))
      return incarnations.every((incarnation) => incarnation !== null) ? incarnations : null
    })
    for (const incarnation of known) expect(incarnation).toMatch(/^[0-9a-f]{16}$/)
    expect(known[0]).not.toBe(known[1])
  })

  it('a member whose data directory was wiped is refused at start with exit 2, and the cluster carries on', async () => {
    const cluster = await startCluster()
    expect((await put(cluster.url(1), 'before-wipe', 'v')).status).toBe(200)
    await cluster.kill(3)
    const dataDir = join(cluster.dataRoot, '3')
    rmSync(dataDir, { recursive: true, force: true })
    const refused = await serveExit(cluster.serveArgs(3))
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toMatch(/node [12] already knows node 3 \(incarnation [0-9a-f]{16}\), but this data directory is empty/)
    expect(refused.stderr).toMatch(/paxos-kv member remove 3\) and add it again, or start it with --join URL/)
    // Nothing was written for the refused node: its directory is still empty or absent.
    expect(existsSync(dataDir) ? readdirSync(dataDir) : []).toEqual([])
    expect((await put(cluster.url(2), 'after-wipe', 'w')).status).toBe(200)
    expect(await (await get(cluster.url(1), 'after-wipe')).text()).toBe('w')
  })
})
